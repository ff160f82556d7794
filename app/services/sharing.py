"""Sharing a log with an advocate: invitations, shares, revocation, and the case an advocate
reads. A victim never searches for an advocate and an advocate never searches for a victim:
the only way in is a short-lived, single-use code read out in person or on the phone."""

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from app.errors import Forbidden, InvalidInput, NotFound
from app.models.advocate_note import AdvocateNote
from app.models.evidence import Evidence
from app.models.impact_note import ImpactNote
from app.models.incident import Incident
from app.models.organisation import Organisation
from app.models.police_report import PoliceReport
from app.models.record import OwnedRecord
from app.models.share import (
    AdvocateSummary,
    CasePublic,
    Invitation,
    OrgAdvocate,
    Share,
    SharePublic,
    VictimSummary,
)
from app.models.types import utcnow
from app.models.user import Role, User
from app.services import audit, identities

# No 0/O, 1/I/L: a code read out over a bad phone line must not be misheard.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12  # 31^12 ≈ 2^59
INVITATION_LIFETIME = timedelta(hours=72)
STAFF_ROLES = (Role.advocate, Role.admin)


def _normalise_code(code: str) -> str:
    return "".join(c for c in code.upper() if c.isalnum())


def _hash_code(code: str) -> str:
    return hashlib.sha256(_normalise_code(code).encode()).hexdigest()


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def invite(db: Session, advocate: User) -> tuple[str, datetime]:
    if advocate.role != Role.advocate:
        raise Forbidden("Only advocates can invite.")
    code = new_code()
    expires_at = utcnow() + INVITATION_LIFETIME
    db.add(Invitation(advocate_id=advocate.id, code_hash=_hash_code(code), expires_at=expires_at))
    db.flush()
    return code, expires_at


def redeem(db: Session, victim: User, code: str, can_export: bool) -> Share:
    """Turn a code into a share. Unknown, used and expired codes are refused alike."""
    invitation = db.exec(
        select(Invitation).where(Invitation.code_hash == _hash_code(code)).with_for_update()
    ).first()
    advocate = db.get(User, invitation.advocate_id) if invitation else None
    if (
        invitation is None
        or invitation.redeemed_at is not None
        or invitation.expires_at <= utcnow()
        or advocate is None
        or not advocate.active
    ):
        raise InvalidInput(
            "That code does not work. Codes work once and for 72 hours: ask your advocate "
            "for a new one.",
            field="code",
        )
    invitation.redeemed_at = utcnow()
    db.add(invitation)
    existing = db.exec(
        select(Share).where(
            Share.victim_id == victim.id,
            Share.advocate_id == advocate.id,
            col(Share.revoked_at).is_(None),
        )
    ).first()
    share = existing or Share(victim_id=victim.id, advocate_id=advocate.id)
    share.can_export = can_export
    db.add(share)
    db.flush()
    audit.record(
        db,
        victim_id=victim.id,
        actor=victim,
        action="share.created",
        target_kind="share",
        target_id=share.id,
    )
    return share


def victim_shares(db: Session, victim: User) -> list[SharePublic]:
    rows = db.exec(
        select(Share, User, Organisation)
        .join(User, col(User.id) == col(Share.advocate_id))
        .outerjoin(Organisation, col(Organisation.id) == col(User.organisation_id))
        .where(Share.victim_id == victim.id, col(Share.revoked_at).is_(None))
        .order_by(col(Share.created_at))
    ).all()
    return [
        _share_public(db, share, advocate, organisation) for share, advocate, organisation in rows
    ]


def _share_public(
    db: Session, share: Share, advocate: User, organisation: Organisation | None
) -> SharePublic:
    return SharePublic(
        id=share.id,
        advocate=AdvocateSummary(
            id=advocate.id,
            display_name=identities.name_of(db, advocate),
            organisation=organisation.name if organisation else None,
        ),
        since=share.created_at,
        can_export=share.can_export,
        last_viewed_at=share.last_viewed_at,
    )


def revoke(db: Session, victim: User, share_id: uuid.UUID) -> None:
    share = db.exec(
        select(Share).where(
            Share.id == share_id, Share.victim_id == victim.id, col(Share.revoked_at).is_(None)
        )
    ).first()
    if share is None:
        raise NotFound("No such share.")
    share.revoked_at = utcnow()
    db.add(share)
    db.flush()
    audit.record(
        db,
        victim_id=victim.id,
        actor=victim,
        action="share.revoked",
        target_kind="share",
        target_id=share.id,
    )


