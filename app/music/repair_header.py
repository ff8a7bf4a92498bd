"""Repair pass on the header: missing or malformed X:, M:, L: and K:, and K: last.

Values come from the generation settings (`defaults`, such as {"M": "6/8"}) when they are
valid; else X:1, the meter and unit length under which the fewest bars have the wrong length
(tried in the order of `_METER_GUESSES`), and for K: the tonic of the bad value or C. Required
fields written between K: and the music move up into the header; other fields keep their order.
"""

from __future__ import annotations

import re

from app.music import abc_tokens as T
from app.music.abc_fields import default_unit_length, is_valid_key, parse_meter, parse_unit_length
from app.music.checker import analyse_tune

# Meters tried, in this order, when a tune has no usable M: and no default is given.
_METER_GUESSES = ("4/4", "6/8", "3/4", "2/4", "9/8", "12/8", "3/8", "2/2")


def fix_header(text: str, defaults: dict[str, str], repairs: list[str]) -> str:
    """Add or replace missing and malformed X, M, L, K; leave a sound header untouched."""
    before = len(repairs)
    fixed = _rebuild_header(text, defaults, repairs)
    return fixed if len(repairs) > before else text


def _rebuild_header(text: str, defaults: dict[str, str], repairs: list[str]) -> str:
    tune = T.tokenize_tune(text)
    fields = [[tok.value[0], tok.value[1]] for tok in tune.header]
    body = list(tune.body)
    # Required fields written between K: and the music move up into the header.
    while body and body[0].kind in (T.FIELD, T.NEWLINE, T.COMMENT):
        tok = body[0]
        if tok.kind == T.FIELD and tok.value[0] in "XML" and not _has(fields, tok.value[0]):
            fields.append([tok.value[0], tok.value[1]])
            repairs.append(f"moved {tok.value[0]}: before K: (K: must be the last header field)")
            body.pop(0)
            if body and body[0].kind == T.NEWLINE:
                body.pop(0)
            continue
        if tok.kind == T.FIELD:
            break
        body.pop(0)
    body_text = T.render_body(body)

    x = _get(fields, "X")
    if x is None or not x.isdigit():
        _set(fields, "X", "1")
        repairs.append("added X:1" if x is None else f"replaced X:{x} with X:1")
    meter, unit = _get(fields, "M"), _get(fields, "L")
    meter_ok = meter is not None and parse_meter(meter) is not None
    unit_ok = unit is not None and parse_unit_length(unit) is not None
    if not (meter_ok and unit_ok):
        meters = [meter] if meter_ok else _choices(defaults.get("M"), parse_meter, _METER_GUESSES)
        units = [unit] if unit_ok else _choices(defaults.get("L"), parse_unit_length, None)
        new_meter, new_unit = _best_fit(meters, units, body_text)
        how = "the generation settings" if len(meters) == 1 else "the meter that fits most bars"
        if not meter_ok:
            _set(fields, "M", new_meter)
            repairs.append(f"{'added' if meter is None else f'replaced M:{meter} with'} "
                           f"M:{new_meter} (from {how})")
        if not unit_ok:
            _set(fields, "L", new_unit)
            repairs.append(f"{'added' if unit is None else f'replaced L:{unit} with'} "
                           f"L:{new_unit}")
    key = _get(fields, "K")
    if key is None or not is_valid_key(key):
        new = defaults.get("K")
        if new is None or not is_valid_key(new):
            tonic = re.match(r"[A-G][#b]?", (key or "").strip())
            new = tonic.group() if tonic else "C"
        _set(fields, "K", new)
        repairs.append(f"{'added' if key is None else f'replaced K:{key} with'} K:{new}")
    order = ["X"] + [f[0] for f in fields if f[0] not in "XK"] + ["K"]
    header = []
    for letter in dict.fromkeys(order):
        header += [f"{f[0]}:{f[1]}" for f in fields if f[0] == letter]
    old_order = [tok.value[0] for tok in tune.header]
    if "X" in old_order and old_order[0] != "X":
        repairs.append("put X: first in the header")
    return "\n".join(header) + "\n" + body_text.strip("\n") + "\n"


def _has(fields: list[list[str]], letter: str) -> bool:
    return any(f[0] == letter for f in fields)


def _get(fields: list[list[str]], letter: str) -> str | None:
    return next((f[1] for f in fields if f[0] == letter), None)


def _set(fields: list[list[str]], letter: str, value: str) -> None:
    for f in fields:
        if f[0] == letter:
            f[1] = value
            return
    fields.append([letter, value])


def _choices(default: str | None, valid, guesses: tuple[str, ...] | None) -> list[str | None]:
    """The values to try for a missing field: the setting if valid, else the guesses (for L:
    1/8, then ABC's default for the meter (None), then 1/16 and 1/4)."""
    if default is not None and valid(default) is not None:
        return [default]
    return list(guesses) if guesses else ["1/8", None, "1/16", "1/4"]


def _best_fit(meters: list, units: list, body: str) -> tuple[str, str]:
    """Return the (M, L) pair under which the fewest bars have the wrong length."""
    best, best_faults = None, None
    for unit in units:
        for meter in meters:
            if unit is None:
                value = parse_meter(meter)
                length = default_unit_length(value[0] if value else None)
                unit = f"{length.numerator}/{length.denominator}"
            faults = len(analyse_tune(f"X:1\nM:{meter}\nL:{unit}\nK:C\n{body}").faults)
            if best_faults is None or faults < best_faults:
                best, best_faults = (meter, unit), faults
    return best
