"""Notes advocates write on a case. They are part of the victim's log: the victim reads them on
their timeline, and they are never changed once written."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.errors import Conflict
from app.models.advocate_note import (
    AdvocateNote,
    AdvocateNoteCreate,
    AdvocateNotePublic,
    NoteAuthor,
)
from app.models.share import Share
from app.models.types import utcnow
from app.models.user import User
from app.services import audit, identities, records, sealing, search

KIND = "advocate_note"
TABLE = AdvocateNote.__tablename__


def body_of(sealer: sealing.Sealer, row: AdvocateNote | Row[Any]) -> str:
    """The note's read model: its words (a note is never changed, so bound to revision 0)."""
    return sealer.opened(row.body, table=TABLE, row_id=row.id, field="body")


def write(
    db: Session, share: Share, advocate: User, body: AdvocateNoteCreate
) -> tuple[AdvocateNote, bool]:
    if body.id is not None:
        existing = db.exec(
            select(AdvocateNote).where(
                AdvocateNote.id == body.id,
                AdvocateNote.owner_id == share.victim_id,
                AdvocateNote.author_id == advocate.id,
            )
        ).first()
        if existing is not None:
            if body_of(sealing.sealer(db, existing.owner_id), existing) != body.body:
                raise Conflict("A different note was already saved with this id.")
            return existing, False
        if records.id_in_use(db, body.id):
            # Another person's record (or a note of another advocate's): a note must never take
            # over its id, which would also replace its search entry. Say nothing about which.
            raise Conflict("This id cannot be used. Make a new one.")
    now = utcnow()
    note = AdvocateNote(
        owner_id=share.victim_id,
        author_id=advocate.id,
        share_id=share.id,
        body="",
        recorded_at=now,
        updated_at=now,
    )
    if body.id is not None:
        note.id = body.id
    sealer = sealing.sealer(db, share.victim_id)
    sealed = sealer.seal(body.body, table=TABLE, row_id=note.id, field="body")
    assert sealed is not None
    note.body = sealed
    try:
        with db.begin_nested():
            db.add(note)
            db.flush()
    except IntegrityError as error:  # the id is taken by another record
        raise Conflict("This id cannot be used. Make a new one.") from error
    search.index(
        db,
        kind=KIND,
        record_id=note.id,
        owner_id=share.victim_id,
        body=sealer.search_document(body.body),
    )
    audit.record(
        db,
        victim_id=share.victim_id,
        actor=advocate,
        action="note.created",
        target_kind=KIND,
        target_id=note.id,
    )
    return note, True


def to_public(db: Session, notes: Sequence[AdvocateNote]) -> list[AdvocateNotePublic]:
    authors = identities.names_of(db, (n.author_id for n in notes))
    return [
        AdvocateNotePublic(
            id=note.id,
            body=body_of(sealing.sealer(db, note.owner_id), note),
            created_at=note.recorded_at,
            author=NoteAuthor(
                id=note.author_id,
                display_name=authors.get(note.author_id),
            ),
        )
        for note in notes
    ]


def for_case(db: Session, share: Share) -> list[AdvocateNote]:
    return list(
        db.exec(
            select(AdvocateNote)
            .where(AdvocateNote.owner_id == share.victim_id, AdvocateNote.share_id == share.id)
            .order_by(col(AdvocateNote.recorded_at), col(AdvocateNote.id))
        ).all()
    )
