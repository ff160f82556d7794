"""Signed-in sessions: opaque tokens, stored only as hashes, with idle and absolute limits."""

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, delete, select, update
from ua_parser import parse as parse_user_agent

from app.errors import NotFound
from app.models.auth_session import AuthSession
from app.models.types import utcnow
from app.models.user import User
from app.storage.crypto import same_mac

TOKEN_BYTES = 32  # 256 bits
PROOF_HEADER = "Session-Proof"
# Writing last_used_at on every request would turn every read into a write; a minute is
# precise enough for an idle timeout measured in tens of minutes.
TOUCH_INTERVAL = timedelta(seconds=60)


@dataclass(frozen=True)
class Lifetimes:
    idle: timedelta
    absolute: timedelta


@dataclass(frozen=True)
class Resolved:
    auth_session: AuthSession
    user: User


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def describe_device(user_agent: str | None) -> str:
    """A coarse name a person recognises ("Chrome Mobile on Android"), never the full string."""
    parsed = parse_user_agent((user_agent or "")[:512])
    browser = parsed.user_agent.family if parsed.user_agent else None
    system = parsed.os.family if parsed.os else None
    if browser and system:
        return f"{browser} on {system}"[:100]
    return (browser or system or "Unknown device")[:100]


def start(db: Session, user: User, user_agent: str | None, lifetimes: Lifetimes) -> str:
    """Open a session for `user` and return its token (shown once, to the cookie)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = utcnow()
    db.add(
        AuthSession(
            user_id=user.id,
            token_hash=hash_token(token),
            created_at=now,
            last_used_at=now,
            expires_at=now + lifetimes.absolute,
            device=describe_device(user_agent),
        )
    )
    db.flush()
    return token


def require_proof(db: Session, token: str) -> str:
    """Make the session behind `token` (just started) need a second secret as well, and return
    it (shown once, to the app, which keeps it apart from the cookie and forgets it on sign-out).
    """
    proof = secrets.token_urlsafe(TOKEN_BYTES)
    db.exec(
        update(AuthSession)
        .where(col(AuthSession.token_hash) == hash_token(token))
        .values(proof_hash=hash_token(proof))
    )
    db.flush()
    return proof


def proof_matches(auth_session: AuthSession, proof: str | None) -> bool:
    """A session made without a proof needs none; one made with it needs exactly that one."""
    if auth_session.proof_hash is None:
        return True
    return proof is not None and same_mac(hash_token(proof), auth_session.proof_hash)


def resolve(
    db: Session, token: str, lifetimes: Lifetimes, proof: str | None, *, ending: bool = False
) -> Resolved | None:
    """The live session behind `token`, or None (unknown, expired, the user deactivated, or the
    session's proof missing or wrong). `ending`: only to end the session, which the cookie
    alone may do (an app that forgot the proof offline still signs the session out)."""
    row = db.exec(
        select(AuthSession, User)
        .join(User, col(User.id) == col(AuthSession.user_id))
        .where(AuthSession.token_hash == hash_token(token))
    ).first()
    if row is None:
        return None
    auth_session, user = row
    now = utcnow()
    if _expired(auth_session, lifetimes, now) or not user.active:
        return None
    if not ending and not proof_matches(auth_session, proof):
        return None
    return Resolved(auth_session, user)


def touch_due(auth_session: AuthSession) -> bool:
    return utcnow() - auth_session.last_used_at >= TOUCH_INTERVAL


def touch(db: Session, auth_session: AuthSession) -> None:
    """Record that the session is in use (it keeps the idle timeout from firing)."""
    db.exec(
        update(AuthSession)
        .where(col(AuthSession.id) == auth_session.id)
        .values(last_used_at=utcnow())
    )


def _expired(auth_session: AuthSession, lifetimes: Lifetimes, now: datetime) -> bool:
    return now >= auth_session.expires_at or now >= auth_session.last_used_at + lifetimes.idle


def purge_expired(db: Session, lifetimes: Lifetimes) -> int:
    now = utcnow()
    result = db.exec(
        delete(AuthSession).where(
            (col(AuthSession.expires_at) <= now)
            | (col(AuthSession.last_used_at) <= now - lifetimes.idle)
        )
    )
    db.flush()
    return int(result.rowcount)


def list_for(db: Session, user: User) -> list[AuthSession]:
    return list(
        db.exec(
            select(AuthSession)
            .where(AuthSession.user_id == user.id)
            .order_by(col(AuthSession.last_used_at).desc(), col(AuthSession.id))
        ).all()
    )


def revoke(db: Session, user: User, session_id: uuid.UUID) -> None:
    owned = db.exec(
        select(AuthSession).where(AuthSession.id == session_id, AuthSession.user_id == user.id)
    ).first()
    if owned is None:
        raise NotFound("No such session.")
    db.delete(owned)
    db.flush()


def revoke_all(db: Session, user: User, *, except_id: uuid.UUID | None = None) -> int:
    statement = delete(AuthSession).where(col(AuthSession.user_id) == user.id)
    if except_id is not None:
        statement = statement.where(col(AuthSession.id) != except_id)
    result = db.exec(statement)
    db.flush()
    return int(result.rowcount)
