"""Model files: round trips, and refusal of pickles, truncated, foreign and mismatched files."""

import json
import os
import pickle
import struct

import pytest
import torch

from model.checkpoint import load_model, save_model
from model.checkpoint_meta import read_metadata
from model.config import ModelConfig, TrainConfig
from model.errors import ModelError
from model.lm import MusicLM
from model.vocab import UNKNOWN, Vocab


@pytest.fixture
def saved(tmp_path):
    torch.manual_seed(0)
    vocab = Vocab.from_text("X:1\nK:D\nABcd|\n")
    model = MusicLM(ModelConfig(embedding_size=4, hidden_size=8, num_layers=2), len(vocab))
    path = tmp_path / "m.safetensors"
    save_model(path, model, vocab, train_config=TrainConfig(seq_len=16),
               training={"corpus": "inline", "tune_count": 1, "steps": 7})
    return path, model, vocab


def test_round_trip_keeps_weights_vocab_and_metadata(saved):
    path, model, vocab = saved
    loaded = load_model(path)
    assert loaded.vocab == vocab and loaded.vocab.chars[0] == UNKNOWN
    assert loaded.model_config == model.config
    assert loaded.train_config.seq_len == 16
    assert loaded.training["steps"] == 7
    for (name, a), (_, b) in zip(model.state_dict().items(), loaded.model.state_dict().items()):
        assert torch.equal(a, b), name
    meta = read_metadata(path)
    assert meta["training"]["corpus"] == "inline" and meta["vocab"] == vocab.chars
    assert [p.name for p in path.parent.iterdir()] == ["m.safetensors"]  # no temp file left


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_a_pickle_that_runs_code_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.safetensors"
    evil.write_bytes(pickle.dumps({"state_dict": _Evil(str(marker))}))
    torch_file = tmp_path / "evil.pt"
    torch.save({"x": _Evil(str(marker))}, torch_file)
    for path in (evil, torch_file):
        with pytest.raises(ModelError, match="not a Ceol model file"):
            load_model(path)
    assert not marker.exists()


def test_truncated_file_is_refused(saved, tmp_path):
    path, _, _ = saved
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ModelError, match="truncated"):
        load_model(cut)
    cut.write_bytes(path.read_bytes()[:5])
    with pytest.raises(ModelError, match="not a Ceol model file"):
        load_model(cut)


def test_metadata_that_does_not_match_the_weights_is_refused(saved, tmp_path):
    path, _, _ = saved
    blob = path.read_bytes()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    meta = json.loads(header["__metadata__"]["ceol"])
    meta["model_config"]["hidden_size"] = 9
    header["__metadata__"]["ceol"] = json.dumps(meta)
    raw = json.dumps(header).encode()
    raw += b" " * ((8 - len(raw) % 8) % 8)
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(struct.pack("<Q", len(raw)) + raw + blob[8 + n:])
    with pytest.raises(ModelError, match="do not match the metadata"):
        load_model(bad)


def test_other_files_are_refused(tmp_path):
    from safetensors.torch import save_file

    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(2)}, foreign)
    text = tmp_path / "tunes.abc"
    text.write_text("X:1\nK:D\nABc|\n")
    with pytest.raises(ModelError, match="not a Ceol model"):
        load_model(foreign)
    with pytest.raises(ModelError, match="not a Ceol model file"):
        load_model(text)
    with pytest.raises(ModelError, match="no such model file"):
        load_model(tmp_path / "missing.safetensors")


# ---------------------------------------------------------------- hostile model files

import builtins  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import textwrap  # noqa: E402

from app.ui.model_files import read_model_info  # noqa: E402  (Qt-free: struct and json only)
from tests.fuzz.raw_model import join, split, tiny_model_bytes, with_meta  # noqa: E402

READERS = (load_model, read_metadata)


class _WritesMarker:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (builtins.open, (self.marker, "w"))


def _refused(path, match="") -> str:
    messages = []
    for reader in READERS:
        with pytest.raises(ModelError, match=match) as info:
            reader(path)
        assert str(path) in str(info.value)
        messages.append(str(info.value))
    return messages[0]


