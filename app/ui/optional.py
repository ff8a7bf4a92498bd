"""Pieces of Ceol that other parts provide, looked up when first needed.

The window works while a piece is missing (say, a fresh checkout without the notation
widget): `optional(module)` returns the module or None, and `missing_reason(module)` gives
the text for the tooltip of the control that needs it.
"""

from __future__ import annotations

import importlib
import logging

log = logging.getLogger(__name__)
_cache: dict[str, object] = {}
_reasons: dict[str, str] = {}


def optional(name: str):
    """Import a module by name; return None (and remember why) when it cannot be imported."""
    if name not in _cache:
        try:
            _cache[name] = importlib.import_module(name)
        except ImportError as exc:
            _cache[name] = None
            _reasons[name] = f"{name} is not available: {exc}"
            log.warning(_reasons[name])
    return _cache[name]


def missing_reason(name: str) -> str:
    optional(name)
    return _reasons.get(name, "")


def call_first(obj, names: tuple[str, ...], *args, **kwargs):
    """Call the first of these methods that obj has; AttributeError when it has none."""
    for name in names:
        method = getattr(obj, name, None)
        if method is not None:
            return method(*args, **kwargs)
    raise AttributeError(f"{type(obj).__name__} has none of {names}")