def revoke_all_for_victim(db: Session, victim_id: uuid.UUID) -> None:
    for share in db.exec(
        select(Share).where(Share.victim_id == victim_id, col(Share.revoked_at).is_(None))
    ).all():
        share.revoked_at = utcnow()
        db.add(share)
    db.flush()


def live_case(db: Session, advocate: User, case_id: uuid.UUID) -> tuple[Share, User]:
    """The case, if this advocate holds a live share of it; otherwise it does not exist."""
    row = db.exec(
        select(Share, User)
        .join(User, col(User.id) == col(Share.victim_id))
        .where(
            Share.id == case_id,
            Share.advocate_id == advocate.id,
            col(Share.revoked_at).is_(None),
            col(User.active).is_(True),
        )
    ).first()
    if row is None:
        raise NotFound("No such case.")
    return row


def viewed(
    db: Session,
    share: Share,
    advocate: User,
    action: str,
    target_kind: str | None = None,
    target_id: uuid.UUID | None = None,
) -> None:
    """Every look an advocate takes goes on the victim's trail, and the share remembers it."""
    share.last_viewed_at = utcnow()
    db.add(share)
    audit.record(
        db,
        victim_id=share.victim_id,
        actor=advocate,
        action=action,
        target_kind=target_kind,
        target_id=target_id,
    )


# What a case counts, by timeline kind.
_COUNTED: tuple[tuple[str, type[OwnedRecord]], ...] = (
    ("incident", Incident),
    ("impact_note", ImpactNote),
    ("police_report", PoliceReport),
    ("evidence", Evidence),
    ("advocate_note", AdvocateNote),
)


def case_counts(db: Session, share: Share) -> tuple[dict[str, int], datetime | None]:
    """Live records per kind, and when anything was last added or changed, as the case's
    advocate sees them: the victim's records and this case's own notes (as on its timeline)."""
    counts: dict[str, int] = {}
    latest: datetime | None = None
    for kind, model in _COUNTED:
        statement = select(func.count(), func.max(model.updated_at)).where(
            model.owner_id == share.victim_id, col(model.withdrawn_at).is_(None)
        )
        if model is AdvocateNote:
            statement = statement.where(col(AdvocateNote.share_id) == share.id)
        number, last = db.exec(statement).one()
        counts[kind] = int(number)
        # max() keeps the column's type, so this is already an aware datetime.
        if last is not None and (latest is None or last > latest):
            latest = last
    return counts, latest


def cases(db: Session, advocate: User) -> list[CasePublic]:
    """The advocate's caseload. Its counts and last activity tell of each victim's log, so
    listing it is a look at every case, on each victim's trail like any other."""
    rows = db.exec(
        select(Share, User)
        .join(User, col(User.id) == col(Share.victim_id))
        .where(
            Share.advocate_id == advocate.id,
            col(Share.revoked_at).is_(None),
            col(User.active).is_(True),
        )
        .order_by(col(Share.created_at))
    ).all()
    listed = [case_public(db, share, victim) for share, victim in rows]
    for share, _ in rows:
        viewed(db, share, advocate, "case.summary_viewed", "share", share.id)
    return listed


def case_public(db: Session, share: Share, victim: User) -> CasePublic:
    per_kind, last = case_counts(db, share)
    return CasePublic(
        id=share.id,
        victim=VictimSummary(display_name=identities.name_of(db, victim)),
        since=share.created_at,
        can_export=share.can_export,
        counts=per_kind,
        last_activity=last,
    )


def organisation_staff(db: Session, admin: User) -> list[OrgAdvocate]:
    if admin.role != Role.admin or admin.organisation_id is None:
        raise Forbidden("Only an organisation's admins can see its advocates.")
    caseload = (
        select(Share.advocate_id, func.count().label("n"))
        .where(col(Share.revoked_at).is_(None))
        .group_by(col(Share.advocate_id))
        .subquery()
    )
    rows = db.exec(
        select(User, caseload.c.n)
        .outerjoin(caseload, caseload.c.advocate_id == col(User.id))
        .where(User.organisation_id == admin.organisation_id, col(User.role).in_(STAFF_ROLES))
        .order_by(col(User.created_at), col(User.id))
    ).all()
    staff = [
        OrgAdvocate(
            id=user.id,
            display_name=identities.name_of(db, user),
            email=identities.email_of(db, user),
            role=user.role,
            active=user.active,
            caseload=int(n or 0),
        )
        for user, n in rows
    ]
    # By name, which only reads once opened: the database holds them sealed.
    return sorted(staff, key=lambda member: member.display_name)
