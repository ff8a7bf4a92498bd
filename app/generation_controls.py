"""The generation controls: what the user asks for, checked, and the prime a continued tune gives.

`GenerationControls` is the one request both front ends build for `app.generation.generate_tunes`
(the CLI from its options, the window through `controls_from_options`); `check_controls` turns
it into the header fields to write and warnings, raising ValueError with one clear line for a
bad value; `continuation_prime` cuts a tune to continue after its first bars. See
`app.generation` for how each control takes effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from app.music.bars import MAX_BARS, bar_end_index, split_header
from model.config import SampleConfig

MAX_PARTS = 16
# The window's sampling options that are GenerationControls fields of the same name.
OPTION_FIELDS = ("count", "temperature", "top_k", "top_p", "seed", "max_chars", "bars", "parts",
                 "keep_annotations")


@dataclass
class GenerationControls:
    """What the user asks for; everything optional except the sampling defaults."""

    key: str | None = None            # "D", "Ador", "E minor", "Gmix"...
    meter: str | None = None          # "6/8"; default: the rhythm's usual meter
    unit_length: str | None = None    # "1/8" unless given
    rhythm: str | None = None         # reel, jig, slip jig, hornpipe, polka, waltz...
    style: str | None = None          # irish, scottish, german... (app.music.styles.STYLES)
    title: str | None = None
    bars: int | None = None           # total length in bars, 1..MAX_BARS
    parts: int | None = None          # AABB: this many repeated parts of bars_per_part bars
    bars_per_part: int = 8
    continue_from: str | None = None  # an ABC tune whose first continue_bars bars are the prime
    continue_bars: int = 4
    prime: str | None = None          # raw prime text (as model.sample.build_prime takes it)
    count: int = 1
    temperature: float = SampleConfig.temperature
    top_k: int = 0
    top_p: float = 1.0
    seed: int | None = None
    max_chars: int = 1500
    attempts: int = 3                 # a variation not clean after repair is sampled again,
                                      # up to this many times in all (1: no resampling)
    auto_length: bool = True          # no length asked for: draw each variation's length from
                                      # the model's training tunes in its meter
    fit_bars: bool = True             # resample a bar whose length does not fit the meter
    keep_annotations: bool = False    # keep fingerings, bowings and text in quotes in the
                                      # tunes (default: removed before the repair)

    def target_bars(self) -> int | None:
        """Bars to generate in total (the continued bars included), or None: the model decides."""
        if self.parts:
            return self.parts * self.bars_per_part
        return self.bars



def check_controls(controls: GenerationControls) -> tuple[dict[str, str], list[str]]:
    """Validate the controls; return the header values to use and warnings. ValueError if bad."""
    from app.music.checker import is_valid_key, parse_meter, parse_unit_length
    from app.music.normalize import RHYTHM_METERS, canonical_key, canonical_rhythm

    warnings: list[str] = []
    header: dict[str, str] = {}
    if controls.bars is not None and controls.parts is not None:
        raise ValueError("give the length in bars or in parts, not both")
    if controls.bars is not None and not 1 <= controls.bars <= MAX_BARS:
        raise ValueError(f"bars must be 1..{MAX_BARS}, got {controls.bars}")
    if controls.parts is not None and not 1 <= controls.parts <= MAX_PARTS:
        raise ValueError(f"parts must be 1..{MAX_PARTS}, got {controls.parts}")
    if not 1 <= controls.attempts <= 20:
        raise ValueError(f"attempts must be 1..20, got {controls.attempts}")
    if not 1 <= controls.bars_per_part <= 64:
        raise ValueError(f"bars per part must be 1..64, got {controls.bars_per_part}")
    if controls.continue_from is not None and not 1 <= controls.continue_bars <= MAX_BARS:
        raise ValueError(f"continue bars must be 1..{MAX_BARS}, got {controls.continue_bars}")
    if controls.key and controls.key.strip():
        key = canonical_key(controls.key.strip())
        if not is_valid_key(key):
            raise ValueError(f"not a key: {controls.key!r} (e.g. D, Em, Ador, Gmix)")
        header["K"] = key
    if controls.meter and controls.meter.strip():
        meter = controls.meter.replace(" ", "")
        if parse_meter(meter) is None:
            raise ValueError(f"not a meter: {controls.meter!r} (e.g. 4/4, 6/8, C)")
        header["M"] = meter
    if controls.unit_length and controls.unit_length.strip():
        unit = controls.unit_length.replace(" ", "")
        if parse_unit_length(unit) is None:
            raise ValueError(f"not a unit note length: {controls.unit_length!r} (e.g. 1/8)")
        header["L"] = unit
    if controls.rhythm and controls.rhythm.strip():
        rhythm = canonical_rhythm(controls.rhythm)
        meters = RHYTHM_METERS.get(rhythm)
        if meters is None:
            warnings.append(f"rhythm {rhythm!r} is not one the corpus names; "
                            "the model may ignore it")
        elif "M" in header and meters and header["M"] not in meters:
            warnings.append(f"a {rhythm} is usually in {' or '.join(sorted(meters))}, not "
                            f"{header['M']}: the meter you gave wins")
        header["R"] = rhythm
        if "M" not in header:
            header["M"] = _usual_meter(rhythm)
    if controls.title and controls.title.strip():
        header["T"] = " ".join(controls.title.split())
    if controls.style and controls.style.strip():
        from app.music.styles import check_style

        header["O"] = check_style(controls.style)
    return header, warnings


_USUAL = {"reel": "4/4", "jig": "6/8", "slip jig": "9/8", "hornpipe": "4/4", "polka": "2/4",
          "waltz": "3/4", "march": "2/4", "strathspey": "4/4", "slide": "12/8",
          "mazurka": "3/4", "highland fling": "4/4", "clog": "4/4", "schottische": "4/4",
          "barndance": "4/4", "minuet": "3/4", "gavotte": "4/4"}


def _usual_meter(rhythm: str) -> str | None:
    return _USUAL.get(rhythm)


def continuation_prime(abc: str, bars: int) -> str:
    """Return the tune's normalised header and its first `bars` bars (ValueError if not ABC)."""
    from app.music.errors import MusicError
    from app.music.normalize import training_text
    from app.music.tunebook import parse_tune_book

    text = abc.replace("\r\n", "\n")
    if not text.lstrip().startswith("X:"):
        text = "X:1\n" + text.lstrip()
    try:
        book = parse_tune_book(text)
    except MusicError as exc:
        raise ValueError(f"the tune to continue is not ABC: {exc}") from None
    if not book.tunes:
        raise ValueError("the tune to continue is not ABC: no tune found")
    tune = book.tunes[0]
    if not tune.key or not tune.body.strip():
        raise ValueError("the tune to continue is not ABC: it needs a K: line and some bars")
    normal = training_text(tune)
    head, body = split_header(normal)
    cut = bar_end_index(body, bars)
    if cut is None:
        raise ValueError(f"the tune to continue has fewer than {bars} bars")
    return head + body[:cut]


