"""timeline.pdf: a chronology a busy officer can read, and trust, from the first page.

The cover shows whose log it is, the period, the crime references, what kinds of behaviour and
how often, and a chart of incidents per week so escalation is visible at a glance. Then every
item in time order, an impact summary, and an index of the evidence with its hashes. Text is set
in DejaVu Sans (shipped with matplotlib), embedded, so names in most scripts render.

A log can hold thousands of items, and the pack's first byte waits for this file (the zip's
size is known only once it exists). fpdf2's multi_cell re-measures a line's text for every
character it adds, and its text methods encode text a character at a time: a chronology of
2,000 incidents took over ten seconds, and even text() costs ~70 µs a line. So lines are laid
out here with the font's advance widths (remembered a word at a time), and a page's text is
written as one text object, its glyph codes looked up by str.translate. fpdf2 still makes the
pages, the drawing, the embedded font subsets and the file. The fpdf2 internals this needs are all
called through fpdf_internals.py (docs/adr/0001-hand-laid-pdf-on-fpdf2-internals.md).
"""

import functools
import gc
import importlib.util
import itertools
import logging
import sys
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from app import __version__
from app.export.conduct import course_of_conduct
from app.export.content import KIND_ORDER, PackContent
from app.export.times import in_zone, short_zone_time, zone_time
from app.models.advocate_note import AdvocateNotePublic
from app.models.codes import BEHAVIOUR_WORDS, Behaviour, Channel, ImpactArea, ReportMethod
from app.models.evidence import EvidencePublic
from app.models.impact_note import ImpactNotePublic
from app.models.incident import IncidentPublic
from app.models.police_report import PoliceReportPublic


@contextmanager
def _as_if_missing(module: str) -> Iterator[None]:
    """Imports of `module` fail inside the block, as if it were not installed (None in
    sys.modules means exactly that to the import system); left alone if already imported."""
    if module in sys.modules:
        yield
        return
    sys.modules[module] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        del sys.modules[module]


# fpdf2 imports numpy, when it is installed, only to decode images faster. This document has
# no images, and numpy (installed here with matplotlib, for the fonts) would cost every server
# process that has made a pack about 10 MiB and 0.1 s. Nothing else in the app uses numpy.
with _as_if_missing("numpy"):
    from fpdf import FPDF

    from app.export import fpdf_internals as internals


class _MissingGlyphsUnnamed(logging.Filter):
    """fpdf2 warns of the characters its font lacks by naming them: the person's words (a name
    in Chinese, an emoji) in the server's log. The warning stays; the characters do not."""

    MESSAGE = "Font %s is missing the following glyphs: %s"

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg == self.MESSAGE and isinstance(record.args, tuple):
            record.msg = "Font %s lacks glyphs for some characters (not named: they are text)"
            record.args = record.args[:1]
        return True


logging.getLogger("fpdf.output").addFilter(_MissingGlyphsUnnamed())

# Found without importing matplotlib, which would load numpy with it: over 10 MiB of memory in
# every server process, for a folder name.
_MATPLOTLIB = importlib.util.find_spec("matplotlib")
assert _MATPLOTLIB is not None and _MATPLOTLIB.origin is not None
FONT_DIR = Path(_MATPLOTLIB.origin).parent / "mpl-data" / "fonts" / "ttf"
# Only the faces the document uses: fpdf2 reads the whole of a font it is given, about 0.05 s
# and 4 MiB each.
FONT_FILES = {
    ("DejaVu", ""): "DejaVuSans.ttf",
    ("DejaVu", "B"): "DejaVuSans-Bold.ttf",
    ("DejaVuMono", ""): "DejaVuSansMono.ttf",
}
INK = (20, 20, 20)
MUTED = (90, 90, 90)
ACCENT = (24, 70, 120)
RULE = (210, 210, 210)
LABEL_WIDTH = 32  # mm: the labels of an item's fields ("What happened")

