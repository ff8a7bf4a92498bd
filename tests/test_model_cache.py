"""The shared model cache: one load for concurrent askers, a replaced file read again."""

import threading

import pytest

from app.model_cache import ModelCache


@pytest.fixture
def loads(monkeypatch):
    import model.checkpoint

    calls = []

    def fake_load(path):
        calls.append(path)
        threading.Event().wait(0.05)   # long enough for the second asker to arrive
        return object()

    monkeypatch.setattr(model.checkpoint, "load_model", fake_load)
    return calls


def test_two_threads_asking_at_once_load_the_file_once(tmp_path, loads):
    path = tmp_path / "m.safetensors"
    path.write_bytes(b"x")
    cache, got = ModelCache(), []
    threads = [threading.Thread(target=lambda: got.append(cache.get(str(path))))
               for _ in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert loads == [str(path)] and got[0] is got[1]
    assert cache.paths() == [str(path)]


def test_a_replaced_file_is_read_again_and_only_one_model_is_kept(tmp_path, loads):
    import os

    a, b = tmp_path / "a.safetensors", tmp_path / "b.safetensors"
    a.write_bytes(b"x")
    b.write_bytes(b"y")
    cache = ModelCache()
    first = cache.get(str(a))
    a.write_bytes(b"xx")                       # replaced: new size
    os.utime(a, ns=(1, 1))
    assert cache.get(str(a)) is not first
    cache.get(str(b))
    assert cache.paths() == [str(b)]
    with pytest.raises(FileNotFoundError):
        cache.get(str(tmp_path / "gone.safetensors"))
