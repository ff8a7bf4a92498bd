"""Hand-built and mutated model files for tests: a tiny real model and ways to damage it."""

from __future__ import annotations

import json
import struct
from pathlib import Path

from tests.fuzz.raw_midi import MUTATIONS as BYTE_MUTATIONS


def tiny_model_bytes(tmp: Path) -> bytes:
    """Return the bytes of a small real Ceol model file (an LSTM of 2x8 on a 10-char vocab)."""
    import torch

    from model.checkpoint import save_model
    from model.config import ModelConfig, TrainConfig
    from model.lm import MusicLM
    from model.vocab import Vocab

    torch.manual_seed(0)
    vocab = Vocab.from_text("X:1\nK:D\nABcd|\n")
    model = MusicLM(ModelConfig(embedding_size=4, hidden_size=8, num_layers=2), len(vocab))
    path = tmp / "tiny.safetensors"
    save_model(path, model, vocab, train_config=TrainConfig(seq_len=16),
               training={"corpus": "inline", "tune_count": 1, "steps": 7})
    return path.read_bytes()


def split(blob: bytes) -> tuple[dict, bytes]:
    """Return (header JSON, tensor bytes) of a safetensors file."""
    (n,) = struct.unpack("<Q", blob[:8])
    return json.loads(blob[8:8 + n]), blob[8 + n:]


def join(header: dict | bytes, body: bytes, length: int | None = None) -> bytes:
    """Return a safetensors file; `length` makes the header length field lie."""
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    raw += b" " * ((8 - len(raw) % 8) % 8)
    return struct.pack("<Q", len(raw) if length is None else length) + raw + body


def with_meta(blob: bytes, change) -> bytes:
    """Return the file with its Ceol metadata JSON passed through `change(meta)`."""
    header, body = split(blob)
    meta = json.loads(header["__metadata__"]["ceol"])
    change(meta)
    header["__metadata__"]["ceol"] = json.dumps(meta)
    return join(header, body)


HOSTILE_VALUES = (None, 0, -1, 1, 2 ** 31, 2 ** 63, 2 ** 64 + 1, 1e308, float("nan"), "", "x",
                  [], {}, [0], [1, 0], [0, 2 ** 62], ["a"], {"a": 1}, True, [[[]]])


def _paths(value, prefix=()):
    """Every path into nested dicts and lists, with the value there."""
    yield prefix, value
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _paths(inner, prefix + (key,))
    elif isinstance(value, list):
        for i, inner in enumerate(value[:8]):
            yield from _paths(inner, prefix + (i,))


def _replace(value, path, new):
    if not path:
        return new
    value[path[0]] = _replace(value[path[0]], path[1:], new)
    return value


def mutate_json(blob: bytes, pick) -> bytes:
    """Replace one value in the header or in the Ceol metadata (the root too) by a hostile one."""
    header, body = split(blob)
    in_meta = bool(pick(0, 1))
    target = json.loads(header["__metadata__"]["ceol"]) if in_meta else header
    paths = list(_paths(target))
    path, _ = paths[pick(0, len(paths) - 1)]
    changed = _replace(target, path, HOSTILE_VALUES[pick(0, len(HOSTILE_VALUES) - 1)])
    if in_meta:
        header["__metadata__"]["ceol"] = json.dumps(changed)
    else:
        header = changed
    return join(json.dumps(header).encode(), body)


def mutate_model(blob: bytes, pick) -> bytes:
    """Apply a JSON mutation or a byte mutation (1-3 rounds)."""
    out = blob
    for _ in range(pick(1, 3)):
        if pick(0, 1):
            try:
                out = mutate_json(out, pick)
                continue
            except Exception:   # the header is already damaged: fall back to bytes
                pass
        out = bytes(BYTE_MUTATIONS[pick(0, len(BYTE_MUTATIONS) - 1)](bytearray(out), pick))
    return out