CHANNEL_WORDS = {
    Channel.phone_call: "Phone call",
    Channel.text_message: "Text message",
    Channel.messaging_app: "Messaging app",
    Channel.email: "Email",
    Channel.social_media: "Social media",
    Channel.in_person: "In person",
    Channel.letter_or_item: "Letter or item",
    Channel.via_someone_else: "Through someone else",
    Channel.other: "Other",
}
AREA_WORDS = {area: area.value.replace("_", " ").capitalize() for area in ImpactArea}
AREA_WORDS[ImpactArea.work_or_study] = "Work or study"
AREA_WORDS[ImpactArea.family_or_children] = "Family or children"
METHOD_WORDS = {
    ReportMethod.emergency_999: "999 call",
    ReportMethod.non_emergency_101: "101 call",
    ReportMethod.online: "Online report",
    ReportMethod.in_person: "In person",
    ReportMethod.other: "Other",
}
ENTRY_TITLES = {
    "incident": "Incident",
    "police_report": "Police report",
    "impact_note": "Impact on daily life",
    "advocate_note": "Advocate's note",
    "evidence": "Evidence",
}


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"


# Bytes that must be escaped in a PDF literal string.
_ESCAPES = {ord("\\"): "\\\\", ord("("): "\\(", ord(")"): "\\)", ord("\r"): "\\r"}


class _SubsetCodes(dict[int, str | None]):
    """Character -> its two-byte code in this document's subset of the font, as characters
    of a PDF literal string (escaped where needed), for str.translate.

    A character met for the first time is added to the subset (as fpdf2's own text methods
    do); one the font lacks maps to None, so it is left out, as fpdf2 leaves it out.
    """

    def __init__(self, font: Any) -> None:
        super().__init__()
        self._font = font

    def __missing__(self, codepoint: int) -> str | None:
        code = internals.subset_code(self._font, codepoint)
        value = (
            None
            if code is None
            else "".join(_ESCAPES.get(byte, chr(byte)) for byte in code.to_bytes(2, "big"))
        )
        self[codepoint] = value
        return value


class _Advances(dict[str, float]):
    """Character -> its advance width in thousandths of the font size, looked up in the font's
    metrics the first time the character is met."""

    def __init__(self, font: Any) -> None:
        super().__init__()
        self._widths = internals.advance_widths(font)
        self._missing = internals.missing_width(font)

    def __missing__(self, char: str) -> float:
        width = self[char] = float(self._widths.get(ord(char), self._missing))
        return width


class _Face:
    """One embedded font: how wide text is in it, where lines break, and how text is written."""

    def __init__(self, font: Any) -> None:
        self.font = font
        self.number = internals.resource_number(font)
        self._advance = _Advances(font)
        self._words: dict[str, float] = {}
        self._codes = _SubsetCodes(font)

    def units(self, text: str) -> float:
        """Width in thousandths of the font size."""
        return sum(map(self._advance.__getitem__, text))

    def _word_units(self, word: str) -> float:
        width = self._words.get(word)
        if width is None:
            width = self._words[word] = self.units(word)
        return width

    def wrap(self, text: str, size: float, width: float) -> list[str]:
        """Lines no wider than `width` points at `size`, broken at spaces (runs of white space
        become one space); a word longer than a whole line is broken where it must be."""
        limit = width * 1000 / size
        if text.isprintable() and self.units(text) <= limit:
            return [text]  # most values: a name, a date, a short sentence, on one line
        space = self._advance[" "]
        lines: list[str] = []
        for paragraph in text.splitlines() or [""]:
            line: list[str] = []
            used = 0.0
            for word in paragraph.split():
                needed = self._word_units(word)
                if line and used + space + needed <= limit:
                    line.append(word)
                    used += space + needed
                    continue
                if line:
                    lines.append(" ".join(line))
                if needed > limit:
                    *whole_lines, word = self._broken(word, limit)
                    lines.extend(whole_lines)
                    needed = self.units(word)
                line, used = [word], needed
            lines.append(" ".join(line))
        return lines

    def _broken(self, word: str, limit: float) -> list[str]:
        pieces: list[str] = []
        start, used = 0, 0.0
        for index, char in enumerate(word):
            advance = self._advance[char]
            if used + advance > limit and index > start:
                pieces.append(word[start:index])
                start, used = index, 0.0
            used += advance
        pieces.append(word[start:])
        return pieces

    def shown(self, line: str) -> str:
        """The line as a content stream's string operand: its subset codes."""
        return "(" + line.translate(self._codes) + ")"


