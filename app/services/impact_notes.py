"""Impact notes: how the stalking is changing day-to-day life."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row
from sqlmodel import Session

from app.models.codes import ImpactArea
from app.models.fields import at_offset, offset_minutes
from app.models.impact_note import ImpactNote, ImpactNoteCreate, ImpactNoteFields, ImpactNotePublic
from app.models.user import User
from app.services import records, sealing

TABLE = ImpactNote.__tablename__


def fields_of(sealer: sealing.Sealer, row: ImpactNote | Row[Any]) -> ImpactNoteFields:
    """The impact note's read model (from the table model or a row of its columns)."""
    return ImpactNoteFields.model_construct(
        noted_at=at_offset(row.noted_at, row.noted_at_offset),
        areas=[ImpactArea(a) for a in row.areas],
        description=sealer.opened(
            row.description, table=TABLE, row_id=row.id, field="description", revision=row.revision
        ),
    )


def read(db: Session, note: ImpactNote) -> ImpactNoteFields:
    return fields_of(sealing.sealer(db, note.owner_id), note)


def write(db: Session, note: ImpactNote, fields: ImpactNoteFields) -> None:
    note.noted_at = fields.noted_at
    note.noted_at_offset = offset_minutes(fields.noted_at)
    note.areas = [str(a) for a in fields.areas]
    description = sealing.sealer(db, note.owner_id).seal(
        fields.description, table=TABLE, row_id=note.id, field="description", revision=note.revision
    )
    assert description is not None
    note.description = description


KIND = records.RecordKind(
    name="impact_note",
    model=ImpactNote,
    fields=ImpactNoteFields,
    read=read,
    write=write,
    search_text=lambda fields: fields.description,
)


def create(db: Session, owner: User, body: ImpactNoteCreate) -> tuple[ImpactNote, bool]:
    fields = ImpactNoteFields.model_validate(body.model_dump(exclude={"id"}))
    return records.create(db, KIND, owner, fields, body.id)


def to_public(db: Session, notes: Sequence[ImpactNote]) -> list[ImpactNotePublic]:
    return [
        ImpactNotePublic.model_validate(
            {
                **read(db, note).model_dump(),
                **records.server_fields(sealing.sealer(db, note.owner_id), TABLE, note),
            }
        )
        for note in notes
    ]