def test_torch_save_pickle_never_runs_its_code(tmp_path):
    marker = tmp_path / "marker.txt"
    for name in ("evil.pt", "evil.safetensors", "evil.ckpt"):
        path = tmp_path / name
        torch.save({"model": _WritesMarker(str(marker)), "w": torch.zeros(3)}, path)
        _refused(path, "not a Ceol model file")
        with pytest.raises(ModelError):
            read_model_info(path)
    # A pickle behind a well-formed safetensors header is never unpickled either.
    blob = tiny_model_bytes(tmp_path)
    header, body = split(blob)
    hidden = tmp_path / "hidden.safetensors"
    hidden.write_bytes(join(header, body) + pickle.dumps(_WritesMarker(str(marker))))
    _refused(hidden, "unexplained bytes")
    assert not marker.exists()
    with pytest.raises(FileNotFoundError):   # the payload does run when unpickled
        pickle.loads(pickle.dumps(_WritesMarker(str(tmp_path / "no" / "such"))))


def _lying(tmp_path, name, change):
    blob = tiny_model_bytes(tmp_path)
    header, body = split(blob)
    change(header)
    path = tmp_path / name
    path.write_bytes(join(header, body))
    return path


def _first_tensor(header):
    return header[next(k for k in header if k != "__metadata__")]


@pytest.mark.parametrize("name, change, match", [
    ("past_end", lambda h: _first_tensor(h).update(data_offsets=[0, 10 ** 12]), "does not fill"),
    ("past_end_sized", lambda h: _first_tensor(h).update(data_offsets=[0, 10 ** 12],
                                                          shape=[250_000_000_000]), "truncated"),
    ("backwards", lambda h: _first_tensor(h).update(data_offsets=[64, 8]), "data offsets"),
    ("negative", lambda h: _first_tensor(h).update(data_offsets=[-8, 8]), "data offsets"),
    ("not_ints", lambda h: _first_tensor(h).update(data_offsets=["0", "8"]), "data offsets"),
    ("one_offset", lambda h: _first_tensor(h).update(data_offsets=[0]), "data offsets"),
    ("overlapping", lambda h: [t.update(data_offsets=[0, t["data_offsets"][1] - t["data_offsets"][0]])
                               for k, t in h.items() if k != "__metadata__"], "overlap"),
    ("dtype", lambda h: _first_tensor(h).update(dtype="F64"), "does not fill"),
    ("dtype_unknown", lambda h: _first_tensor(h).update(dtype="F128"), "dtype"),
    ("dtype_list", lambda h: _first_tensor(h).update(dtype=["F32"]), "dtype"),   # fuzz: TypeError
    ("shape", lambda h: _first_tensor(h).update(shape=[10 ** 9, 10 ** 9]), "does not fill"),
    ("bad_shape", lambda h: _first_tensor(h).update(shape=[-1, 3]), "shape"),
    ("not_entry", lambda h: h.update({"model.x": [1, 2]}), "tensor"),
    ("meta_list", lambda h: h.update(__metadata__=["ceol"]), "not a Ceol model"),
    ("ceol_list", lambda h: h["__metadata__"].update(ceol=[1]), "not a Ceol model"),
    ("ceol_junk", lambda h: h["__metadata__"].update(ceol="{not json"), "damaged Ceol metadata"),
])
def test_lying_safetensors_headers_are_refused(tmp_path, name, change, match):
    _refused(_lying(tmp_path, name + ".safetensors", change), match)


@pytest.mark.parametrize("raw, length, match", [
    (b"{}", 2 ** 60, "no safetensors header"),
    (b"\xff\xfe not json at all", None, "unreadable header"),
    (b"[" * 100_000 + b"]" * 100_000, None, "unreadable header"),          # RecursionError
    (b'{"__metadata__": {"format": "ceol-model", "ceol": "' + b"[" * 100_000 + b'"}}', None,
     "damaged Ceol metadata"),
    (b"[1, 2, 3]", None, "unreadable header"),
], ids=["length_2_60", "not_json", "deep_header", "deep_metadata", "a_list"])
def test_headers_that_are_not_json_objects_are_refused(tmp_path, raw, length, match):
    path = tmp_path / "h.safetensors"
    path.write_bytes(join(raw, b"\x00" * 64, length))
    _refused(path, match)