@dataclass(frozen=True, eq=False)  # told apart by identity: a handful are made
class Style:
    face: _Face
    size: float  # points
    color: tuple[int, int, int] = INK


class Document(FPDF):
    """An A4 document whose text is laid out here and written, a page at a time, as one text
    object per page (see the module's docstring). Pages are numbered once all are made."""

    def __init__(self, footer_text: str, header_left: str = "", header_right: str = "") -> None:
        super().__init__(format="A4")
        self.set_margins(18, 18, 18)
        self.set_auto_page_break(auto=True, margin=20)
        self.regular, self.bold = self._face("DejaVu"), self._face("DejaVu", "B")
        self.body = Style(self.regular, 9.5)
        self.label = Style(self.bold, 9)
        self._footer = Style(self.regular, 7.5, MUTED)
        self._footer_text = footer_text
        self._header_left, self._header_right = header_left, header_right
        # The text object being built for the current page, and the font, size and colour
        # already set in it.
        self._text: list[str] = []
        self._text_state: Style | None = None
        self._fonts_on_page: set[int] = set()

    def _face(self, family: str, style: str = "") -> _Face:
        self.add_font(family, style, str(FONT_DIR / FONT_FILES[family, style]))
        return _Face(internals.embedded_font(self, family, style))

    @functools.cached_property
    def mono(self) -> _Face:
        """Read only when the evidence index needs it."""
        return self._face("DejaVuMono")

    def footer(self) -> None:
        """fpdf2 calls this as each page ends: its text goes onto it."""
        self._end_text()

    def number_pages(self) -> None:
        """The header and footer of every page, now that the number of pages is known: the
        case and the exhibit mark at the top (a page pulled from a bundle still says where it
        belongs), how to verify and the page number at the bottom."""
        self._end_text()
        last = self.page
        baseline = 10.7 * self.k  # from the bottom edge, where fpdf2 put a footer cell's text
        left = (self.l_margin + self.c_margin) * self.k
        header = Style(self.bold, 7.5, MUTED)
        for number in range(1, last + 1):
            self.page = number
            width, height = internals.page_size(self, number)
            right_edge = width - (self.r_margin + self.c_margin) * self.k
            page_of = f"Page {number} of {last}"
            self._show(self._footer, left, baseline, self._footer_text)
            self._show_right(self._footer, right_edge, baseline, page_of)
            if self._header_left or self._header_right:
                top = height - 11 * self.k
                self._show(header, left, top, self._header_left)
                self._show_right(header, right_edge, top, self._header_right)
            self._end_text()
        self.page = last

    def _show_right(self, style: Style, right: float, y: float, line: str) -> None:
        """The line ending at `right` (points)."""
        self._show(style, right - style.face.units(line) * style.size / 1000, y, line)

    def wrap(self, text: str, style: Style, width: float) -> list[str]:
        """`text` as lines for a cell `width` mm wide."""
        return style.face.wrap(text, style.size, (width - 2 * self.c_margin) * self.k)

    def place(self, style: Style, x: float, baseline: float, line: str) -> None:
        """One line of text on the current page, its left end at x and its baseline at
        `baseline` (mm from the top left corner, as fpdf2 measures)."""
        self._show(style, x * self.k, (self.h - baseline) * self.k, line)

    def _show(self, style: Style, x: float, y: float, line: str) -> None:
        """The line at (x, y) in the PDF's own coordinates: points from the bottom left."""
        if style is not self._text_state:
            self._text.append(self._font_operator(style) + " " + _fill_operator(style.color))
            self._text_state = style
        self._text.append(f"1 0 0 1 {x:.2f} {y:.2f} Tm {style.face.shown(line)} Tj")

    def _font_operator(self, style: Style) -> str:
        face = style.face
        if face.number not in self._fonts_on_page:
            internals.use_font_on_page(self, face.font, style.size)
            self._fonts_on_page.add(face.number)
        return f"/F{face.number} {style.size:.2f} Tf"

    def _end_text(self) -> None:
        """Writes the page's text object. q/Q keep its colours out of later drawing."""
        if self._text:
            internals.write_operators(self, "q BT " + " ".join(self._text) + " ET Q")
        self._text.clear()
        self._text_state = None
        self._fonts_on_page.clear()

    def write_lines(
        self, lines: Sequence[str], style: Style, line_height: float, x: float | None = None
    ) -> None:
        """Lines from `x` (the left margin by default) down, on as many pages as they take;
        the next text starts below them, at the left margin."""
        left = (self.l_margin if x is None else x) + self.c_margin
        # Where fpdf2 puts the baseline of text in a cell.
        drop = 0.5 * line_height + 0.3 * style.size / self.k
        for line in lines:
            if self.y + line_height > self.page_break_trigger and self.y > self.t_margin:
                self.add_page(same=True)
            self.place(style, left, self.y + drop, line)
            self.y += line_height
        self.x = self.l_margin

    def paragraph(self, text: str, style: Style, line_height: float) -> None:
        self.write_lines(self.wrap(text, style, self.epw), style, line_height)

    def heading(self, text: str, size: float = 15) -> None:
        self.paragraph(text, Style(self.bold, size, ACCENT), size * 0.55)
        self.ln(2)

    def field(self, label: str, value: str | None, style: Style | None = None) -> None:
        """A label on the left and its value beside it, wrapped; nothing when there is no value."""
        if not value:
            return
        if self.y + 5 > self.page_break_trigger:
            self.add_page(same=True)
        top = self.y
        self.write_lines([label], self.label, 5)
        self.y = top
        value_style = style or self.body
        self.write_lines(
            self.wrap(value, value_style, self.epw - LABEL_WIDTH),
            value_style,
            5,
            x=self.l_margin + LABEL_WIDTH,
        )

    def grid(
        self,
        widths: Sequence[float],
        header: Sequence[str],
        rows: Iterable[Sequence[str]],
        style: Style,
        line_height: float,
    ) -> None:
        """Ruled rows under a bold header, which is repeated at the top of every page the table
        runs onto."""
        heading = Style(self.bold, style.size, style.color)
        self.set_draw_color(*MUTED)
        self._table_row(widths, header, heading, line_height)
        for row in rows:
            if not self._table_row(widths, row, style, line_height):
                self.add_page(same=True)
                self._table_row(widths, header, heading, line_height)
                self._table_row(widths, row, style, line_height)

    def _table_row(
        self, widths: Sequence[float], cells: Sequence[str], style: Style, line_height: float
    ) -> bool:
        """Draws the row if it fits on this page; says whether it did."""
        wrapped = [self.wrap(text, style, width) for text, width in zip(cells, widths, strict=True)]
        height = max(len(lines) for lines in wrapped) * line_height
        top = self.y
        if top + height > self.page_break_trigger and top > self.t_margin:
            return False
        x = self.l_margin
        for lines, width in zip(wrapped, widths, strict=True):
            self.rect(x, top, width, height)
            self.y = top
            self.write_lines(lines, style, line_height, x=x)
            x += width
        self.set_xy(self.l_margin, top + height)
        return True


