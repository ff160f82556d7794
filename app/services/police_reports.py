"""Police reports: each contact with the police, its crime reference and the incidents it covers."""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row
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
from app.services import incidents, records, sealing


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


TABLE = PoliceReport.__tablename__
SEALED = ("crime_reference", "force", "officer", "notes")
# The purpose of the key a crime reference's blind index is made with.
REFERENCE_INDEX = "crime-reference"

_FIELD_ORDER = tuple(PoliceReportFields.model_fields)


def fields_of(
    sealer: sealing.Sealer, row: PoliceReport | Row[Any], incident_ids: list[uuid.UUID]
) -> PoliceReportFields:
    """The police report's read model (from the table model or a row of its columns)."""
    opened: dict[str, Any] = {
        name: sealer.open(
            getattr(row, name), table=TABLE, row_id=row.id, field=name, revision=row.revision
        )
        for name in SEALED
    }
    values = {
        "reported_at": at_offset(row.reported_at, row.reported_at_offset),
        "method": ReportMethod(row.method),
        "incident_ids": incident_ids,
        **opened,
    }
    # In the schema's order, which is the order of the JSON.
    return PoliceReportFields.model_construct(**{name: values[name] for name in _FIELD_ORDER})


def reference_index(sealer: sealing.Sealer, reference: str) -> str:
    """What a crime reference is filtered by: its blind index, under the victim's own key."""
    return sealer.blind_index(REFERENCE_INDEX, crime_reference_key(reference))


def read(db: Session, report: PoliceReport) -> PoliceReportFields:
    return fields_of(
        sealing.sealer(db, report.owner_id),
        report,
        linked_incidents(db, [report.id]).get(report.id, []),
    )


def write(db: Session, report: PoliceReport, fields: PoliceReportFields) -> None:
    sealer = sealing.sealer(db, report.owner_id)
    for name in SEALED:
        sealed = sealer.seal(
            getattr(fields, name),
            table=TABLE,
            row_id=report.id,
            field=name,
            revision=report.revision,
        )
        setattr(report, name, sealed)
    report.crime_reference_key = (
        reference_index(sealer, fields.crime_reference) if fields.crime_reference else None
    )
    report.reported_at = fields.reported_at
    report.reported_at_offset = offset_minutes(fields.reported_at)
    report.method = fields.method


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
                **fields_of(
                    sealing.sealer(db, report.owner_id), report, links.get(report.id, [])
                ).model_dump(),
                **records.server_fields(sealing.sealer(db, report.owner_id), TABLE, report),
            }
        )
        for report in reports
    ]