@pytest.mark.parametrize("change, match", [
    (lambda m: m["model_config"].update(hidden_size=9), "do not match"),
    (lambda m: m.update(vocab=m["vocab"][:-1]), "do not match"),
    (lambda m: m.update(vocab=m["vocab"] + ["\u00e9"]), "do not match"),
    (lambda m: m.update(vocab=m["vocab"] + [m["vocab"][3]]), "repeat"),
    (lambda m: m.update(vocab=["ab", "c"]), "single characters"),
    (lambda m: m.update(vocab="abc"), "no model config or vocabulary"),
    (lambda m: m["model_config"].update(hidden_size=8.5), "damaged Ceol metadata"),
    (lambda m: m["model_config"].update(cell="transformer"), "unknown cell"),
    (lambda m: m["model_config"].update(num_layers=10 ** 12), "num_layers"),
    (lambda m: m.update(model_config=[8]), "no model config"),
])
def test_configs_and_vocabularies_that_do_not_match_the_weights_are_refused(tmp_path, change,
                                                                              match):
    path = tmp_path / "m.safetensors"
    path.write_bytes(with_meta(tiny_model_bytes(tmp_path), change))
    with pytest.raises(ModelError, match=match) as info:
        load_model(path)
    assert str(path) in str(info.value)


def test_files_truncated_at_every_tenth_are_refused(tmp_path):
    blob = tiny_model_bytes(tmp_path)
    path = tmp_path / "cut.safetensors"
    for tenth in range(10):
        path.write_bytes(blob[:len(blob) * tenth // 10])
        _refused(path, "not a Ceol model file|truncated|no such")


HOSTILE_MEMORY = textwrap.dedent("""
    import json, resource, struct, sys
    from pathlib import Path
    from model.checkpoint import load_model
    from model.errors import ModelError
    from tests.fuzz.raw_model import join, split, tiny_model_bytes, with_meta
    tmp = Path(sys.argv[1])
    blob = tiny_model_bytes(tmp)
    huge = dict(embedding_size=65536, hidden_size=65536, num_layers=64)
    files = {
        "huge_config": with_meta(blob, lambda m: m["model_config"].update(huge)),
        "huge_vocab": with_meta(blob, lambda m: m.update(vocab=[chr(c) for c in range(32, 200_000)
                                                                 if not 0xD800 <= c < 0xE000])),
        "header_2_60": join(b"{}", b"", 2 ** 60),
        "offsets_1e12": join({**split(blob)[0], "model.x": {"dtype": "F32", "shape": [250000, 1000000],
                                                               "data_offsets": [0, 10 ** 12]}},
                             split(blob)[1]),
    }
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for name, data in files.items():
        path = tmp / (name + ".safetensors")
        path.write_bytes(data)
        try:
            load_model(path)
            print(name, "LOADED")
        except ModelError as exc:
            print(name, "refused:", str(exc)[:80])
    print("growth_kib", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base)
""")


def test_hostile_files_refused_in_bounded_memory(tmp_path):
    """Claims of terabytes (a 2^60 header, a 64x65536 LSTM, 10^12 bytes of offsets) cost
    little: peak RSS of a fresh process grows by far less than any claimed size."""
    result = subprocess.run([sys.executable, "-c", HOSTILE_MEMORY, str(tmp_path)],
                            capture_output=True, text=True, timeout=300,
                            cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    assert "LOADED" not in result.stdout
    assert all(lines[name].startswith("refused")
               for name in ("huge_config", "huge_vocab", "header_2_60", "offsets_1e12"))
    assert int(lines["growth_kib"]) < 300 * 1024, result.stdout


def test_a_demo_model_given_as_a_music_model_is_named_for_what_it_is():
    from pathlib import Path

    demo = Path(__file__).resolve().parents[2] / "resources/models/demos/demo-nextword-lstm.safetensors"
    with pytest.raises(ModelError, match="a nextword demo model of the Demos panel, not a music"):
        load_model(demo)


def test_a_write_killed_in_turn_leaves_only_its_own_temp_file(tmp_path, monkeypatch):
    """Stale temp files of killed writers go before a write, not only after a successful one:
    a writer that fails (or is killed) during its own write leaves at most its own."""
    import os

    from model.checkpoint import write_atomic

    target = tmp_path / "model.safetensors"
    stale = tmp_path / ".model.safetensors.999999999.abc.tmp"   # a writer that is gone
    stale.write_bytes(b"half")

    def failing_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError):
        write_atomic(target, b"new")
    assert not stale.exists()
    assert not target.exists()