@functools.cache
def _fill_operator(color: tuple[int, int, int]) -> str:
    return " ".join(f"{component / 255:.3f}" for component in color) + " rg"


def render(content: PackContent, generated_at: datetime) -> bytes:
    return freed(lambda: _rendered(content, generated_at))


def freed(make: Callable[[], bytes]) -> bytes:
    """The document `make` renders, its memory given back as soon as it is made.

    fpdf2's document is a web of reference cycles (its output producer, its fonts and their
    subsets), so only the garbage collector frees it, and with a heap this size a full
    collection may not come before the pack has streamed: ~15 MiB held all that while.
    Collecting now, with every older object frozen out of the collection, takes
    milliseconds (not the ~0.15 s of a full collection).
    """
    gc.freeze()
    try:
        return make()
    finally:
        gc.collect()
        gc.unfreeze()


def _rendered(content: PackContent, generated_at: datetime) -> bytes:
    exhibits = content.exhibits
    doc = Document(
        "Verify this pack: see README.txt (sha256sum -c SHA256SUMS, and the signature).",
        header_left=case_header(content),
        header_right=f"Exhibit {content.chronology_exhibit}",
    )
    _cover(doc, content, generated_at)
    _chronology(doc, content, exhibits)
    if content.impact_notes:
        _impact_summary(doc, content)
    if content.evidence:
        _evidence_index(doc, content, exhibits)
    doc.number_pages()
    return bytes(doc.output())


