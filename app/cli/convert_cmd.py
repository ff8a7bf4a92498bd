"""`python main.py convert IN OUT`: convert tunes between ABC, MIDI and MusicXML by extension.

The work is done by app.music.convert (a table of converters other formats extend); this module
only parses arguments and prints. Bad input is one line on stderr and exit status 2 (app.cli).
"""

from __future__ import annotations

import argparse
import sys

EPILOG = """\
conversions (by extension): .abc -> .mid/.midi/.musicxml/.xml, .mid/.midi -> .abc (or .mid).

--all writes one file per tune; OUT is then a name pattern where {n} is the tune's X: number,
{index} its place in the book (from 1) and {title} its title made file-safe; missing folders
are created. A pattern with none of these gets -{index} before the extension:
  python main.py convert book.abc out/tune.mid --all     -> out/tune-1.mid, out/tune-2.mid, ...
  python main.py convert book.abc "xml/{n}-{title}.musicxml" --all
Broken tunes are reported on stderr, one line each, while the good ones are written; the exit
status is then 2.

--tune N picks the tune whose X: field is N (else the N-th tune of the book). Without --tune
or --all the book must hold exactly one tune.
"""
LIMITS = """
Limits: ABC files up to {book_mb} MB; tunes up to {bars:,} bars ({xml_bars} for MusicXML) and
{chars:,} characters; music21 gets {seconds:g} s per tune. Larger input is refused by name.
"""


def register(subparsers) -> None:
    """Add the `convert` command."""
    from app.music import limits

    epilog = EPILOG + LIMITS.format(book_mb=limits.MAX_BOOK_BYTES // 1_000_000, bars=limits.MAX_TUNE_BARS,
                           xml_bars=limits.MAX_MUSICXML_BARS, chars=limits.MAX_TUNE_CHARS,
                           seconds=limits.MAX_CONVERT_SECONDS)
    parser = subparsers.add_parser(
        "convert", help="convert tunes between ABC, MIDI and MusicXML",
        description="Convert IN to OUT, choosing the formats by their extensions.",
        epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("input", metavar="IN", help="an .abc tune book or a .mid/.midi file")
    parser.add_argument("output", metavar="OUT",
                        help="the file to write (a name pattern with --all)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--tune", type=int, metavar="N",
                       help="the tune with X:N (else the N-th tune) of the book")
    which.add_argument("--all", action="store_true", dest="all_tunes",
                       help="write one file per tune (OUT is a name pattern, see below)")
    parser.add_argument("--instrument", metavar="NAME|PROGRAM",
                        help="General MIDI instrument for MIDI output: a name such as fiddle, "
                        "flute, 'tin whistle', accordion, piano, harp, or a program 0-127 "
                        "(default piano)")
    parser.add_argument("--tempo", type=float, metavar="QPM",
                        help="tempo in quarter notes a minute (default: the tune's Q:, else "
                        "120, or 165 for 6/8, 9/8 and 12/8)")
    parser.add_argument("--transpose", type=int, default=0, metavar="SEMITONES",
                        help="transpose every note by this many semitones (may be negative)")
    parser.set_defaults(func=run_convert)


def run_convert(args: argparse.Namespace) -> int:
    """Convert and report what was written; broken tunes under --all go to stderr."""
    from app.music.convert import convert

    result = convert(args.input, args.output, tune=args.tune, all_tunes=args.all_tunes,
                     program=args.instrument, tempo_qpm=args.tempo, transpose=args.transpose)
    for problem in result.problems:
        print(f"ceol convert: skipped: {problem}", file=sys.stderr)
    if len(result.written) == 1:
        print(f"wrote {result.written[0]}")
    else:
        print(f"wrote {len(result.written)} files"
              + (f" ({result.written[0]} ... {result.written[-1]})" if result.written else ""))
    if result.problems:
        print(f"ceol convert: {len(result.problems)} tune(s) could not be converted",
              file=sys.stderr)
        return 2
    return 0
