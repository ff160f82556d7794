"""What goes into a pack: the victim's live records, filtered, in time order."""

import re
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy
from sqlmodel import Session, col, select

from app.export.times import PACK_ZONE, wall_time_in_zone, zone_date
from app.models.advocate_note import AdvocateNote, AdvocateNotePublic
from app.models.audit import AuditEvent
from app.models.evidence import Evidence, EvidencePublic
from app.models.impact_note import ImpactNote, ImpactNotePublic
from app.models.incident import Incident, IncidentPublic
from app.models.police_report import PoliceReport, PoliceReportPublic
from app.models.record import OwnedRecord
from app.models.user import Role, User
from app.services import (
    advocate_notes,
    evidence,
    identities,
    impact_notes,
    incidents,
    police_reports,
    records,
    sealing,
)


class Include(StrEnum):
    impact_notes = "impact_notes"
    evidence = "evidence"
    advocate_notes = "advocate_notes"


# Items at the same instant, in this order: a file placed by its incident comes after it.
KIND_ORDER = {
    kind: rank
    for rank, kind in enumerate(
        ("incident", "evidence", "police_report", "impact_note", "advocate_note")
    )
}


# Advocate notes (risk assessments, MARAC, safety plans, code words) are the charity's, not
# evidence: a pack carries them only when they are asked for by name.
DEFAULT_INCLUDE = frozenset({Include.impact_notes, Include.evidence})


