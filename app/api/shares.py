"""Shares: who the victim lets read their log, and taking that back."""

import uuid

from fastapi import APIRouter, Response, status

from app.api.deps import ClientIP, CurrentVictim, RuntimeDep, SessionDep
from app.api.pages import Page
from app.errors import InvalidInput
from app.models.share import Redemption, SharePublic
from app.services import sharing
from app.throttle import Policy

router = APIRouter(prefix="/shares", tags=["sharing"])

# Guessing a 59-bit code is hopeless, but a flood of tries is still refused early.
REDEMPTION_POLICY = Policy(free_failures=5)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SharePublic)
def share_with_advocate(
    body: Redemption, victim: CurrentVictim, db: SessionDep, runtime: RuntimeDep, ip: ClientIP
) -> SharePublic:
    """Let the advocate who gave you this code read your log."""
    keys = [
        (f"redeem:account:{victim.id}", REDEMPTION_POLICY),
        (f"redeem:ip:{runtime.login_guard.address(ip)}", REDEMPTION_POLICY),
    ]
    runtime.login_guard.take_tries(keys)
    try:
        share = sharing.redeem(db, victim, body.code, body.can_export)
    except InvalidInput:
        raise  # a wrong code: counted already
    except BaseException:
        runtime.login_guard.give_back(keys)
        raise
    runtime.login_guard.give_back(keys)
    return next(s for s in sharing.victim_shares(db, victim) if s.id == share.id)


@router.get("", response_model=Page[SharePublic])
def list_shares(victim: CurrentVictim, db: SessionDep) -> Page[SharePublic]:
    """Who can read your log, since when, and when they last looked."""
    return Page(items=sharing.victim_shares(db, victim))


@router.delete("/{share_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_share(share_id: uuid.UUID, victim: CurrentVictim, db: SessionDep) -> Response:
    """Take access away, at once."""
    sharing.revoke(db, victim, share_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
