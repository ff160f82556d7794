"""Impact notes: how the stalking is affecting day-to-day life."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from app.api.deps import CurrentVictim, SessionDep
from app.api.pages import CursorParam, IncludeWithdrawn, Limit, Order, Page
from app.models.impact_note import ImpactNote, ImpactNoteCreate, ImpactNotePublic, ImpactNoteUpdate
from app.models.record import RevisionPublic, Withdrawal
from app.services import impact_notes, records, timeline

router = APIRouter(prefix="/impact-notes", tags=["impact notes"])


def owned_impact_note(note_id: uuid.UUID, victim: CurrentVictim, db: SessionDep) -> ImpactNote:
    return records.get_owned(db, impact_notes.KIND, victim.id, note_id)


OwnedImpactNote = Annotated[ImpactNote, Depends(owned_impact_note)]


@router.get("", response_model=Page[ImpactNotePublic])
def list_impact_notes(
    victim: CurrentVictim,
    db: SessionDep,
    limit: Limit = 50,
    cursor: CursorParam = None,
    include_withdrawn: IncludeWithdrawn = False,
    order: Order = Order.asc,
) -> Page[ImpactNotePublic]:
    """Your impact notes in time order."""
    found = timeline.page(
        db,
        victim.id,
        timeline.Filters(
            kinds=frozenset({impact_notes.KIND.name}), include_withdrawn=include_withdrawn
        ),
        limit=limit,
        cursor=cursor,
        descending=order is Order.desc,
    )
    return Page(
        items=[ImpactNotePublic.model_validate(item.data) for item in found.items],
        next_cursor=found.next_cursor,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ImpactNotePublic,
    responses={200: {"description": "Already saved with this id (a retried create)."}},
)
def write_impact_note(
    body: ImpactNoteCreate, victim: CurrentVictim, db: SessionDep, response: Response
) -> ImpactNotePublic:
    """Write an impact note. Sending the same id and content again returns the saved one (200)."""
    note, created = impact_notes.create(db, victim, body)
    if not created:
        response.status_code = status.HTTP_200_OK
    return impact_notes.to_public(db, [note])[0]


@router.get("/{note_id}", response_model=ImpactNotePublic)
def read_impact_note(note: OwnedImpactNote, db: SessionDep) -> ImpactNotePublic:
    """One impact note, withdrawn or not."""
    return impact_notes.to_public(db, [note])[0]


@router.patch("/{note_id}", response_model=ImpactNotePublic)
def amend_impact_note(
    note: OwnedImpactNote, body: ImpactNoteUpdate, victim: CurrentVictim, db: SessionDep
) -> ImpactNotePublic:
    """Change some details; the earlier version is kept as a revision."""
    records.amend(db, impact_notes.KIND, victim, note, body)
    return impact_notes.to_public(db, [note])[0]


@router.delete("/{note_id}", response_model=ImpactNotePublic)
def withdraw_impact_note(
    note: OwnedImpactNote, body: Withdrawal, victim: CurrentVictim, db: SessionDep
) -> ImpactNotePublic:
    """Withdraw an impact note: it is kept, with the reason, but left off the timeline and packs."""
    records.withdraw(db, impact_notes.KIND, victim, note, body.reason)
    return impact_notes.to_public(db, [note])[0]


@router.get("/{note_id}/revisions", response_model=list[RevisionPublic])
def impact_note_revisions(note: OwnedImpactNote, db: SessionDep) -> list[RevisionPublic]:
    """Every version of this note, oldest first, the current one last."""
    return records.revisions(db, impact_notes.KIND, note)