@dataclass(frozen=True)
class PackFilters:
    start: datetime | None = None
    end: datetime | None = None
    crime_reference: str | None = None
    include: frozenset[Include] = DEFAULT_INCLUDE
    # Chosen at export, not filters: the letters of the exhibit references (the exporter's
    # initials unless given) and how every page names the case (the log keeper's name unless
    # given). describe() leaves them out; the manifest names them on their own.
    exhibit_prefix: str | None = None
    case_label: str | None = None

    def describe(self) -> dict[str, Any]:
        return {
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
            "crime_reference": self.crime_reference,
            "include": sorted(self.include),
        }


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One event of the custody trail, as the pack carries it: a plain copy of its row (a long
    trail as ORM objects takes twice the memory, held while the PDF is made)."""

    victim_id: uuid.UUID
    seq: int
    at: datetime
    actor_id: uuid.UUID | None
    actor_role: str
    action: str
    target_kind: str | None
    target_id: uuid.UUID | None
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class WiderHistory:
    """For a pack filtered by crime reference: the rest of the log, so an officer knows the
    reference is part of a longer course of conduct (counts and dates only)."""

    incidents: int  # every live incident in the log
    in_pack: int
    first: datetime | None
    last: datetime | None
    # Every other crime reference, with when it was first reported, oldest first.
    other_references: list[tuple[str, datetime]]

    def describe(self, reference: str) -> str:
        """The line the PDF and README.txt give it."""
        span = (
            f", from {zone_date(self.first)} to {zone_date(self.last)}"
            if self.first and self.last
            else ""
        )
        text = (
            f"This pack holds the {_count(self.in_pack, 'incident')} under {reference}. The "
            f"whole log has {_count(self.incidents, 'incident')}{span}: "
            f"{self.incidents - self.in_pack} of them are not in this pack."
        )
        if self.other_references:
            listed = ", ".join(
                f"{ref} (reported {zone_date(at)})" for ref, at in self.other_references
            )
            return f"{text} Other crime references: {listed}."
        return f"{text} There are no other crime references."


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


@dataclass(frozen=True)
class PackPerson:
    """Someone the pack names (who kept the log, who exported it), their name opened."""

    id: uuid.UUID
    display_name: str
    role: Role

    @classmethod
    def of(cls, db: Session, user: User) -> "PackPerson":
        return cls(id=user.id, display_name=identities.name_of(db, user), role=user.role)


@dataclass
class PackContent:
    victim: PackPerson
    exported_by: PackPerson
    filters: PackFilters
    incidents: list[IncidentPublic] = field(default_factory=list)
    impact_notes: list[ImpactNotePublic] = field(default_factory=list)
    police_reports: list[PoliceReportPublic] = field(default_factory=list)
    evidence: list[EvidencePublic] = field(default_factory=list)
    advocate_notes: list[AdvocateNotePublic] = field(default_factory=list)
    # Every revision of every record in the pack, by record id (oldest first).
    revisions: dict[uuid.UUID, list[dict[str, Any]]] = field(default_factory=dict)
    audit_events: list[AuditEntry] = field(default_factory=list)
    evidence_rows: dict[uuid.UUID, Evidence] = field(default_factory=dict)
    # Files whose capture time had no zone: what the pack says about how it was read.
    capture_notes: dict[uuid.UUID, str] = field(default_factory=dict)
    wider_history: WiderHistory | None = None
    # Files with no capture time, placed by the earliest incident of theirs in the pack.
    placed_by_incident: dict[uuid.UUID, datetime] = field(default_factory=dict)

    def placed_at(self, item: EvidencePublic) -> datetime:
        """Where a file sits in time order: when it claims to have been captured; with no such
        claim, at the incident it belongs to (a screenshot taken that night, uploaded weeks
        later, belongs beside it); with neither, when it was uploaded."""
        return item.captured_at or self.placed_by_incident.get(item.id) or item.uploaded_at

    @property
    def exhibit_prefix(self) -> str:
        return self.filters.exhibit_prefix or initials(self.exported_by.display_name)

    @property
    def exhibits(self) -> dict[uuid.UUID, str]:
        """Every original's exhibit reference: AH/1, AH/2… in timeline order."""
        return exhibit_references(self.evidence, self.exhibit_prefix)

    @property
    def chronology_exhibit(self) -> str:
        """timeline.pdf is produced as the exhibit after the last original."""
        return f"{self.exhibit_prefix}/{len(self.evidence) + 1}"

    @property
    def case_label(self) -> str:
        return self.filters.case_label or self.victim.display_name or "Unnamed"

    @property
    def crime_references(self) -> list[str]:
        """The crime references the pack is about: the one it was filtered by (as the reports
        write it, not as it was typed), or every one."""
        written = sorted({r.crime_reference for r in self.police_reports if r.crime_reference})
        if self.filters.crime_reference:
            return written[:1] or [self.filters.crime_reference]
        return written

    def period(self) -> tuple[datetime | None, datetime | None]:
        moments = [i.occurred_at for i in self.incidents] + [
            r.reported_at for r in self.police_reports
        ]
        moments += [n.noted_at for n in self.impact_notes]
        moments += [n.created_at for n in self.advocate_notes]
        moments += [self.placed_at(e) for e in self.evidence]
        if not moments:
            return self.filters.start, self.filters.end
        return min(moments), max(moments)


def _live(
    db: Session, model: type[OwnedRecord], owner_id: uuid.UUID, at: Any, f: PackFilters
) -> list[Any]:
    statement = (
        select(model)
        .where(model.owner_id == owner_id, col(model.withdrawn_at).is_(None))
        .order_by(col(at), col(model.id))
    )
    if f.start is not None:
        statement = statement.where(col(at) >= f.start)
    if f.end is not None:
        statement = statement.where(col(at) < f.end)
    return list(db.exec(statement).all())


