"""Seeds and mutations for fuzzing ABC input (used by test_fuzz_abc.py and benchmarks/fuzz_long.py).

Seeds are real tunes: every 25th tune of the built-in Celtic corpus (O'Neill's, Ryan's, Aird's)
and a few small inline tunes with repeats, endings, chords, grace notes, tuplets, inline fields
and a file header. A mutation inserts characters (ABC syntax, digits, unicode, NUL, CR),
deletes or duplicates ranges and lines, splices two tunes, adds header fields with huge or
broken values (L:, M:, Q:, K:), inserts huge numbers after notes and tuplets, and changes line
endings. Long mode: CEOL_FUZZ_EXAMPLES sets the examples per target and turns derandomisation
off; CEOL_FUZZ_KEEP_GOING=1 records failures in `FAILURES` instead of stopping at the first, and
CEOL_FUZZ_SECONDS stops a target after that many seconds, CEOL_FUZZ_EXAMPLE_SECONDS records an
example that runs longer as a hang (all for benchmarks/fuzz_long.py).
"""

from __future__ import annotations

import os
import signal
import time
import traceback
from collections import Counter

from hypothesis import HealthCheck, settings, strategies as st

INLINE_SEEDS = [
    "X:1\nT:Pickup Jig\nM:6/8\nL:1/8\nK:G\nD|GAB dBG|c2A BGE|[1 DEF G2:|[2 ABc d2||\n",
    "X:2\nT:Reel\nR:reel\nM:C|\nL:1/8\nQ:1/4=120\nK:Ador\n|:EAAG A2Bd|eaag ageg|dG~G2 BGdB|"
    "1 AcBG A3G:|2 AcBG A2ge||\n|:\"Am\"a2ea agef|[ce]2{g}fe (3efg ag|[M:3/4] a3 g2e|]\n",
    "%abc-2.1\nM:3/4\nL:1/4\nR:waltz\n\nX:3\nT:Waltz\nK:D\nA|d2 f|a2 f|e>d c|d3|\\\n"
    "[K:Bb] B_B =B|^c2 z|Z2|\nw: some words here\n%%MIDI program 1\nd3|]\n\n"
    "X:4\nT:Second\nK:Em\nE2 F|G2 A|B3|]\n",
    "X:5\nT:Hornpipe\nM:4/4\nL:1/16\nK:F\n(3ABc d2 c>B A<G|!trill!F4 +fermata+G4 H A8|"
    "[FAc]4 [GBd]2 x2 z4|A/B/ c// d3/ e/4 f8-|f16|]\n",
]

# Text likely to break a parser: ABC syntax, numbers, unicode, control characters.
ALPHABET = st.sampled_from(
    list("|:[]{}()<>-~.!+\"%\\/^_=,'zZxyABCDEFGabcdefg0123456789 \t\n\r\x00\x0c") +
    ["é", "ß", "\u2028", "\ufeff", "\U0001d11e", "\u0301", "\ud7ff", "K:", "X:", "[K:", "|:",
     ":|", "[1", "::", "(3", "!", "+", "\\\n", "%%", "w:", "\r\n"])
HUGE = st.sampled_from(["0", "00", "99999999999999999999", "4294967296", "-1", "1e9",
                        "/0", "0/0", "1/0", "//////", "3//", "9" * 400, "9" * 5000])
FIELD = st.sampled_from(list("LMQKXTRPVIUmNw+"))
FIELD_VALUE = st.sampled_from([
    "1/99999999999999999999", "99999999999999999999/1", "0/0", "1/0", "/", "", "C|", "none",
    "1/4=99999999999999999999", "1/4=0", "\"Allegro\" 3/8=120", "99999999/8", "2+3+2/8",
    "Zb", "HP", "none", "C# minor clef=bass", "A dor ^f _b", "treble+8", "1/3", "1/1000000",
    "7/8", "0/8", "12/8", "9/4", "1/2=60 1/4=30", "\x00", "é\u2028", "V1 clef=bass",
    "3/0", "1/4=0", "9" * 5000 + "/8", "1/" + "8" * 5000,
])


