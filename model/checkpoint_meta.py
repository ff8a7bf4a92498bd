"""Reading a model file's header and metadata without torch (for `model-info` and checks).

A safetensors file starts with an 8-byte little-endian header length and a JSON header; Ceol
keeps its metadata JSON under `__metadata__["ceol"]`. Parsing this ourselves lets us refuse a
pickle, a truncated file or a foreign safetensors file with a clear message before any loader
sees it, and lets `model-info` answer without importing torch.
"""

from __future__ import annotations

import json
import math
import os
import struct
from pathlib import Path
from typing import Any

from model.errors import ModelError

FORMAT = "ceol-model"
FORMAT_VERSION = 1
MAX_HEADER = 100 * 1024 * 1024
DTYPE_BYTES = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2,
               "F16": 2, "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8}


def read_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """Return the Ceol metadata of a model file without loading weights (no torch needed).

    Raises ModelError for anything that is not a complete Ceol model file.
    """
    meta, _ = _read_header(path)
    return meta


def _read_header(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, Any]]:
    """Parse and check the header of a model file; ModelError naming `path` for anything odd.

    Every tensor entry must have a dtype, a shape of sizes and two data offsets that lie inside
    the file; nothing larger than the file itself (at most MAX_HEADER of JSON) is read.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: no such model file")
    size = path.stat().st_size
    try:
        with open(path, "rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise ModelError(f"{path}: not a Ceol model file (too short)")
            (n,) = struct.unpack("<Q", head)
            if n < 2 or n > MAX_HEADER or 8 + n > size:
                raise ModelError(f"{path}: not a Ceol model file (no safetensors header; pickled "
                                 ".pt/.pth files are refused because loading them can run code)")
            raw = f.read(n)
    except OSError as exc:
        raise ModelError(f"{path}: cannot read the model file ({exc.strerror or exc})") from None
    header = _json(raw)
    if not isinstance(header, dict):
        raise ModelError(f"{path}: not a Ceol model file (unreadable header)")
    info = header.get("__metadata__")
    if not isinstance(info, dict) or info.get("format") != FORMAT \
            or not isinstance(info.get("ceol"), str):
        raise ModelError(f"{path}: a safetensors file, but not a Ceol model (no Ceol metadata)")
    meta = _json(info["ceol"])
    if not isinstance(meta, dict):
        raise ModelError(f"{path}: damaged Ceol metadata")
    spans = []
    for name, entry in header.items():
        if name != "__metadata__":
            problem = _tensor_problem(entry)
            if problem:
                raise ModelError(f"{path}: damaged model file (tensor {name[:60]!r}: {problem})")
            spans.append(tuple(entry["data_offsets"]))
    spans.sort()
    end = max((stop for _, stop in spans), default=0)
    if 8 + n + end > size:
        raise ModelError(f"{path}: the file is truncated ({size} of {8 + n + end} bytes)")
    if any(a[1] != b[0] for a, b in zip([(0, 0)] + spans, spans)):
        raise ModelError(f"{path}: damaged model file (tensors overlap or leave gaps)")
    if 8 + n + end < size:
        raise ModelError(f"{path}: damaged model file ({size - 8 - n - end} unexplained bytes "
                         "after the tensors)")
    if not isinstance(meta.get("model_config"), dict) or not isinstance(meta.get("vocab"), list) \
            or not all(isinstance(c, str) for c in meta["vocab"]):
        raise ModelError(f"{path}: damaged Ceol metadata (no model config or vocabulary)")
    return meta, header


def _json(raw: bytes | str) -> Any:
    """Parse JSON from a file; None when it is not JSON (or nested too deep to parse)."""
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None


def _tensor_problem(entry: Any) -> str | None:
    """Say what is wrong with a safetensors tensor entry, or None when it is well formed."""
    if not isinstance(entry, dict):
        return "not a tensor entry"
    dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    if not isinstance(dtype, str) or dtype not in DTYPE_BYTES or not isinstance(shape, list) \
            or not all(type(d) is int and d >= 0 for d in shape):
        return "no known dtype or shape"
    if not isinstance(offsets, list) or len(offsets) != 2 \
            or not all(type(o) is int for o in offsets) or not 0 <= offsets[0] <= offsets[1]:
        return "bad data offsets"
    if math.prod(shape) * DTYPE_BYTES[dtype] != offsets[1] - offsets[0]:
        return f"a {dtype} tensor of shape {shape} does not fill its data offsets"
    return None
