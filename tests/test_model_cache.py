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


def test_a_replaced_file_is_read_again_in_place_of_its_old_version(tmp_path, loads):
    import os

    a = tmp_path / "a.safetensors"
    a.write_bytes(b"x")
    cache = ModelCache()
    first = cache.get(str(a))
    a.write_bytes(b"xx")                       # replaced: new size
    os.utime(a, ns=(1, 1))
    assert cache.get(str(a)) is not first
    assert cache.paths() == [str(a)] and loads == [str(a)] * 2
    with pytest.raises(FileNotFoundError):
        cache.get(str(tmp_path / "gone.safetensors"))


def test_switching_between_two_models_loads_each_once_and_a_third_drops_the_oldest(
        tmp_path, loads):
    a, b, c = (str(tmp_path / f"{n}.safetensors") for n in "abc")
    for path in (a, b, c):
        open(path, "wb").write(b"x")
    cache = ModelCache(keep=2)
    got_a, got_b = cache.get(a), cache.get(b)
    for _ in range(3):                         # Generate with one model, then the other
        assert cache.get(a) is got_a and cache.get(b) is got_b
    assert loads == [a, b]
    cache.get(a)                               # a used last: b is the oldest now
    cache.get(c)
    assert cache.paths() == [a, c] and loads == [a, b, c]
    assert cache.get(b) is not got_b and cache.paths() == [c, b]
