"""Sheet music: engrave ABC with verovio into SVG pages, plus what a score view needs around it.

`engrave(abc)` checks the tune first with the ABC tokeniser (verovio accepts nearly anything
silently, and crashes the process on some text that is not ABC at all), so a broken tune raises
MusicError with its line and column instead of giving a blank page. The result holds the SVG
pages, the timemap (note id -> onset and offset in quarter notes, repeats as verovio plays them)
and the number of note heads. `flatten_svg` rewrites verovio's SVG into the SVG Tiny 1.2 subset
that Qt's renderer draws (no nested <svg>, no nested <tspan>); `note_boxes` gives each note
head's rectangle in page pixels for highlighting; `svg_to_png` rasterises through resvg.
verovio is imported lazily and used under a lock (a toolkit is not thread-safe).
"""

from __future__ import annotations

import re
import sys
import threading
from dataclasses import dataclass, field

from app.music.errors import MusicError

DEFAULT_SCALE = 40          # verovio's zoom in percent: 40 gives ~18 px between staff lines
DEFAULT_WIDTH_PX = 900
_lock = threading.Lock()
_toolkit = None

_NOTE_RE = re.compile(r'<g id="([^"]+)" class="note\b[^"]*"')
_HEAD_RE = re.compile(r'class="notehead"[^>]*>\s*<use xlink:href="#([^"]+)" '
                      r'transform="translate\(([-\d.]+),\s*([-\d.]+)\)')
_OUTER_RE = re.compile(r'<svg width="([\d.]+)px" height="([\d.]+)px"')
_INNER_RE = re.compile(r'<svg class="definition-scale"([^>]*?)viewBox="0 0 ([\d.]+) ([\d.]+)"\s*>')
_TEXT_RE = re.compile(r"<text([^>]*[^>/])?>(.*?)</text>", re.S)
_MARGIN_RE = re.compile(r'class="page-margin" transform="translate\(([-\d.]+),\s*([-\d.]+)\)')
_REND_RE = re.compile(r"-rend\d+$")
_EMPTY_TEXT_RE = re.compile(r"<text[^>]*/>")
_TSPAN_ATTR_RE = re.compile(r'<tspan([^>]*)>')
_ATTR_RE = re.compile(r'([\w:-]+)="([^"]*)"')
HEAD_HALF_WIDTH, HEAD_HALF_HEIGHT = 120, 110   # a note head, in verovio's inner units


@dataclass
class Engraving:
    """An engraved tune: SVG pages (verovio's own markup) and its note timing."""

    pages: list[str]
    timeline: list[tuple[float, float, str]] = field(default_factory=list)  # (on, off, note id)
    note_count: int = 0  # note heads on all pages

    def note_at(self, quarters: float) -> str | None:
        """Return the id of the note sounding at a time in quarter notes, or None."""
        best = None
        for on, off, note_id in self.timeline:
            if on > quarters:
                break
            if quarters < off:
                best = note_id
        return best


def check_abc(abc: str, label: str | None = None) -> None:
    """Raise MusicError at the first line and column where the tune is not ABC music."""
    from app.music.abc_tokens import ERROR, NOTE, REST, tokenize_tune

    tokens = tokenize_tune(abc)
    if not tokens.has_key:
        raise MusicError("no K: (key) field, so this is not an ABC tune", path=label)
    for token in tokens.body:
        if token.kind == ERROR:
            message = token.value[-1] if isinstance(token.value, tuple) else str(token.value)
            raise MusicError(message, path=label, line=token.line, column=token.column)
    if not any(t.kind in (NOTE, REST) for t in tokens.body):
        raise MusicError("the tune has no notes", path=label)


def _get_toolkit():
    global _toolkit
    if _toolkit is None:
        import verovio

        verovio.enableLog(verovio.LOG_OFF)
        _toolkit = verovio.toolkit()
    return _toolkit


def warm_up() -> None:
    """Load verovio and its resources now (the first engraving would otherwise pay for it)."""
    with _lock:
        _get_toolkit()