def collect(
    db: Session,
    victim: User,
    exported_by: User,
    f: PackFilters,
    *,
    notes_of_share: uuid.UUID | None = None,
) -> PackContent:
    """With notes_of_share (an advocate's export), advocate notes are those of that share only,
    as on the advocate's case timeline; the victim's own pack holds every advocate's notes."""
    content = PackContent(
        victim=PackPerson.of(db, victim), exported_by=PackPerson.of(db, exported_by), filters=f
    )
    incident_rows: list[Incident] = _live(db, Incident, victim.id, Incident.occurred_at, f)
    report_rows: list[PoliceReport] = _live(
        db, PoliceReport, victim.id, PoliceReport.reported_at, f
    )
    if f.crime_reference:
        key = police_reports.reference_index(sealing.sealer(db, victim.id), f.crime_reference)
        report_rows = [r for r in report_rows if r.crime_reference_key == key]
        # Every live report with the reference, whenever it was made: an incident in the period
        # carries the reference even if it was reported after the period ended.
        referenced = db.exec(
            select(PoliceReport.id).where(
                PoliceReport.owner_id == victim.id,
                col(PoliceReport.withdrawn_at).is_(None),
                PoliceReport.crime_reference_key == key,
            )
        ).all()
        linked = police_reports.linked_incidents(db, list(referenced))
        wanted = {i for ids in linked.values() for i in ids}
        incident_rows = [i for i in incident_rows if i.id in wanted]
    content.incidents = incidents.to_public(db, incident_rows)
    content.police_reports = police_reports.to_public(db, report_rows)

    # With a crime reference, notes belong to the period its incidents span; impact notes
    # run on to the export, as the harm goes on after the last incident reported.
    span_start, span_end = f.start, f.end
    if f.crime_reference:
        times = [i.occurred_at for i in incident_rows] + [
            i.occurred_until for i in incident_rows if i.occurred_until
        ]
        span_start, span_end = (min(times), max(times)) if times else (None, None)
        content.wider_history = _wider_history(db, victim.id, key, len(incident_rows))

    def in_span(moment: datetime, *, to_the_export: bool = False) -> bool:
        if f.crime_reference and span_start is None:
            return False
        end = f.end if to_the_export else span_end
        return (span_start is None or moment >= span_start) and (end is None or moment <= end)

    note_rows: list[ImpactNote] = []
    if Include.impact_notes in f.include:
        notes: list[ImpactNote] = _live(db, ImpactNote, victim.id, ImpactNote.noted_at, f)
        note_rows = [n for n in notes if in_span(n.noted_at, to_the_export=True)]
        content.impact_notes = impact_notes.to_public(db, note_rows)
    if Include.advocate_notes in f.include:
        advocate_rows: list[AdvocateNote] = _live(
            db, AdvocateNote, victim.id, AdvocateNote.recorded_at, f
        )
        if notes_of_share is not None:
            advocate_rows = [n for n in advocate_rows if n.share_id == notes_of_share]
        content.advocate_notes = advocate_notes.to_public(
            db, [n for n in advocate_rows if in_span(n.recorded_at)]
        )
    if Include.evidence in f.include:
        evidence_rows: list[Evidence] = _live(db, Evidence, victim.id, Evidence.timeline_at, f)
        if f.crime_reference:
            of_incidents = incidents.evidence_of_incidents(db, [i.id for i in incident_rows])
            wanted_files = {e for ids in of_incidents.values() for e in ids}
            evidence_rows = [e for e in evidence_rows if e.id in wanted_files]
        content.evidence, content.capture_notes = _captures_in_pack_zone(
            evidence.to_public(db, evidence_rows)
        )
        content.evidence_rows = {row.id: row for row in evidence_rows}
        content.placed_by_incident = _placed_by_incident(content.evidence, content.incidents)
        content.evidence.sort(key=lambda e: (content.placed_at(e).astimezone(UTC), str(e.id)))

    # Every earlier version of every kind the victim can amend, as the API gives it.
    for incident in incident_rows:
        if incident.revision > 1:
            content.revisions[incident.id] = _dumped(
                records.revisions(db, incidents.KIND, incident)
            )
    for report in report_rows:
        if report.revision > 1:
            content.revisions[report.id] = _dumped(
                records.revisions(db, police_reports.KIND, report)
            )
    for note in note_rows:
        if note.revision > 1:
            content.revisions[note.id] = _dumped(records.revisions(db, impact_notes.KIND, note))
    for row in content.evidence_rows.values():
        if row.revision > 1:
            content.revisions[row.id] = _dumped(records.revisions(db, evidence.KIND, row))
    content.audit_events = _custody_trail(db, victim.id)
    return content


