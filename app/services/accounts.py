"""Accounts: registration, authentication, password changes and erasure. An account's email
and name are sealed; they are found and read through services/identities.py."""

import functools
import re
import uuid
from pathlib import Path

from sqlmodel import Session

from app.db import after_commit, after_rollback, truncate_wal
from app.errors import Conflict, Forbidden, LoginFailed
from app.models.types import utcnow
from app.models.user import Registration, Role, User
from app.services import (
    audit,
    auth_sessions,
    erase_list,
    evidence,
    identities,
    passwords,
    search,
)
from app.storage import BlobStore

_WORD_BREAKS = re.compile(r"[\W_]+")


def personal_words(email: str, display_name: str) -> tuple[str, ...]:
    """Words someone who knows the person would try first: the email's local part and each
    piece of it (robin.hartley: robin, hartley), and each word of the name."""
    local_part = email.split("@", 1)[0]
    return (local_part, *_WORD_BREAKS.split(local_part), *_WORD_BREAKS.split(display_name))


def create(
    db: Session,
    *,
    email: str,
    password: str,
    display_name: str,
    role: Role,
    organisation_id: uuid.UUID | None = None,
) -> User:
    passwords.check_new_password(password, personal=personal_words(email, display_name))
    if identities.find_by_email(db, email) is not None:
        raise Conflict("An account cannot be made with this email. If it is yours, sign in.")
    return identities.new_user(
        db,
        user_id=uuid.uuid4(),
        email=email,
        display_name=display_name,
        password_hash=passwords.hash_password(password),
        role=role,
        organisation_id=organisation_id,
    )


def register(db: Session, registration: Registration) -> User:
    """Self-registration only ever makes victims; advocates come from the CLI."""
    user = create(
        db,
        email=registration.email,
        password=registration.password,
        display_name=registration.display_name,
        role=Role.victim,
    )
    audit.record_own(db, user, "account.created")
    return user


def authenticate(db: Session, email: str, password: str) -> User:
    user = identities.find_by_email(db, email)
    if user is None:
        passwords.spend_verify_time(password)
        raise LoginFailed()
    if not passwords.verify_password(user.password_hash, password) or not user.active:
        raise LoginFailed()
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
        db.add(user)
        db.flush()
    return user


def change_password(
    db: Session, user: User, *, current: str, new: str, keep_session_id: uuid.UUID
) -> int:
    """Set a new password and sign out every other session. Returns how many were ended."""
    if not passwords.verify_password(user.password_hash, current):
        raise Forbidden("The current password is not right.")
    passwords.check_new_password(
        new, personal=personal_words(identities.email_of(db, user), identities.name_of(db, user))
    )
    user.password_hash = passwords.hash_password(new)
    user.password_changed_at = utcnow()
    db.add(user)
    db.flush()
    audit.record_own(db, user, "account.password_changed")
    return auth_sessions.revoke_all(db, user, except_id=keep_session_id)


def erase(db: Session, user: User, *, password: str, store: BlobStore, erased: Path) -> None:
    """Erase the account and everything of theirs: records, revisions, the audit chain and the
    data key (all by foreign-key cascade), the search index (which has no foreign key on
    SQLite) and, once that has committed, the blobs and SQLite's log of the old pages. The id
    goes on the erase list `erased` first, so no backup of before can bring them back."""
    if user.role != Role.victim:
        # Staff leave through their organisation (`waymark advocate deactivate`), so their
        # cases end visibly on each victim's trail rather than vanishing.
        raise Forbidden("Staff accounts are closed by the organisation's administrator.")
    if not passwords.verify_password(user.password_hash, password):
        raise Forbidden("The password is not right.")
    erase_list.record(erased, user.id)
    after_rollback(db, functools.partial(erase_list.withdraw, erased, user.id))
    search.remove_owner(db, user.id)
    evidence.erase_all(db, user.id, store)
    auth_sessions.revoke_all(db, user)
    db.delete(user)
    db.flush()
    after_commit(db, functools.partial(truncate_wal, db.get_bind().engine))
