"""Sheet music: engrave ABC with verovio into SVG pages, plus what a score view needs around it.

`engrave(abc)` checks the tune first with the ABC tokeniser (verovio accepts nearly anything
silently), so a broken tune raises MusicError with its line and column instead of giving a blank
page. verovio itself runs only in a worker process (app.music.isolate; this process never
imports it), because its ABC reader aborts or segfaults on common notation. `prepare_abc`
(in `verovio_abc`) rewrites the known triggers before they reach it: a `:|` closing a section
that has no `|:` gets one (`|:A:|B:|` -> `|:A:||:B:|`), `:|:` becomes `:||:`, and an ending
followed at once by a chord symbol or decoration (`[2"G"`) gets a space. When that fast route
still fails or kills the worker, the tune goes music21 -> MusicXML -> verovio in the
(restarted) worker instead. The result holds the SVG pages, the timemap (note id -> onset and
offset in quarter notes, repeats as verovio plays them), the number of note heads and the route
taken. `flatten_svg` rewrites verovio's SVG into the SVG Tiny 1.2 subset that Qt's renderer
draws (no nested <svg>, no nested <tspan>); `note_boxes` gives each note head's rectangle in
page pixels for highlighting; `svg_to_png` rasterises through resvg.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from dataclasses import dataclass, field

from app.music.errors import EngineCancelled, MusicError
from app.music.verovio_abc import prepare_abc

log = logging.getLogger(__name__)
DEFAULT_SCALE = 40          # verovio's zoom in percent: 40 gives ~18 px between staff lines
DEFAULT_WIDTH_PX = 900
ENGRAVE_TIMEOUT = 20.0      # seconds verovio's ABC route may take in the worker
FALLBACK_TIMEOUT = 60.0     # the MusicXML route: music21 takes 10 s and more on a long tune
ROUTE_ABC, ROUTE_MUSICXML = "abc", "musicxml"
VEROVIO_READS = ("unsupported-decoration", "unsupported-rest")  # music21 drops H, x; verovio not
_toolkit = None             # in the worker process only
_worker = None
_worker_lock = threading.Lock()

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
    route: str = ROUTE_ABC  # how verovio read the tune: ABC directly, or MusicXML from music21
    graces: frozenset[str] = frozenset()  # the ids of grace notes (verovio times them too)

    def note_at(self, quarters: float) -> str | None:
        """Return the id of the note sounding at a time in quarter notes, or None."""
        from app.music.score_follow import note_at

        return note_at(self.timeline, quarters)


def check_abc(abc: str, label: str | None = None, *, allow: tuple[str, ...] = ()) -> None:
    """Raise MusicError at the first line and column where the tune is not ABC music.

    `allow` names tokeniser error codes to pass over (say, ones only music21 cannot read).
    """
    from app.music.abc_tokens import ERROR, NOTE, REST, tokenize_tune

    tokens = tokenize_tune(abc)
    if not tokens.has_key:
        raise MusicError("no K: (key) field, so this is not an ABC tune", path=label)
    for token in tokens.body:
        if token.kind == ERROR:
            if isinstance(token.value, tuple) and token.value[0] in allow:
                continue
            message = token.value[-1] if isinstance(token.value, tuple) else str(token.value)
            raise MusicError(message, path=label, line=token.line, column=token.column)
    if not any(t.kind in (NOTE, REST) for t in tokens.body):
        raise MusicError("the tune has no notes", path=label)


def engraver():
    """Return the worker process verovio runs in (one per app, started on first use)."""
    global _worker
    with _worker_lock:
        if _worker is None:
            from app.music.isolate import RECYCLE_AFTER_CALLS, Worker

            _worker = Worker("engraver", RECYCLE_AFTER_CALLS["engraver"])
        return _worker


def warm_up() -> None:
    """Start the engraver and load verovio there now (the first engraving would pay for it)."""
    engraver().call(_load_toolkit, timeout=None)


def cancel_engraving(tag: object) -> bool:
    """Stop the engraving started with this `tag`, if it is the one running (the engraver
    restarts for the next); return whether one was stopped."""
    return engraver().cancel(tag)


def engrave(abc: str, *, width_px: int = DEFAULT_WIDTH_PX, scale: int = DEFAULT_SCALE,
            one_page: bool = True, transpose: int = 0, label: str | None = None,
            tag: object = None) -> Engraving:
    """Engrave one ABC tune as SVG, `width_px` wide; one tall page unless one_page is False.

    `transpose` (semitones) engraves the tune in another key, as playback and MIDI export do.
    `tag` marks the engraving so that `cancel_engraving(tag)` can stop it (EngineCancelled).

    Raises MusicError (with line and column where known) for ABC that is not a tune, and
    MusicError naming the tune's file when neither route could engrave it (a crash of verovio
    included: it only costs the worker process).
    """
    check_abc(abc, label, allow=VEROVIO_READS)
    abc = prepare_abc(abc)
    options = {"scale": scale, "adjustPageHeight": True,
               "pageWidth": max(500, int(width_px * 100 / scale)), "footer": "none",
               "pageMarginLeft": 50, "pageMarginRight": 50, "pageMarginTop": 50,
               "pageMarginBottom": 50, "breaks": "auto"}
    if one_page:
        options["pageHeight"] = 60000
    if transpose:
        options["transpose"] = str(int(transpose))
    worker = engraver()
    try:
        pages, timemap, graces = worker.call(_render, abc, "abc", options,
                                             timeout=ENGRAVE_TIMEOUT, tag=tag)
        route = ROUTE_ABC
    except MusicError as first:
        if isinstance(first, EngineCancelled):
            raise
        log.info("%s: verovio's ABC route failed (%s); engraving through MusicXML",
                 label or "tune", first.message)
        try:
            pages, timemap, graces = worker.call(_render_musicxml, abc, options, label,
                                                 timeout=FALLBACK_TIMEOUT, tag=tag)
        except EngineCancelled:
            raise
        except MusicError as second:
            raise MusicError(f"{first.message}; the MusicXML route failed too: "
                             f"{second.message}", path=label) from None
        route = ROUTE_MUSICXML
    return _engraving(pages, timemap, graces, route)


def _engraving(pages: list[str], timemap: list[dict], graces: list[str], route: str
               ) -> Engraving:
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
    return Engraving(pages, timeline, sum(count_note_heads(p) for p in pages), route,
                     frozenset(graces))


# -- in the worker process --------------------------------------------------------------------
def _load_toolkit():
    global _toolkit
    if _toolkit is None:
        import verovio

        verovio.enableLog(verovio.LOG_OFF)
        _toolkit = verovio.toolkit()
    return None


def _render(text: str, input_from: str, options: dict) -> tuple[list[str], list[dict]]:
    """Run verovio on ABC or MusicXML text; return (SVG pages, timemap, the grace notes' ids).
    Worker process only."""
    _load_toolkit()
    _toolkit.resetOptions()
    _toolkit.setOptions(dict(options, inputFrom=input_from))
    if not _toolkit.loadData(text):
        raise MusicError(f"verovio could not read this {'ABC' if input_from == 'abc' else 'MusicXML'}")
    pages = [_toolkit.renderToSVG(n) for n in range(1, _toolkit.getPageCount() + 1)]
    if not pages:
        raise MusicError("verovio drew no page")
    timemap = _toolkit.renderToTimemap()
    notes = {_REND_RE.sub("", i) for entry in timemap for i in entry.get("on", [])}
    graces = sorted(i for i in notes if "grace" in _toolkit.getElementAttr(i))
    return pages, timemap, graces


def _render_musicxml(abc: str, options: dict, label: str | None):
    """The slow route: music21 reads the ABC, verovio engraves its MusicXML. Worker only."""
    from app.music.abc_midi import abc_to_musicxml

    xml = abc_to_musicxml(abc, label=label).decode("utf-8")
    return _render(xml, "musicxml", options)


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
    if not content:
        # verovio writes empty chord symbols as a 0px <text>: Qt would warn once for each
        # ("QFont::setPointSizeF: Point size <= 0") and draw nothing
        return ""
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
