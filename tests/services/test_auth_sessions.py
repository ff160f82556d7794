"""Sessions: opaque tokens kept only as hashes, an idle timeout and an absolute lifetime,
scoped to their owner."""

import hashlib
import uuid
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from app.errors import NotFound
from app.models.auth_session import AuthSession
from app.models.types import utcnow
from app.models.user import Role, User
from app.services import accounts, auth_sessions
from tests.factories.accounts import ANDROID_CHROME, STRONG_PASSWORD, new_email

LIFETIMES = auth_sessions.Lifetimes(idle=timedelta(minutes=30), absolute=timedelta(hours=12))


def _user(db: Session) -> User:
    return accounts.create(
        db, email=new_email(), password=STRONG_PASSWORD, display_name="Alex", role=Role.victim
    )


def _stored(db: Session, token: str) -> AuthSession:
    found = db.exec(
        select(AuthSession).where(AuthSession.token_hash == auth_sessions.hash_token(token))
    ).one()
    return found


def test_a_token_has_256_bits_and_only_its_hash_is_stored(db: Session) -> None:
    user = _user(db)

    token = auth_sessions.start(db, user, ANDROID_CHROME, LIFETIMES)

    assert len(token) >= 43  # 32 bytes of URL-safe base64
    stored = _stored(db, token)
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in stored.model_dump_json()
    assert stored.device == "Chrome Mobile on Android"
    assert stored.created_at == stored.last_used_at
    assert stored.expires_at - stored.created_at == LIFETIMES.absolute


def test_every_token_is_different(db: Session) -> None:
    user = _user(db)

    tokens = {auth_sessions.start(db, user, None, LIFETIMES) for _ in range(5)}

    assert len(tokens) == 5


def test_a_live_token_resolves_to_its_user(db: Session) -> None:
    user = _user(db)
    token = auth_sessions.start(db, user, None, LIFETIMES)

    resolved = auth_sessions.resolve(db, token, LIFETIMES, None)

    assert resolved is not None
    assert resolved.user.id == user.id
    assert resolved.auth_session.token_hash == auth_sessions.hash_token(token)


@pytest.mark.parametrize("token", ["", "unknown", "A" * 43])
def test_an_unknown_token_resolves_to_nobody(db: Session, token: str) -> None:
    auth_sessions.start(db, _user(db), None, LIFETIMES)

    assert auth_sessions.resolve(db, token, LIFETIMES, None) is None


def test_a_session_idle_past_the_timeout_is_refused(db: Session) -> None:
    token = auth_sessions.start(db, _user(db), None, LIFETIMES)
    stored = _stored(db, token)
    stored.last_used_at = utcnow() - LIFETIMES.idle - timedelta(seconds=1)
    db.flush()

    assert auth_sessions.resolve(db, token, LIFETIMES, None) is None


def test_a_session_past_its_absolute_lifetime_is_refused_even_if_busy(db: Session) -> None:
    token = auth_sessions.start(db, _user(db), None, LIFETIMES)
    stored = _stored(db, token)
    stored.expires_at = utcnow() - timedelta(seconds=1)
    db.flush()

    assert auth_sessions.resolve(db, token, LIFETIMES, None) is None


def test_a_session_in_use_is_touched_at_most_once_a_minute(db: Session) -> None:
    token = auth_sessions.start(db, _user(db), None, LIFETIMES)
    stored = _stored(db, token)
    assert not auth_sessions.touch_due(stored)

    earlier = utcnow() - timedelta(minutes=25)
    stored.last_used_at = earlier
    db.flush()
    assert auth_sessions.touch_due(stored)
    auth_sessions.touch(db, stored)

    db.expire_all()
    touched = _stored(db, token)
    assert touched.last_used_at > earlier + timedelta(minutes=20)
    assert not auth_sessions.touch_due(touched)
    assert auth_sessions.resolve(db, token, LIFETIMES, None) is not None


def test_a_session_of_a_deactivated_user_is_refused(db: Session) -> None:
    user = _user(db)
    token = auth_sessions.start(db, user, None, LIFETIMES)
    user.active = False
    db.flush()

    assert auth_sessions.resolve(db, token, LIFETIMES, None) is None


def test_purge_removes_only_dead_sessions(db: Session) -> None:
    user = _user(db)
    live, idle, expired = (auth_sessions.start(db, user, None, LIFETIMES) for _ in range(3))
    _stored(db, idle).last_used_at = utcnow() - timedelta(hours=1)
    _stored(db, expired).expires_at = utcnow() - timedelta(minutes=1)
    db.flush()

    assert auth_sessions.purge_expired(db, LIFETIMES) == 2

    db.expire_all()
    remaining = auth_sessions.list_for(db, user)
    assert [s.token_hash for s in remaining] == [auth_sessions.hash_token(live)]


def test_list_and_revoke_are_scoped_to_the_owner(db: Session) -> None:
    owner, other = _user(db), _user(db)
    owners_token = auth_sessions.start(db, owner, None, LIFETIMES)
    auth_sessions.start(db, other, None, LIFETIMES)
    owners_session = _stored(db, owners_token)

    assert [s.id for s in auth_sessions.list_for(db, owner)] == [owners_session.id]
    with pytest.raises(NotFound):
        auth_sessions.revoke(db, other, owners_session.id)
    with pytest.raises(NotFound):
        auth_sessions.revoke(db, owner, uuid.uuid4())
    assert auth_sessions.resolve(db, owners_token, LIFETIMES, None) is not None


def test_revoke_all_keeps_the_one_asked_for(db: Session) -> None:
    owner, other = _user(db), _user(db)
    keep, *_ = (auth_sessions.start(db, owner, None, LIFETIMES) for _ in range(3))
    others_token = auth_sessions.start(db, other, None, LIFETIMES)

    ended = auth_sessions.revoke_all(db, owner, except_id=_stored(db, keep).id)

    assert ended == 2
    assert auth_sessions.resolve(db, keep, LIFETIMES, None) is not None
    assert auth_sessions.resolve(db, others_token, LIFETIMES, None) is not None
    assert auth_sessions.revoke_all(db, owner) == 1


@pytest.mark.parametrize(
    ("user_agent", "device"),
    [
        (ANDROID_CHROME, "Chrome Mobile on Android"),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
            "Mobile Safari on iOS",
        ),
        (None, "Unknown device"),
        ("", "Unknown device"),
    ],
)
def test_devices_are_described_coarsely(user_agent: str | None, device: str) -> None:
    assert auth_sessions.describe_device(user_agent) == device


def test_a_huge_user_agent_gives_a_short_description() -> None:
    assert len(auth_sessions.describe_device("Mozilla/5.0 " + "x" * 100_000)) <= 100