def looks_like_abc(prime: str) -> bool:
    """A prime is ABC if it is a tune, or bars with at least one note and a bar line."""
    text = prime.strip()
    if text.startswith("X:"):
        return "\nK:" in text or text.count("\n") < 8
    letters = sum(ch in "ABCDEFGabcdefgz" for ch in text)
    junk = sum(ch.isalpha() and ch not in "ABCDEFGabcdefgzxmK" for ch in text)
    return letters > 0 and junk <= letters // 2


def controls_from_options(options: Mapping[str, Any], headers: Mapping[str, str | None],
                          prime: str = "") -> GenerationControls:
    """Build the controls from the window's sampling options, header fields and selected tune.

    `headers` holds meter, key, rhythm and style (empty: the model chooses). With `continue_bars` in
    `options`, `prime` is a tune continued after its first bars; otherwise it is a raw prime.
    """
    carry_on: dict[str, Any] = {}
    if prime and options.get("continue_bars"):
        carry_on = {"continue_from": prime, "continue_bars": options["continue_bars"]}
        prime = ""
    return GenerationControls(
        meter=headers.get("meter") or None, key=headers.get("key") or None,
        rhythm=headers.get("rhythm") or None, style=headers.get("style") or None,
        prime=prime or None,
        **carry_on, **{k: v for k, v in options.items() if k in OPTION_FIELDS})