def case_header(content: PackContent) -> str:
    """'Robin Ashworth · Crime ref CR/123456/26': a long list is cut, the cover has them all."""
    references = content.crime_references
    shown = ", ".join(references[:3]) + (
        f" and {len(references) - 3} more" if len(references) > 3 else ""
    )
    label = "Crime ref" if len(references) == 1 else "Crime refs"
    return f"{content.case_label}  ·  {label} {shown or 'none recorded'}"


def _cover(doc: Document, content: PackContent, generated_at: datetime) -> None:
    doc.add_page()
    doc.paragraph("Record of stalking incidents", Style(doc.bold, 22, ACCENT), 11)
    doc.paragraph("An evidence pack exported from Waymark.", Style(doc.regular, 11), 6)
    doc.ln(4)
    start, end = content.period()
    references = sorted({r.crime_reference for r in content.police_reports if r.crime_reference})
    doc.field("Kept by", content.victim.display_name)
    period = f"{in_zone(start):%d %b %Y} to {in_zone(end):%d %b %Y}" if start and end else ""
    doc.field("Period", period or "No dated items")
    doc.field("Crime refs", ", ".join(references) or "None recorded")
    doc.field("Exported by", f"{content.exported_by.display_name} ({content.exported_by.role})")
    doc.field("Generated", f"{short_zone_time(generated_at)}, Waymark {__version__}")
    if content.filters.crime_reference or content.filters.start or content.filters.end:
        f = content.filters
        doc.field(
            "Filtered to",
            "; ".join(
                part
                for part in (
                    f"crime reference {f.crime_reference}" if f.crime_reference else "",
                    f"from {short_zone_time(f.start)}" if f.start else "",
                    f"until {short_zone_time(f.end)}" if f.end else "",
                )
                if part
            ),
        )
    if content.wider_history is not None:
        doc.field(
            "Wider history", content.wider_history.describe(", ".join(content.crime_references))
        )
    doc.ln(3)
    counts = [
        ("Incidents", len(content.incidents)),
        ("Police reports", len(content.police_reports)),
        ("Impact notes", len(content.impact_notes)),
        ("Evidence files", len(content.evidence)),
        ("Advocate notes", len(content.advocate_notes)),
    ]
    doc.field("Contents", ", ".join(f"{n} {label.lower()}" for label, n in counts))
    doc.ln(4)
    _course_of_conduct(doc, content)


def _on(day: date | None) -> str:
    return f"{day:%d %b %Y}" if day else ""