def _wider_history(db: Session, owner_id: uuid.UUID, key: str | None, in_pack: int) -> WiderHistory:
    everything = PackFilters()
    incident_rows: list[Incident] = _live(db, Incident, owner_id, Incident.occurred_at, everything)
    report_rows: list[PoliceReport] = _live(
        db, PoliceReport, owner_id, PoliceReport.reported_at, everything
    )
    others: dict[str, datetime] = {}
    # Read through the service, as every record's text is: the reference is the victim's words.
    for report in police_reports.to_public(
        db, [r for r in report_rows if r.crime_reference_key != key]
    ):
        if report.crime_reference and report.crime_reference not in others:
            others[report.crime_reference] = report.reported_at
    moments = [i.occurred_at for i in incident_rows]
    return WiderHistory(
        incidents=len(incident_rows),
        in_pack=in_pack,
        first=min(moments, default=None),
        last=max(moments, default=None),
        other_references=sorted(others.items(), key=lambda item: item[1]),
    )


def _placed_by_incident(
    items: list[EvidencePublic], incidents_in_pack: list[IncidentPublic]
) -> dict[uuid.UUID, datetime]:
    occurred = {incident.id: incident.occurred_at for incident in incidents_in_pack}
    placed = {}
    for item in items:
        times = [occurred[i] for i in item.incident_ids if i in occurred]
        if item.captured_at is None and times:
            placed[item.id] = min(times)
    return placed


def _captures_in_pack_zone(
    items: list[EvidencePublic],
) -> tuple[list[EvidencePublic], dict[uuid.UUID, str]]:
    """Capture times a file gave without a zone, read in the pack's zone rather than as UTC.

    Such a time is stored as its clock reading taken as UTC (the upload cannot know the
    person's zone); a phone in the UK in August writes 07:05 meaning 07:05 BST, 06:05 UTC.
    The files are put back in time order, so their numbers follow the corrected times.
    """
    notes: dict[uuid.UUID, str] = {}
    placed: list[EvidencePublic] = []
    for item in items:
        zone_known = item.file_metadata.get("capture_time_zone_known")
        if item.captured_at is not None and zone_known is False:
            zone_words = "the file gives no time zone, so it is read as UK time"
            if item.file_metadata.get("capture_time_zone_assumed"):
                # Read as UK time when it was kept (services/file_metadata.py).
                notes[item.id] = zone_words
            else:
                # Kept before that, as its clock reading taken as UTC.
                wall = wall_time_in_zone(item.captured_at.astimezone(UTC), PACK_ZONE)
                notes[item.id] = f"{zone_words}; {wall.note}" if wall.note else zone_words
                item = item.model_copy(update={"captured_at": wall.instant})
        placed.append(item)
    placed.sort(key=lambda e: ((e.captured_at or e.uploaded_at).astimezone(UTC), str(e.id)))
    return placed, notes


def _custody_trail(db: Session, victim_id: uuid.UUID) -> list[AuditEntry]:
    columns = [getattr(AuditEvent, entry_field.name) for entry_field in fields(AuditEntry)]
    rows = db.execute(
        sqlalchemy.select(*columns)
        .where(col(AuditEvent.victim_id) == victim_id)
        .order_by(col(AuditEvent.seq))
    )
    return [AuditEntry(*row) for row in rows]


def _dumped(revisions: Sequence[Any]) -> list[dict[str, Any]]:
    return [revision.model_dump(mode="json") for revision in revisions]


def utc_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


# When a name gives no letters A to Z (a name in another script): "exhibit".
NO_INITIALS = "EX"


def initials(name: str | None) -> str:
    """The first letter of each part of a name, as a statement's exhibit references use:
    "Zoë Ní Bhriain" gives ZNB, "Mary-Jane O'Neil" MJO. At most four letters."""
    letters = []
    for part in re.split(r"[\s\-]+", name or ""):
        folded = unicodedata.normalize("NFKD", part).encode("ascii", "ignore").decode()
        first = next((c for c in folded if c.isalpha()), None)
        if first:
            letters.append(first.upper())
    return "".join(letters[:4]) or NO_INITIALS


def exhibit_references(items: Sequence[EvidencePublic], prefix: str) -> dict[uuid.UUID, str]:
    """AH/1, AH/2… in timeline order (items come sorted by their timeline time)."""
    return {item.id: f"{prefix}/{n}" for n, item in enumerate(items, start=1)}
