"""Reading a model file's header and metadata without torch (for `model-info` and checks).

A safetensors file starts with an 8-byte little-endian header length and a JSON header; Ceol
keeps its metadata JSON under `__metadata__["ceol"]`. Parsing this ourselves lets us refuse a
pickle, a truncated file or a foreign safetensors file with a clear message before any loader
sees it, and lets `model-info` answer without importing torch.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path
from typing import Any

from model.errors import ModelError

FORMAT = "ceol-model"
FORMAT_VERSION = 1
MAX_HEADER = 100 * 1024 * 1024


def read_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """Return the Ceol metadata of a model file without loading weights (no torch needed).

    Raises ModelError for anything that is not a complete Ceol model file.
    """
    meta, _ = _read_header(path)
    return meta


def _read_header(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, Any]]:
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: no such model file")
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise ModelError(f"{path}: not a Ceol model file (too short)")
        (n,) = struct.unpack("<Q", head)
        if n < 2 or n > MAX_HEADER or 8 + n > size:
            raise ModelError(f"{path}: not a Ceol model file (no safetensors header; "
                             "pickled .pt/.pth files are refused because loading them can run code)")
        raw = f.read(n)
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ModelError(f"{path}: not a Ceol model file (unreadable header)") from None
    if not isinstance(header, dict):
        raise ModelError(f"{path}: not a Ceol model file (unreadable header)")
    info = header.get("__metadata__") or {}
    if info.get("format") != FORMAT or "ceol" not in info:
        raise ModelError(f"{path}: a safetensors file, but not a Ceol model (no Ceol metadata)")
    try:
        meta = json.loads(info["ceol"])
    except json.JSONDecodeError:
        raise ModelError(f"{path}: damaged Ceol metadata") from None
    end = max((t["data_offsets"][1] for k, t in header.items()
               if k != "__metadata__" and isinstance(t, dict) and "data_offsets" in t), default=0)
    if 8 + n + end > size:
        raise ModelError(f"{path}: the file is truncated ({size} of {8 + n + end} bytes)")
    if not isinstance(meta, dict) or "model_config" not in meta or "vocab" not in meta:
        raise ModelError(f"{path}: damaged Ceol metadata (no model config or vocabulary)")
    return meta, header
