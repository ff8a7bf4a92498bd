"""General MIDI instruments by name: the programs a tune can be played or exported with.

Users name an instrument the way a folk musician would ("fiddle", "tin whistle") or give the
General MIDI program number (0-127, as on the wire; GM's printed tables count from 1).
`program_for` turns either into a program number; `instrument_names` lists the names.
"""

from __future__ import annotations

from app.music.errors import MusicError

# Folk names first, then the plain GM names they stand for; program numbers are 0-based.
GM_PROGRAMS: dict[str, int] = {
    "piano": 0, "acoustic grand piano": 0, "bright piano": 1, "electric piano": 4,
    "harpsichord": 6, "clavinet": 7, "celesta": 8, "glockenspiel": 9, "music box": 10,
    "vibraphone": 11, "marimba": 12, "xylophone": 13, "dulcimer": 15, "hammered dulcimer": 15,
    "organ": 19, "church organ": 19, "reed organ": 20, "accordion": 21, "melodeon": 21,
    "concertina": 21, "harmonica": 22, "bandoneon": 23, "nylon guitar": 24, "guitar": 24,
    "steel guitar": 25, "acoustic bass": 32, "bass": 32, "violin": 40, "fiddle": 40,
    "viola": 41, "cello": 42, "contrabass": 43, "double bass": 43, "pizzicato strings": 45,
    "harp": 46, "celtic harp": 46, "timpani": 47, "strings": 48, "string ensemble": 48,
    "choir": 52, "voice": 53, "trumpet": 56, "trombone": 57, "tuba": 58, "french horn": 60,
    "horn": 60, "brass": 61, "soprano sax": 64, "alto sax": 65, "tenor sax": 66, "oboe": 68,
    "english horn": 69, "bassoon": 70, "clarinet": 71, "piccolo": 72, "flute": 73,
    "recorder": 74, "pan flute": 75, "bottle": 76, "shakuhachi": 77, "whistle": 78,
    "tin whistle": 78, "penny whistle": 78, "low whistle": 78, "ocarina": 79, "sitar": 104,
    "banjo": 105, "shamisen": 106, "koto": 107, "kalimba": 108, "bagpipe": 109,
    "bagpipes": 109, "uilleann pipes": 109, "pipes": 109,
    "shanai": 111, "steel drums": 114,
}

DEFAULT_PROGRAM = 0


def program_for(instrument: str | int | None) -> int:
    """Return the GM program (0-127) for an instrument name or number; None gives piano.

    Names are case-insensitive and may use '-' or '_' for spaces. Raises MusicError for an
    unknown name or a number outside 0-127.
    """
    if instrument is None:
        return DEFAULT_PROGRAM
    if isinstance(instrument, int):
        number = instrument
    else:
        text = instrument.strip().lower().replace("_", " ").replace("-", " ")
        if text.isdigit():
            number = int(text)
        elif text in GM_PROGRAMS:
            return GM_PROGRAMS[text]
        else:
            raise MusicError(f"unknown instrument {instrument!r}; use a General MIDI program "
                             f"number 0-127 or a name such as {', '.join(FOLK_NAMES)}")
    if not 0 <= number <= 127:
        raise MusicError(f"MIDI program {number} is outside 0-127")
    return number


def instrument_name(program: int) -> str:
    """Return the first name listed for a GM program, or "program N" when none is."""
    for name, number in GM_PROGRAMS.items():
        if number == program:
            return name
    return f"program {program}"


def instrument_names() -> list[str]:
    """Return every accepted instrument name, sorted."""
    return sorted(GM_PROGRAMS)


FOLK_NAMES = ("fiddle", "flute", "tin whistle", "accordion", "piano", "harp", "concertina",
              "uilleann pipes", "banjo", "guitar")
