"""timeline.pdf: a chronology a busy officer can read, and trust, from the first page.

The cover shows whose log it is, the period, the crime references, what kinds of behaviour and
how often, and a chart of incidents per week so escalation is visible at a glance. Then every
item in time order, an impact summary, and an index of the evidence with its hashes. Text is set
in DejaVu Sans (shipped with matplotlib), embedded, so names in most scripts render.
"""

import importlib.util
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from app import __version__
from app.export.content import PackContent, evidence_numbers
from app.models.codes import BEHAVIOUR_WORDS, Behaviour, Channel, ImpactArea, ReportMethod
from app.models.impact_note import ImpactNotePublic

# Found without importing matplotlib, which would load numpy with it: over 10 MiB of memory in
# every server process, for a folder name.
_MATPLOTLIB = importlib.util.find_spec("matplotlib")
assert _MATPLOTLIB is not None and _MATPLOTLIB.origin is not None
FONT_DIR = Path(_MATPLOTLIB.origin).parent / "mpl-data" / "fonts" / "ttf"
INK = (20, 20, 20)
MUTED = (90, 90, 90)
ACCENT = (24, 70, 120)

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


def local_time(moment: datetime) -> str:
    """As the victim wrote it: their local time and its offset from UTC."""
    offset = moment.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    zone = (
        "UTC"
        if minutes == 0
        else f"UTC{'+' if minutes > 0 else '-'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    )
    return f"{moment.strftime('%a %d %b %Y, %H:%M')} ({zone})"


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"


class _Document(FPDF):
    def __init__(self, footer_text: str) -> None:
        super().__init__(format="A4")
        self._footer_text = footer_text
        self.set_margins(18, 18, 18)
        self.set_auto_page_break(auto=True, margin=20)
        self.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
        self.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.add_font("DejaVu", "I", str(FONT_DIR / "DejaVuSans-Oblique.ttf"))
        self.add_font("DejaVuMono", "", str(FONT_DIR / "DejaVuSansMono.ttf"))
        self.add_font("DejaVuMono", "B", str(FONT_DIR / "DejaVuSansMono-Bold.ttf"))
        self.set_font("DejaVu", size=10)
        self.set_text_color(*INK)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font("DejaVu", size=7.5)
        self.set_text_color(*MUTED)
        self.cell(0, 5, self._footer_text, align="L")
        self.set_x(-40)
        self.cell(22, 5, f"Page {self.page_no()} of {{nb}}", align="R")
        self.set_text_color(*INK)

    def heading(self, text: str, size: float = 15) -> None:
        self.set_font("DejaVu", "B", size)
        self.set_text_color(*ACCENT)
        self.multi_cell(0, size * 0.55, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(*INK)
        self.set_font("DejaVu", size=10)
        self.ln(2)

    def field(self, label: str, value: str | None) -> None:
        if not value:
            return
        self.set_font("DejaVu", "B", 9)
        self.cell(32, 5, label)
        self.set_font("DejaVu", size=9.5)
        self.multi_cell(0, 5, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def render(content: PackContent, generated_at: datetime) -> bytes:
    numbers = evidence_numbers(content.evidence)
    doc = _Document(
        "Verify this pack: see README.txt (sha256sum -c SHA256SUMS, and the signature)."
    )
    _cover(doc, content, generated_at)
    _chronology(doc, content, numbers)
    if content.impact_notes:
        _impact_summary(doc, content)
    if content.evidence:
        _evidence_index(doc, content, numbers)
    return bytes(doc.output())


def _cover(doc: _Document, content: PackContent, generated_at: datetime) -> None:
    doc.add_page()
    doc.set_font("DejaVu", "B", 22)
    doc.set_text_color(*ACCENT)
    doc.multi_cell(0, 11, "Record of stalking incidents", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    doc.set_text_color(*INK)
    doc.set_font("DejaVu", size=11)
    doc.multi_cell(
        0, 6, "An evidence pack exported from Waymark.", new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    doc.ln(4)
    start, end = content.period()
    references = sorted({r.crime_reference for r in content.police_reports if r.crime_reference})
    doc.field("Kept by", content.victim.display_name)
    doc.field(
        "Period", f"{start:%d %b %Y} to {end:%d %b %Y}" if start and end else "No dated items"
    )
    doc.field("Crime refs", ", ".join(references) or "None recorded")
    doc.field("Exported by", f"{content.exported_by.display_name} ({content.exported_by.role})")
    doc.field(
        "Generated", f"{generated_at.astimezone(UTC):%d %b %Y %H:%M} UTC, Waymark {__version__}"
    )
    if content.filters.crime_reference or content.filters.start or content.filters.end:
        f = content.filters
        doc.field(
            "Filtered to",
            "; ".join(
                part
                for part in (
                    f"crime reference {f.crime_reference}" if f.crime_reference else "",
                    f"from {f.start:%d %b %Y}" if f.start else "",
                    f"until {f.end:%d %b %Y}" if f.end else "",
                )
                if part
            ),
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
    behaviours = Counter(b for i in content.incidents for b in i.behaviours)
    if behaviours:
        doc.heading("Behaviours recorded", 12)
        with doc.table(col_widths=(60, 25), width=85, align="LEFT", line_height=6) as table:
            table.row(("Behaviour", "Incidents"))
            for behaviour, n in behaviours.most_common():
                table.row((BEHAVIOUR_WORDS[Behaviour(behaviour)], str(n)))
        doc.ln(5)
    if content.incidents:
        _weekly_chart(doc, content)


def _weekly_chart(doc: _Document, content: PackContent) -> None:
    """Bars of incidents per week (Monday to Sunday, the victim's local dates)."""
    weeks: Counter[datetime] = Counter()
    for incident in content.incidents:
        day = incident.occurred_at.replace(hour=0, minute=0, second=0, microsecond=0)
        weeks[day - timedelta(days=day.weekday())] += 1
    first, last = min(weeks), max(weeks)
    series: list[tuple[datetime, int]] = []
    week = first
    while week <= last:
        match = [n for w, n in weeks.items() if w.date() == week.date()]
        series.append((week, sum(match)))
        week += timedelta(days=7)
    series = series[-52:]  # the last year at most, so bars stay readable
    doc.heading("Incidents per week", 12)
    x0, width, height = doc.l_margin + 8, doc.epw - 8, 48
    if doc.get_y() + height + 14 > doc.h - doc.b_margin:
        doc.add_page()
    y0 = doc.get_y()
    peak = max(n for _, n in series) or 1
    bar = width / len(series)
    doc.set_draw_color(*MUTED)
    doc.line(x0, y0 + height, x0 + width, y0 + height)
    doc.set_font("DejaVu", size=7)
    doc.set_text_color(*MUTED)
    doc.text(doc.l_margin, y0 + 3, str(peak))
    doc.text(doc.l_margin, y0 + height, "0")
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
            doc.text(x0 + index * bar, y0 + height + 4, f"{week_start:%d %b}")
    doc.set_text_color(*INK)
    doc.set_fill_color(255, 255, 255)
    doc.set_y(y0 + height + 8)


def _chronology(doc: _Document, content: PackContent, numbers: dict[uuid.UUID, str]) -> None:
    doc.add_page()
    doc.heading("Chronology")
    evidence_of: dict[uuid.UUID, list[str]] = defaultdict(list)
    for item in content.evidence:
        for incident_id in item.incident_ids:
            evidence_of[incident_id].append(numbers[item.id])
    entries: list[tuple[datetime, str, Any]] = [
        (i.occurred_at, "incident", i) for i in content.incidents
    ]
    entries += [(r.reported_at, "police_report", r) for r in content.police_reports]
    entries += [(n.noted_at, "impact_note", n) for n in content.impact_notes]
    entries += [(n.created_at, "advocate_note", n) for n in content.advocate_notes]
    entries += [(e.captured_at or e.uploaded_at, "evidence", e) for e in content.evidence]
    entries.sort(key=lambda entry: entry[0].astimezone(UTC))
    if not entries:
        doc.multi_cell(0, 6, "There is nothing in this pack's period.")
    for moment, kind, item in entries:
        if doc.get_y() > doc.h - 60:
            doc.add_page()
        doc.set_draw_color(210, 210, 210)
        doc.line(doc.l_margin, doc.get_y(), doc.l_margin + doc.epw, doc.get_y())
        doc.ln(2)
        doc.set_font("DejaVu", "B", 10.5)
        title = {
            "incident": "Incident",
            "police_report": "Police report",
            "impact_note": "Impact on daily life",
            "advocate_note": "Advocate's note",
            "evidence": "Evidence",
        }[kind]
        approximate = getattr(item, "time_is_approximate", False)
        doc.multi_cell(
            0,
            6,
            f"{local_time(moment)}{' (approximate time)' if approximate else ''}  ·  {title}",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        doc.set_font("DejaVu", size=9.5)
        _entry_fields(doc, kind, item, evidence_of, numbers)
        doc.ln(2)


def _entry_fields(
    doc: _Document,
    kind: str,
    item: object,
    evidence_of: dict[uuid.UUID, list[str]],
    numbers: dict[uuid.UUID, str],
) -> None:
    from app.models.advocate_note import AdvocateNotePublic
    from app.models.evidence import EvidencePublic
    from app.models.impact_note import ImpactNotePublic
    from app.models.incident import IncidentPublic
    from app.models.police_report import PoliceReportPublic

    if isinstance(item, IncidentPublic):
        if item.occurred_until:
            doc.field("Until", local_time(item.occurred_until))
        doc.field("Behaviour", ", ".join(BEHAVIOUR_WORDS[Behaviour(b)] for b in item.behaviours))
        doc.field("How", CHANNEL_WORDS[Channel(item.channel)] if item.channel else None)
        doc.field("Where", item.location)
        doc.field("What happened", item.description)
        doc.field("Witnesses", item.witnesses)
        doc.field("How it felt", item.feelings)
        doc.field("Crime refs", ", ".join(item.crime_references))
        doc.field("Evidence", ", ".join(evidence_of.get(item.id, [])))
        if item.revision > 1:
            doc.field("Amended", f"{item.revision - 1} time(s); every version is in timeline.json")
        doc.field("Logged", f"{item.recorded_at.astimezone(UTC):%d %b %Y %H:%M} UTC")
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
    elif isinstance(item, EvidencePublic):
        doc.field(
            "File",
            f"{numbers[item.id]}  {item.original_filename} "
            f"({item.media_type}, {human_size(item.size)})",
        )
        doc.field("Description", item.description)
        if item.captured_at:
            doc.field(
                "Captured", f"{item.captured_at:%d %b %Y %H:%M} UTC, as the file itself claims"
            )


def _impact_summary(doc: _Document, content: PackContent) -> None:
    doc.add_page()
    doc.heading("How this is affecting day-to-day life")
    doc.multi_cell(
        0,
        5,
        "Impact notes grouped by the part of life affected (Protection from Harassment Act "
        "1997, s.4A: substantial adverse effect on usual day-to-day activities).",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
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
        doc.set_font("DejaVu", "B", 10.5)
        doc.multi_cell(
            0, 6, f"{AREA_WORDS[area]} ({len(notes)})", new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
        doc.set_font("DejaVu", size=9.5)
        for note in notes:
            doc.multi_cell(
                0,
                5,
                f"{local_time(note.noted_at)}: {note.description}",
                new_x=XPos.LMARGIN,
                new_y=YPos.NEXT,
            )
        doc.ln(2)


def _evidence_index(doc: _Document, content: PackContent, numbers: dict[uuid.UUID, str]) -> None:
    doc.add_page(orientation="L")
    doc.heading("Evidence index")
    doc.multi_cell(
        0,
        5,
        "Each file is in the evidence/ folder exactly as it was uploaded. Capture times come "
        "from the file's own metadata and are what the file claims. SHA-256 is the fingerprint "
        "of the file's bytes: `sha256sum FILE` must give the same value.",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    doc.ln(2)
    doc.set_font("DejaVuMono", size=6.5)
    with doc.table(col_widths=(12, 56, 26, 16, 30, 30, 91), line_height=4.2) as table:
        table.row(
            ("No.", "Original name", "Type", "Size", "Captured (claimed)", "Uploaded", "SHA-256")
        )
        for item in content.evidence:
            table.row(
                (
                    numbers[item.id],
                    item.original_filename,
                    item.media_type,
                    human_size(item.size),
                    f"{item.captured_at:%d %b %Y %H:%M}" if item.captured_at else "not stated",
                    f"{item.uploaded_at:%d %b %Y %H:%M}",
                    item.sha256,
                )
            )