def _seeds() -> list[str]:
    from app.music.corpus import builtin_corpus_files
    from app.music.tunebook import read_tune_book

    seeds = list(INLINE_SEEDS)
    try:
        files = builtin_corpus_files("celtic")
    except Exception:  # noqa: BLE001 - without music21's corpus the inline seeds still run
        return seeds
    tunes = [tune for path in files for tune in read_tune_book(path).tunes]
    return seeds + [tune.abc() for tune in tunes[::25]]


SEEDS = _seeds()
# Short seeds for the music21 targets, which cost a parse each (the first 12 lines of a tune).
SHORT_SEEDS = ["\n".join(seed.split("\n")[:12]) + "\n" for seed in SEEDS]


@st.composite
def _insert_text(draw, text: str) -> str:
    pos = draw(st.integers(0, len(text)))
    piece = "".join(draw(st.lists(ALPHABET, min_size=1, max_size=8)))
    return text[:pos] + piece + text[pos:]


@st.composite
def _delete_range(draw, text: str) -> str:
    start = draw(st.integers(0, len(text)))
    return text[:start] + text[start + draw(st.integers(1, 40)):]


@st.composite
def _duplicate_lines(draw, text: str) -> str:
    lines = text.split("\n")
    i = draw(st.integers(0, len(lines) - 1))
    j = draw(st.integers(i, min(len(lines), i + 4)))
    return "\n".join(lines[:j] + lines[i:j] * draw(st.integers(1, 5)) + lines[j:])


@st.composite
def _drop_line(draw, text: str) -> str:
    lines = text.split("\n")
    i = draw(st.integers(0, len(lines) - 1))
    return "\n".join(lines[:i] + lines[i + 1:])


@st.composite
def _splice(draw, text: str) -> str:
    other = draw(st.sampled_from(SEEDS))
    return text[:draw(st.integers(0, len(text)))] + other[draw(st.integers(0, len(other))):]


@st.composite
def _header_field(draw, text: str) -> str:
    lines = text.split("\n")
    i = draw(st.integers(0, min(len(lines), 8)))
    field = f"{draw(FIELD)}:{draw(FIELD_VALUE)}"
    if draw(st.booleans()):
        field = f"[{field}]"
    return "\n".join(lines[:i] + [field] + lines[i:])


@st.composite
def _huge_number(draw, text: str) -> str:
    spots = [i + 1 for i, ch in enumerate(text) if ch in "ABCDEFGabcdefgzZx]()>"]
    pos = draw(st.sampled_from(spots)) if spots else len(text)
    return text[:pos] + draw(HUGE) + text[pos:]


@st.composite
def _line_endings(draw, text: str) -> str:
    return text.replace("\n", draw(st.sampled_from(["\r", "\r\n", "\n\r", "\n\n", "\x0c\n"])))


@st.composite
def _unicode(draw, text: str) -> str:
    pos = draw(st.integers(0, len(text)))
    return text[:pos] + draw(st.text(min_size=1, max_size=4)) + text[pos:]


MUTATIONS = [_insert_text, _delete_range, _duplicate_lines, _drop_line, _splice, _header_field,
             _huge_number, _line_endings, _unicode]


@st.composite
def abc_text(draw, seeds: list[str] | None = None, max_mutations: int = 4) -> str:
    """Draw a seed tune (or book) and apply 0..max_mutations mutations to it."""
    text = draw(st.sampled_from(seeds or SEEDS))
    for _ in range(draw(st.integers(0, max_mutations))):
        text = draw(draw(st.sampled_from(MUTATIONS))(text))
    return text


@st.composite
def abc_bytes(draw) -> bytes:
    """Draw mutated ABC text, encoded (UTF-8 with or without BOM, Latin-1, UTF-16, cp1252), then
    with a few bytes changed."""
    text = draw(abc_text())
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "utf-16", "cp1252"]))
    data = bytearray(text.encode(encoding, errors="replace"))
    for _ in range(draw(st.integers(0, 3))):
        pos = draw(st.integers(0, len(data)))
        data[pos:pos + draw(st.integers(0, 3))] = draw(st.binary(min_size=0, max_size=4))
    return bytes(data)