def _course_of_conduct(doc: Document, content: PackContent) -> None:
    """Why this is stalking: the pattern, counted (app/export/conduct.py)."""
    conduct = course_of_conduct(content, BEHAVIOUR_WORDS, AREA_WORDS)
    table = Style(doc.regular, 8.5)
    doc.heading("Why this is stalking: the course of conduct", 13)
    doc.paragraph(
        "Counts from the record, under the headings of the Protection from Harassment Act "
        "1997 (s.2A(3) for the behaviours, s.4A for the effect) and the FOUR pattern. "
        "Whether they amount to stalking is for the officer and the court.",
        Style(doc.regular, 8.5, MUTED),
        4.5,
    )
    doc.ln(2)
    if not conduct.incidents:
        doc.paragraph("No incidents in this pack.", doc.body, 5)
    for word, facts in conduct.four:
        doc.field(word, facts)
    if conduct.s2a3:
        doc.ln(3)
        doc.heading("What was done, under s.2A(3)", 11)
        doc.grid(
            (58, 50, 18, 24, 24),
            ("s.2A(3)", "Recorded as", "Incidents", "First", "Last"),
            (
                (h.title, h.detail, str(h.incidents), _on(h.first), _on(h.last))
                for h in conduct.s2a3
            ),
            table,
            line_height=4.6,
        )
    if content.incidents:
        doc.ln(4)
        _weekly_chart(doc, content)
    if len(conduct.months) > 1:
        doc.heading("Escalation by month", 11)
        doc.grid(
            (30, 18, 126),
            ("Month", "Incidents", "Behaviours"),
            ((f"{m.month:%B %Y}", str(m.incidents), m.behaviours) for m in conduct.months),
            table,
            line_height=4.6,
        )
        doc.ln(4)
    if conduct.firsts:
        doc.heading("Firsts", 11)
        doc.grid(
            (80, 26),
            ("", "Date"),
            ((first.what, _on(first.on)) for first in conduct.firsts),
            table,
            line_height=4.6,
        )
        doc.ln(4)
    reports = sorted(content.police_reports, key=lambda r: r.reported_at)
    if reports:
        doc.heading("Reports to the police", 11)
        doc.grid(
            (36, 40, 24, 56, 18),
            ("Crime reference", "Reported", "How", "Force", "Incidents"),
            (
                (
                    r.crime_reference or "none given",
                    short_zone_time(r.reported_at),
                    METHOD_WORDS[ReportMethod(r.method)],
                    r.force or "",
                    str(len(r.incident_ids)),
                )
                for r in reports
            ),
            table,
            line_height=4.6,
        )
        doc.ln(4)
    if conduct.s4a:
        doc.heading("The effect on them, under s.4A", 11)
        doc.grid(
            (58, 50, 18, 24, 24),
            ("s.4A", "Recorded as", "Notes", "First", "Last"),
            ((h.title, h.detail, str(h.incidents), _on(h.first), _on(h.last)) for h in conduct.s4a),
            table,
            line_height=4.6,
        )