def engrave(abc: str, *, width_px: int = DEFAULT_WIDTH_PX, scale: int = DEFAULT_SCALE,
            one_page: bool = True, transpose: int = 0, label: str | None = None) -> Engraving:
    """Engrave one ABC tune as SVG, `width_px` wide; one tall page unless one_page is False.

    `transpose` (semitones) engraves the tune in another key, as playback and MIDI export do.

    Raises MusicError (with line and column where known) for ABC that is not a tune.
    """
    check_abc(abc, label)
    if not re.search(r"^X:", abc, re.M):
        abc = "X:1\n" + abc
    # One tune only: verovio 5 crashes the process (segfault in renderToTimemap) on some texts
    # holding a second X: line, e.g. "X:1\nK:D\nABcd|\nX:2\nK:D\nABcd|" at some page widths.
    second = re.search(r"^X:", abc[abc.index("X:") + 2:], re.M) if "X:" in abc else None
    if second is not None:
        abc = abc[:abc.index("X:") + 2 + second.start()]
    options = {"inputFrom": "abc", "scale": scale, "adjustPageHeight": True,
               "pageWidth": max(500, int(width_px * 100 / scale)), "footer": "none",
               "pageMarginLeft": 50, "pageMarginRight": 50, "pageMarginTop": 50,
               "pageMarginBottom": 50, "breaks": "auto"}
    if one_page:
        options["pageHeight"] = 60000
    if transpose:
        options["transpose"] = str(int(transpose))
    with _lock:
        toolkit = _get_toolkit()
        toolkit.resetOptions()
        toolkit.setOptions(options)
        if not toolkit.loadData(abc):
            raise MusicError("verovio could not read this ABC", path=label)
        pages = [toolkit.renderToSVG(n) for n in range(1, toolkit.getPageCount() + 1)]
        timemap = toolkit.renderToTimemap()
    starts: dict[str, float] = {}
    # Repeated passes name their notes "<id>-rend2", ...; the SVG has only "<id>".
    timeline = []
    for entry in timemap:
        for note_id in entry.get("off", []):
            if note_id in starts:
                timeline.append((starts.pop(note_id), float(entry["qstamp"]),
                                 _REND_RE.sub("", note_id)))
        for note_id in entry.get("on", []):
            starts[note_id] = float(entry["qstamp"])
    timeline.sort()
    return Engraving(pages, timeline, sum(count_note_heads(p) for p in pages))


def count_note_heads(svg: str) -> int:
    """Return how many note heads an SVG page from verovio draws."""
    return svg.count('class="notehead"')


def _page_scale(svg: str) -> tuple[float, float, float, float]:
    outer, inner = _OUTER_RE.search(svg), _INNER_RE.search(svg)
    if not outer or not inner:
        raise MusicError("not an SVG page from verovio")
    width, height = float(outer.group(1)), float(outer.group(2))
    return width, height, width / float(inner.group(2)), height / float(inner.group(3))


def note_boxes(svg: str) -> dict[str, tuple[float, float, float, float]]:
    """Return {note id: (x, y, width, height)} of each note head, in the page's pixels."""
    _, _, sx, sy = _page_scale(svg)
    margin = _MARGIN_RE.search(svg)
    mx, my = (float(margin.group(1)), float(margin.group(2))) if margin else (0.0, 0.0)
    boxes = {}
    notes = list(_NOTE_RE.finditer(svg))
    for i, match in enumerate(notes):
        end = notes[i + 1].start() if i + 1 < len(notes) else len(svg)
        head = _HEAD_RE.search(svg, match.end(), end)
        if head:
            x, y = float(head.group(2)) + mx, float(head.group(3)) + my
            boxes[match.group(1)] = ((x - 60) * sx, (y - HEAD_HALF_HEIGHT - 40) * sy,
                                     (2 * HEAD_HALF_WIDTH + 120) * sx,
                                     (2 * HEAD_HALF_HEIGHT + 80) * sy)
    return boxes


def page_size(svg: str) -> tuple[float, float]:
    """Return a verovio page's (width, height) in pixels."""
    width, height, _, _ = _page_scale(svg)
    return width, height


def flatten_svg(svg: str) -> str:
    """Rewrite a verovio page into SVG Tiny 1.2 that Qt's QSvgRenderer draws completely.

    The inner <svg viewBox> becomes a scaling <g>, and each <text> with nested <tspan>s
    becomes one <text> carrying the position, anchor and size of its spans.
    """
    width, height, sx, sy = _page_scale(svg)
    inner = _INNER_RE.search(svg)
    attrs = inner.group(1)
    head = svg[:inner.start()].replace("<svg width", f'<svg viewBox="0 0 {width:g} {height:g}" '
                                       'width', 1)
    body = svg[inner.end():]
    close = body.rfind("</svg>")
    close = body.rfind("</svg>", 0, close)
    body = body[:close] + "</g>" + body[close + len("</svg>"):]
    out = f'{head}<g{attrs} transform="scale({sx:g} {sy:g})">{body}'
    return _TEXT_RE.sub(_flat_text, _EMPTY_TEXT_RE.sub("", out))


def _flat_text(match: re.Match) -> str:
    attrs = dict(_ATTR_RE.findall(match.group(1) or ""))
    for span in _TSPAN_ATTR_RE.findall(match.group(2)):
        attrs.update(_ATTR_RE.findall(span))
    content = re.sub(r"<[^>]+>", "", match.group(2)).strip()
    attrs.pop("id", None)
    attrs.pop("class", None)
    text_attrs = " ".join(f'{k}="{v}"' for k, v in attrs.items())
    return f"<text {text_attrs}>{content}</text>"


def svg_to_png(svg: str, zoom: float = 2.0) -> bytes:
    """Rasterise an SVG page to PNG bytes on a white background (resvg; no Qt, no system libs)."""
    try:
        import resvg_py
    except ImportError:
        raise MusicError("PNG export needs the 'resvg-py' package: pip install resvg-py") from None
    # verovio asks for "Times, serif"; resvg's default serif is Times New Roman, which most
    # Linux systems lack, so name a serif font that each platform has.
    serif = "Times New Roman" if sys.platform in ("win32", "darwin") else "DejaVu Serif"
    data = resvg_py.svg_to_bytes(svg_string=svg, background="white", zoom=zoom,
                                 serif_family=serif)
    return bytes(data)
