"""Police reports: each contact with the police, its crime reference and the incidents it covers."""

import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlmodel import Session, col, delete, select

from app.models.codes import ReportMethod
from app.models.fields import at_offset, offset_minutes
from app.models.police_report import (
    PoliceReport,
    PoliceReportCreate,
    PoliceReportFields,
    PoliceReportIncident,
    PoliceReportPublic,
    crime_reference_key,
)
from app.models.user import User
from app.services import incidents, records


def linked_incidents(
    db: Session, report_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    if not report_ids:
        return {}
    rows = db.exec(
        select(PoliceReportIncident.police_report_id, PoliceReportIncident.incident_id).where(
            col(PoliceReportIncident.police_report_id).in_(report_ids)
        )
    ).all()
    links: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for report_id, incident_id in rows:
        links[report_id].append(incident_id)
    return {report_id: sorted(ids) for report_id, ids in links.items()}


def _fields(report: PoliceReport, incident_ids: list[uuid.UUID]) -> PoliceReportFields:
    return PoliceReportFields.model_construct(
        crime_reference=report.crime_reference,
        reported_at=at_offset(report.reported_at, report.reported_at_offset),
        force=report.force,
        officer=report.officer,
        method=ReportMethod(report.method),
        notes=report.notes,
        incident_ids=incident_ids,
    )


def read(db: Session, report: PoliceReport) -> PoliceReportFields:
    return _fields(report, linked_incidents(db, [report.id]).get(report.id, []))


def write(report: PoliceReport, fields: PoliceReportFields) -> None:
    report.crime_reference = fields.crime_reference
    report.crime_reference_key = (
        crime_reference_key(fields.crime_reference) if fields.crime_reference else None
    )
    report.reported_at = fields.reported_at
    report.reported_at_offset = offset_minutes(fields.reported_at)
    report.force = fields.force
    report.officer = fields.officer
    report.method = fields.method
    report.notes = fields.notes


def _link(db: Session, report: PoliceReport, fields: PoliceReportFields) -> None:
    """Point the report at exactly these incidents, which must be the owner's own."""
    wanted = set(fields.incident_ids)
    incidents.require_owned(db, report.owner_id, wanted)
    db.exec(
        delete(PoliceReportIncident).where(col(PoliceReportIncident.police_report_id) == report.id)
    )
    for incident_id in sorted(wanted):
        db.add(PoliceReportIncident(police_report_id=report.id, incident_id=incident_id))
    db.flush()


def search_text(fields: PoliceReportFields) -> str:
    return "\n".join(
        part
        for part in (fields.crime_reference, fields.force, fields.officer, fields.notes)
        if part
    )


KIND = records.RecordKind(
    name="police_report",
    model=PoliceReport,
    fields=PoliceReportFields,
    read=read,
    write=write,
    search_text=search_text,
    after_write=_link,
)


def create(db: Session, owner: User, body: PoliceReportCreate) -> tuple[PoliceReport, bool]:
    fields = PoliceReportFields.model_validate(body.model_dump(exclude={"id"}))
    return records.create(db, KIND, owner, fields, body.id)


def to_public(db: Session, reports: Sequence[PoliceReport]) -> list[PoliceReportPublic]:
    links = linked_incidents(db, [r.id for r in reports])
    return [
        PoliceReportPublic.model_validate(
            {
                **_fields(report, links.get(report.id, [])).model_dump(),
                **records.server_fields(report),
            }
        )
        for report in reports
    ]