def _weekly_chart(doc: Document, content: PackContent) -> None:
    """Bars of incidents per week (Monday to Sunday, dates in the pack's zone)."""
    weeks: Counter[date] = Counter()
    for incident in content.incidents:
        day = in_zone(incident.occurred_at).date()
        weeks[day - timedelta(days=day.weekday())] += 1
    first, last = min(weeks), max(weeks)
    series = [
        (first + timedelta(weeks=n), weeks[first + timedelta(weeks=n)])
        for n in range((last - first).days // 7 + 1)
    ]
    series = series[-52:]  # the last year at most, so bars stay readable
    x0, width, height = doc.l_margin + 8, doc.epw - 8, 48
    if doc.get_y() + height + 24 > doc.h - doc.b_margin:
        doc.add_page()  # the heading with its chart, not alone at the foot of a page
    doc.heading("Escalation: incidents per week", 11)
    y0 = doc.get_y()
    peak = max(n for _, n in series) or 1
    bar = width / len(series)
    doc.set_draw_color(*MUTED)
    doc.line(x0, y0 + height, x0 + width, y0 + height)
    axis = Style(doc.regular, 7, MUTED)
    doc.place(axis, doc.l_margin, y0 + 3, str(peak))
    doc.place(axis, doc.l_margin, y0 + height, "0")
    doc.set_fill_color(*ACCENT)
    for index, (_, n) in enumerate(series):
        if n:
            bar_height = height * n / peak
            doc.rect(
                x0 + index * bar + bar * 0.12,
                y0 + height - bar_height,
                bar * 0.76,
                bar_height,
                style="F",
            )
    label_every = max(1, len(series) // 6)
    for index, (week_start, _) in enumerate(series):
        if index % label_every == 0:
            doc.place(axis, x0 + index * bar, y0 + height + 4, f"{week_start:%d %b}")
    doc.set_fill_color(255, 255, 255)
    doc.set_y(y0 + height + 8)


Entry = IncidentPublic | PoliceReportPublic | ImpactNotePublic | AdvocateNotePublic | EvidencePublic


def _chronology(doc: Document, content: PackContent, exhibits: dict[uuid.UUID, str]) -> None:
    doc.add_page()
    doc.heading("Chronology")
    evidence_of: dict[uuid.UUID, list[str]] = defaultdict(list)
    for file in content.evidence:
        for incident_id in file.incident_ids:
            evidence_of[incident_id].append(exhibits[file.id])
    entries: list[tuple[datetime, str, Entry]] = [
        (i.occurred_at, "incident", i) for i in content.incidents
    ]
    entries += [(r.reported_at, "police_report", r) for r in content.police_reports]
    entries += [(n.noted_at, "impact_note", n) for n in content.impact_notes]
    entries += [(n.created_at, "advocate_note", n) for n in content.advocate_notes]
    entries += [(content.placed_at(e), "evidence", e) for e in content.evidence]
    entries.sort(key=lambda entry: (entry[0].astimezone(UTC), KIND_ORDER[entry[1]]))
    if not entries:
        doc.paragraph("There is nothing in this pack's period.", Style(doc.regular, 10), 6)
    title = Style(doc.bold, 10.5)
    doc.set_draw_color(*RULE)
    for moment, kind, item in entries:
        if doc.get_y() > doc.h - 60:
            doc.add_page()
        doc.line(doc.l_margin, doc.get_y(), doc.l_margin + doc.epw, doc.get_y())
        doc.ln(2)
        approximate = isinstance(item, IncidentPublic) and item.time_is_approximate
        by_incident = isinstance(item, EvidencePublic) and item.id in content.placed_by_incident
        qualifier = (
            " (approximate time)"
            if approximate
            else " (the time of its incident)"
            if by_incident
            else ""
        )
        doc.paragraph(
            f"{zone_time(moment)}{qualifier}  ·  {ENTRY_TITLES[kind]}",
            title,
            6,
        )
        _entry_fields(doc, item, evidence_of, exhibits, content)
        doc.ln(2)


def _entry_fields(
    doc: Document,
    item: Entry,
    evidence_of: dict[uuid.UUID, list[str]],
    exhibits: dict[uuid.UUID, str],
    content: PackContent,
) -> None:
    if isinstance(item, IncidentPublic):
        if item.occurred_until:
            doc.field("Until", zone_time(item.occurred_until))
        doc.field("Behaviour", ", ".join(BEHAVIOUR_WORDS[Behaviour(b)] for b in item.behaviours))
        doc.field("How", CHANNEL_WORDS[Channel(item.channel)] if item.channel else None)
        doc.field("Where", item.location)
        doc.field("What happened", item.description)
        doc.field("Witnesses", item.witnesses)
        doc.field("How it felt", item.feelings)
        doc.field("Crime refs", ", ".join(item.crime_references))
        doc.field("Exhibits", ", ".join(evidence_of.get(item.id, [])))
    elif isinstance(item, PoliceReportPublic):
        doc.field("Crime ref", item.crime_reference or "None given")
        doc.field("How", METHOD_WORDS[ReportMethod(item.method)])
        doc.field("Force", item.force)
        doc.field("Officer", item.officer)
        doc.field("Notes", item.notes)
        doc.field("Covers", f"{len(item.incident_ids)} incident(s)" if item.incident_ids else None)
    elif isinstance(item, ImpactNotePublic):
        doc.field("Affects", ", ".join(AREA_WORDS[ImpactArea(a)] for a in item.areas))
        doc.field("In their words", item.description)
    elif isinstance(item, AdvocateNotePublic):
        doc.field("By", item.author.display_name)
        doc.field("Note", item.body)
    else:
        doc.field(
            "Exhibit",
            f"{exhibits[item.id]}  {item.original_filename} "
            f"({item.media_type}, {human_size(item.size)})",
        )
        doc.field("Description", item.description)
        doc.field("Captured", capture_words(item, content))
        doc.field("Uploaded", short_zone_time(item.uploaded_at))
    if not isinstance(item, AdvocateNotePublic):
        doc.field("Amended", amendments(content.revisions.get(item.id, [])))
        if not isinstance(item, EvidencePublic):
            doc.field("Logged", short_zone_time(item.recorded_at))


# Field names as the Amended line says them.
FIELD_WORDS = {
    "occurred_at": "time",
    "occurred_until": "end time",
    "time_is_approximate": "whether the time is approximate",
    "reported_at": "time reported",
    "noted_at": "time",
    "incident_ids": "incidents linked",
    "areas": "areas affected",
    "crime_reference": "crime reference",
}
NOT_CONTENT = frozenset({"revision", "at", "by", "id"})


def amendments(revisions: Sequence[dict[str, Any]]) -> str | None:
    """'03 Sep 2026 08:12 BST by Zoë Ní Bhriain: description changed; …': when each amendment
    was made, by whom, and what it changed (the versions themselves are in timeline.json)."""
    lines = []
    for before, after in itertools.pairwise(revisions):
        changed = [
            FIELD_WORDS.get(name, name.replace("_", " "))
            for name in after
            if name not in NOT_CONTENT and after.get(name) != before.get(name)
        ]
        by = (after.get("by") or {}).get("display_name") or "someone"
        at = short_zone_time(datetime.fromisoformat(after["at"]))
        lines.append(f"{at} by {by}: {', '.join(changed) or 'nothing'} changed")
    if not lines:
        return None
    return "; ".join(lines) + ". Every version is in timeline.json."


def capture_words(item: EvidencePublic, content: PackContent) -> str:
    if item.captured_at is None:
        words = f"no capture time in the file; uploaded {short_zone_time(item.uploaded_at)}"
        if item.id in content.placed_by_incident:
            words += "; placed with the incident it belongs to"
        return words
    claimed = f"{zone_time(item.captured_at)}, as the file itself claims"
    note = content.capture_notes.get(item.id)
    return f"{claimed} ({note})" if note else claimed


def _impact_summary(doc: Document, content: PackContent) -> None:
    doc.add_page()
    doc.heading("How this is affecting day-to-day life")
    doc.paragraph(
        "Impact notes grouped by the part of life affected (Protection from Harassment Act "
        "1997, s.4A: substantial adverse effect on usual day-to-day activities).",
        Style(doc.regular, 10),
        5,
    )
    doc.ln(3)
    by_area: dict[str, list[ImpactNotePublic]] = defaultdict(list)
    for note in content.impact_notes:
        for area in note.areas:
            by_area[area].append(note)
    for area in ImpactArea:
        notes = by_area.get(area.value)
        if not notes:
            continue
        doc.paragraph(f"{AREA_WORDS[area]} ({len(notes)})", Style(doc.bold, 10.5), 6)
        for note in notes:
            doc.paragraph(f"{zone_time(note.noted_at)}: {note.description}", doc.body, 5)
        doc.ln(2)


def _evidence_index(doc: Document, content: PackContent, exhibits: dict[uuid.UUID, str]) -> None:
    doc.add_page(orientation="L")
    doc.heading("Evidence index")
    doc.paragraph(
        "Each file is in the evidence/ folder exactly as it was uploaded. Capture times come "
        "from the file's own metadata and are what the file claims. SHA-256 is the fingerprint "
        "of the file's bytes: `sha256sum FILE` must give the same value.",
        Style(doc.regular, 10),
        5,
    )
    doc.ln(2)
    doc.grid(
        (16, 40, 26, 16, 36, 36, 91),
        ("Exhibit", "Original name", "Type", "Size", "Captured (claimed)", "Uploaded", "SHA-256"),
        (
            (
                exhibits[item.id],
                item.original_filename,
                item.media_type,
                human_size(item.size),
                short_zone_time(item.captured_at) if item.captured_at else "not in the file",
                short_zone_time(item.uploaded_at),
                item.sha256,
            )
            for item in content.evidence
        ),
        Style(doc.mono, 6.5),
        line_height=4.2,
    )
