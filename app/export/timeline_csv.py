"""timeline.csv: every item of the pack, one row each, every field, safe to open in a spreadsheet.

The file follows RFC 4180 (CRLF between records, a field holding a comma, a double quote or a
line break enclosed in double quotes, a double quote inside one doubled), with a byte-order mark
so spreadsheet programs read names in any script as UTF-8.

A spreadsheet runs a cell that begins with = + - or @ as a formula, and some treat a leading
tab or carriage return the same way: a description reading `=HYPERLINK("http://x","y")` would
become a link that sends whoever clicks it, with what the sheet holds, to someone else's server.
Such cells get a leading apostrophe, which spreadsheets take as "this is text"; the text is
otherwise exactly the person's. timeline.json holds every value unaltered.

Times are given twice: the UTC instant (`at`, `*_at`, ISO 8601 with Z) for software, and UK
time named BST or GMT (`uk_time`, `*_uk_time`) for the person reading.
"""

import csv
import io
import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime

from app.export.content import KIND_ORDER, PackContent
from app.export.times import short_zone_time, utc_instant
from app.models.advocate_note import AdvocateNotePublic
from app.models.evidence import EvidencePublic
from app.models.impact_note import ImpactNotePublic
from app.models.incident import IncidentPublic
from app.models.police_report import PoliceReportPublic

COLUMNS = (
    "kind",
    "id",
    "exhibit",
    "at",
    "uk_time",
    "until_at",
    "until_uk_time",
    "time_is_approximate",
    "behaviours",
    "channel",
    "location",
    "description",
    "witnesses",
    "feelings",
    "impact_areas",
    "crime_references",
    "report_method",
    "force",
    "officer",
    "notes",
    "author",
    "incident_ids",
    "exhibits",
    "evidence_ids",
    "file",
    "original_filename",
    "media_type",
    "size",
    "sha256",
    "captured_at",
    "captured_uk_time",
    "capture_note",
    "uploaded_at",
    "uploaded_uk_time",
    "recorded_at",
    "recorded_uk_time",
    "updated_at",
    "updated_uk_time",
    "revision",
    "withdrawn",
)

# What a spreadsheet may take as the start of a formula.
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")

Cells = dict[str, str]


def safe_cell(value: str) -> str:
    """The value, with an apostrophe before it if a spreadsheet would run it as a formula."""
    return "'" + value if value.startswith(FORMULA_LEADS) else value


def _times(prefix: str, moment: datetime | None) -> Cells:
    if moment is None:
        return {}
    return {f"{prefix}_at": utc_instant(moment), f"{prefix}_uk_time": short_zone_time(moment)}


def _joined(values: Iterable[object]) -> str:
    return ";".join(str(value) for value in values)


def _server_fields(
    item: IncidentPublic | PoliceReportPublic | ImpactNotePublic | EvidencePublic,
) -> Cells:
    return {
        **_times("recorded", item.recorded_at),
        **_times("updated", item.updated_at),
        "revision": str(item.revision),
        "withdrawn": str(item.withdrawn),
    }


def _incident(item: IncidentPublic, exhibits: dict[uuid.UUID, str]) -> Cells:
    return {
        **_times("until", item.occurred_until),
        "time_is_approximate": str(item.time_is_approximate),
        "behaviours": _joined(item.behaviours),
        "channel": item.channel or "",
        "location": item.location or "",
        "description": item.description,
        "witnesses": item.witnesses or "",
        "feelings": item.feelings or "",
        "crime_references": _joined(item.crime_references),
        "exhibits": _joined(exhibits[e] for e in item.evidence_ids if e in exhibits),
        "evidence_ids": _joined(item.evidence_ids),
        **_server_fields(item),
    }


def _police_report(item: PoliceReportPublic) -> Cells:
    return {
        "crime_references": item.crime_reference or "",
        "report_method": item.method,
        "force": item.force or "",
        "officer": item.officer or "",
        "notes": item.notes or "",
        "incident_ids": _joined(item.incident_ids),
        **_server_fields(item),
    }


def _impact_note(item: ImpactNotePublic) -> Cells:
    return {
        "impact_areas": _joined(item.areas),
        "description": item.description,
        **_server_fields(item),
    }


def _advocate_note(item: AdvocateNotePublic) -> Cells:
    return {
        "notes": item.body,
        "author": item.author.display_name or "",
        **_times("recorded", item.created_at),
        "withdrawn": "False",  # the pack holds only live notes
    }


def _evidence(
    item: EvidencePublic, exhibit: str, path: str, capture_notes: dict[uuid.UUID, str]
) -> Cells:
    return {
        "exhibit": exhibit,
        "description": item.description,
        "incident_ids": _joined(item.incident_ids),
        "file": path,
        "original_filename": item.original_filename,
        "media_type": item.media_type,
        "size": str(item.size),
        "sha256": item.sha256,
        **_times("captured", item.captured_at),
        "capture_note": (
            capture_notes.get(item.id, "") if item.captured_at else "no capture time in the file"
        ),
        **_times("uploaded", item.uploaded_at),
        **_server_fields(item),
    }


def _rows(
    content: PackContent, exhibits: dict[uuid.UUID, str], paths: dict[uuid.UUID, str]
) -> Iterator[tuple[datetime, str, uuid.UUID, Cells]]:
    for incident in content.incidents:
        yield incident.occurred_at, "incident", incident.id, _incident(incident, exhibits)
    for report in content.police_reports:
        yield report.reported_at, "police_report", report.id, _police_report(report)
    for note in content.impact_notes:
        yield note.noted_at, "impact_note", note.id, _impact_note(note)
    for advocate_note in content.advocate_notes:
        yield (
            advocate_note.created_at,
            "advocate_note",
            advocate_note.id,
            _advocate_note(advocate_note),
        )
    for item in content.evidence:
        cells = _evidence(item, exhibits[item.id], paths[item.id], content.capture_notes)
        yield content.placed_at(item), "evidence", item.id, cells


def timeline_csv(
    content: PackContent, exhibits: dict[uuid.UUID, str], paths: dict[uuid.UUID, str]
) -> bytes:
    """In the order of timeline.json: by instant, then kind (KIND_ORDER), then id."""
    rows = sorted(
        _rows(content, exhibits, paths),
        key=lambda row: (row[0].timestamp(), KIND_ORDER[row[1]], str(row[2])),
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for moment, kind, record_id, cells in rows:
        cells |= {
            "kind": kind,
            "id": str(record_id),
            "at": utc_instant(moment),
            "uk_time": short_zone_time(moment),
        }
        writer.writerow([safe_cell(cells.get(column, "")) for column in COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