def fuzz_examples(short: int) -> int:
    """Examples per target: `short` in the suite, CEOL_FUZZ_EXAMPLES in the long mode."""
    return int(os.environ.get("CEOL_FUZZ_EXAMPLES") or short)


def fuzz_settings(short: int) -> settings:
    """Deterministic and quick in the suite; random and long with CEOL_FUZZ_EXAMPLES."""
    long_mode = bool(os.environ.get("CEOL_FUZZ_EXAMPLES"))
    return settings(max_examples=fuzz_examples(short), deadline=None, database=None,
                    derandomize=not long_mode, suppress_health_check=list(HealthCheck),
                    print_blob=True)


# Long-mode bookkeeping: examples run and distinct failures per target.
RUNS: Counter = Counter()
FAILURES: dict[str, dict[str, tuple[str, str]]] = {}
STARTED: dict[str, float] = {}


class TimeUp(BaseException):
    """Raised (past Hypothesis, which only catches Exception) when CEOL_FUZZ_SECONDS ran out."""


class ExampleHung(BaseException):
    """Raised by the hang timer. Not an Exception, so that code which catches every Exception
    (music21's error-line search in abc_score._locate) cannot swallow it: a hang must be
    recorded as a crash, not turned into an ordinary parse error after minutes."""


def guard(target: str, func, *args) -> None:
    """Run one example; with CEOL_FUZZ_KEEP_GOING=1 record a failure instead of raising it.

    A failure is keyed by its exception type and the innermost frame of Ceol's code, so the
    same bug found a thousand times counts once; the first input that showed it is kept.
    """
    limit = float(os.environ.get("CEOL_FUZZ_SECONDS") or 0)
    if limit and time.monotonic() - STARTED.setdefault(target, time.monotonic()) > limit:
        raise TimeUp(target)
    RUNS[target] += 1
    if not os.environ.get("CEOL_FUZZ_KEEP_GOING"):
        func(*args)
        return
    hang = int(os.environ.get("CEOL_FUZZ_EXAMPLE_SECONDS") or 0)
    if hang:
        signal.signal(signal.SIGALRM, _hung)
        signal.alarm(hang)
    try:
        func(*args)
    except (Exception, ExampleHung) as exc:  # noqa: BLE001 - recording every crash is the point
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/app/" in f.filename]
        where = f"{frames[-1].filename.split('/app/')[-1]}:{frames[-1].lineno}" if frames else "?"
        key = f"{type(exc).__name__} at app/{where}"
        if key not in FAILURES.get(target, {}):
            _save_input(target, key, args)
        FAILURES.setdefault(target, {}).setdefault(key, (repr(args)[:2000], str(exc)[:300]))
    finally:
        if hang:
            signal.alarm(0)


def _save_input(target: str, key: str, args) -> None:
    """With CEOL_FUZZ_SAVE_DIR set, keep the whole first input of each failure (the printed one
    is cut at 2,000 characters) so that it can be replayed and become a regression test."""
    folder = os.environ.get("CEOL_FUZZ_SAVE_DIR")
    if not folder:
        return
    name = "".join(c if c.isalnum() else "_" for c in f"{target}-{key}")[:120]
    path = os.path.join(folder, name + ".repr")
    os.makedirs(folder, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(repr(args))


def _hung(signum, frame):
    """The hang timer: raise in the example, but never inside a garbage-collector callback
    (Hypothesis registers one): an exception there is ignored and left the interpreter to
    segfault later (a long ABC -> WAV run died so). Look again a second later instead."""
    while frame is not None:
        if frame.f_code.co_name == "gc_callback":
            signal.alarm(1)
            return
        frame = frame.f_back
    raise ExampleHung("one example ran past CEOL_FUZZ_EXAMPLE_SECONDS")
