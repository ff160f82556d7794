"""Invitations: the code an advocate gives a victim, in person or on the phone."""

from fastapi import APIRouter, status

from app.api.deps import CurrentAdvocate, SessionDep
from app.models.share import InvitationPublic
from app.services import sharing

router = APIRouter(prefix="/invitations", tags=["sharing"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=InvitationPublic)
def create_invitation(advocate: CurrentAdvocate, db: SessionDep) -> InvitationPublic:
    """A new single-use code, valid for 72 hours. Read it to the person; it is shown once."""
    code, expires_at = sharing.invite(db, advocate)
    return InvitationPublic(code=code, expires_at=expires_at)
