"""Impact notes: how the stalking is changing day-to-day life."""

from collections.abc import Sequence

from sqlmodel import Session

from app.models.codes import ImpactArea
from app.models.fields import at_offset, offset_minutes
from app.models.impact_note import ImpactNote, ImpactNoteCreate, ImpactNoteFields, ImpactNotePublic
from app.models.user import User
from app.services import records


def read(_db: Session, note: ImpactNote) -> ImpactNoteFields:
    return ImpactNoteFields.model_construct(
        noted_at=at_offset(note.noted_at, note.noted_at_offset),
        areas=[ImpactArea(a) for a in note.areas],
        description=note.description,
    )


def write(note: ImpactNote, fields: ImpactNoteFields) -> None:
    note.noted_at = fields.noted_at
    note.noted_at_offset = offset_minutes(fields.noted_at)
    note.areas = [str(a) for a in fields.areas]
    note.description = fields.description


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
                **records.server_fields(note),
            }
        )
        for note in notes
    ]
