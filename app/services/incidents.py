"""Incidents: what the stalker did, in the victim's words."""

import uuid
from collections import defaultdict
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Row
from sqlmodel import Session, col, func, select

from app.errors import InvalidInput
from app.models.codes import Behaviour, Channel
from app.models.evidence import Evidence, EvidenceIncident
from app.models.fields import at_offset, offset_minutes
from app.models.incident import Incident, IncidentCreate, IncidentFields, IncidentPublic
from app.models.police_report import PoliceReport, PoliceReportIncident
from app.models.user import User
from app.services import records, sealing

TABLE = Incident.__tablename__
# What the victim wrote in their own words: sealed (services/sealing.py).
SEALED = ("location", "description", "witnesses", "feelings")


def values_of(sealer: sealing.Sealer, row: Incident | Row[Any]) -> dict[str, Any]:
    """The incident's read model: its fields from its columns (the table model, or a row of
    them as the timeline reads them), sealed text opened, in the schema's order (the JSON's),
    codes as stored. The timeline sends this as it is; fields_of makes the schema of it."""
    opened = {
        name: sealer.open(
            getattr(row, name), table=TABLE, row_id=row.id, field=name, revision=row.revision
        )
        for name in SEALED
    }
    return {
        "occurred_at": at_offset(row.occurred_at, row.occurred_at_offset),
        "occurred_until": (
            at_offset(row.occurred_until, row.occurred_until_offset or 0)
            if row.occurred_until
            else None
        ),
        "time_is_approximate": row.time_is_approximate,
        "location": opened["location"],
        "behaviours": row.behaviours,
        "channel": row.channel,
        "description": opened["description"],
        "witnesses": opened["witnesses"],
        "feelings": opened["feelings"],
    }


def fields_of(sealer: sealing.Sealer, row: Incident | Row[Any]) -> IncidentFields:
    """values_of as the schema, with its codes as the vocabulary's members."""
    values = values_of(sealer, row)
    values["behaviours"] = [Behaviour(b) for b in values["behaviours"]]
    values["channel"] = Channel(values["channel"]) if values["channel"] else None
    return IncidentFields.model_construct(**values)


def read(db: Session, incident: Incident) -> IncidentFields:
    return fields_of(sealing.sealer(db, incident.owner_id), incident)


def write(db: Session, incident: Incident, fields: IncidentFields) -> None:
    sealer = sealing.sealer(db, incident.owner_id)
    for name in SEALED:
        value = getattr(fields, name)
        sealed = sealer.seal(
            value, table=TABLE, row_id=incident.id, field=name, revision=incident.revision
        )
        setattr(incident, name, sealed)
    incident.occurred_at = fields.occurred_at
    incident.occurred_at_offset = offset_minutes(fields.occurred_at)
    incident.occurred_until = fields.occurred_until
    incident.occurred_until_offset = (
        offset_minutes(fields.occurred_until) if fields.occurred_until else None
    )
    incident.time_is_approximate = fields.time_is_approximate
    incident.behaviours = [str(b) for b in fields.behaviours]
    incident.channel = fields.channel


def search_text(fields: IncidentFields) -> str:
    return "\n".join(
        part
        for part in (fields.description, fields.location, fields.witnesses, fields.feelings)
        if part
    )


KIND = records.RecordKind(
    name="incident",
    model=Incident,
    fields=IncidentFields,
    read=read,
    write=write,
    search_text=search_text,
)


def create(db: Session, owner: User, body: IncidentCreate) -> tuple[Incident, bool]:
    fields = IncidentFields.model_validate(body.model_dump(exclude={"id"}))
    return records.create(db, KIND, owner, fields, body.id)


def require_owned(db: Session, owner_id: uuid.UUID, incident_ids: Collection[uuid.UUID]) -> None:
    """Refuse links to incidents that are not the owner's. Someone else's incident looks
    exactly like one that does not exist."""
    if not incident_ids:
        return
    owned = db.exec(
        select(func.count())
        .select_from(Incident)
        .where(Incident.owner_id == owner_id, col(Incident.id).in_(incident_ids))
    ).one()
    if owned != len(set(incident_ids)):
        raise InvalidInput("Some of these incidents do not exist.", field="incident_ids")


def crime_references(db: Session, incident_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """The crime references of the live police reports covering each incident, in one query."""
    if not incident_ids:
        return {}
    rows = db.exec(
        select(PoliceReportIncident.incident_id, PoliceReport)
        .join(PoliceReport, col(PoliceReport.id) == col(PoliceReportIncident.police_report_id))
        .where(
            col(PoliceReportIncident.incident_id).in_(incident_ids),
            col(PoliceReport.withdrawn_at).is_(None),
            col(PoliceReport.crime_reference).is_not(None),
        )
        .order_by(col(PoliceReport.reported_at))
    ).all()
    found: dict[uuid.UUID, list[str]] = defaultdict(list)
    for incident_id, report in rows:
        reference = open_crime_reference(sealing.sealer(db, report.owner_id), report)
        if reference and reference not in found[incident_id]:
            found[incident_id].append(reference)
    return found


def open_crime_reference(sealer: sealing.Sealer, report: PoliceReport | Row[Any]) -> str | None:
    """A police report's crime reference (the report's read model is in police_reports, which
    needs this module; the timeline reads references with incidents)."""
    return sealer.open(
        report.crime_reference,
        table=PoliceReport.__tablename__,
        row_id=report.id,
        field="crime_reference",
        revision=report.revision,
    )


def evidence_of_incidents(
    db: Session, incident_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """The live evidence of each incident, for `evidence_ids`."""
    if not incident_ids:
        return {}
    rows = db.exec(
        select(EvidenceIncident.incident_id, EvidenceIncident.evidence_id)
        .join(Evidence, col(Evidence.id) == col(EvidenceIncident.evidence_id))
        .where(
            col(EvidenceIncident.incident_id).in_(incident_ids),
            col(Evidence.withdrawn_at).is_(None),
        )
        .order_by(col(Evidence.timeline_at), col(Evidence.id))
    ).all()
    found: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for incident_id, evidence_id in rows:
        found[incident_id].append(evidence_id)
    return found


def to_public(db: Session, incidents: Sequence[Incident]) -> list[IncidentPublic]:
    references = crime_references(db, [i.id for i in incidents])
    files = evidence_of_incidents(db, [i.id for i in incidents])
    # model_construct: every value was validated when it was written and is typed by the
    # table, so validating again (2,000 times for a pack) would only cost time.
    return [
        IncidentPublic.model_construct(
            **dict(read(db, incident)),
            **records.server_fields(sealing.sealer(db, incident.owner_id), TABLE, incident),
            crime_references=references.get(incident.id, []),
            evidence_ids=files.get(incident.id, []),
        )
        for incident in incidents
    ]
