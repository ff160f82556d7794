"""The victim's audit trail: who did what with their log, and proof it has not been altered."""

import re
from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import CurrentVictim, SessionDep
from app.api.pages import Limit, Order, Page
from app.errors import InvalidInput
from app.models.audit import AuditEventPublic, AuditVerification
from app.services import audit

router = APIRouter(prefix="/audit", tags=["audit"])

# A cursor is the seq of the last event on a page: ASCII digits ("²".isdigit() is true too),
# few enough to fit the column.
_CURSOR = re.compile(r"[0-9]{1,9}")


@router.get("", response_model=Page[AuditEventPublic])
def list_audit_events(
    victim: CurrentVictim,
    db: SessionDep,
    limit: Limit = 50,
    cursor: Annotated[str | None, Query(max_length=20)] = None,
    order: Order = Order.desc,
) -> Page[AuditEventPublic]:
    """Everything that has happened to your log, newest first by default."""
    if cursor is not None and not _CURSOR.fullmatch(cursor):
        raise InvalidInput("This cursor is not one we gave out.", field="cursor", where="query")
    events = audit.page(
        db,
        victim.id,
        limit=limit + 1,
        after_seq=int(cursor) if cursor else None,
        newest_first=order is Order.desc,
    )
    more = len(events) > limit
    events = events[:limit]
    return Page(items=events, next_cursor=str(events[-1].seq) if more and events else None)


@router.get("/verify", response_model=AuditVerification)
def verify_audit_trail(victim: CurrentVictim, db: SessionDep) -> AuditVerification:
    """Recompute the hash chain of your audit trail and say whether it holds."""
    return audit.verify(db, victim.id)
