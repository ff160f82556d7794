"""An account's email and display name: sealed at rest, found by a keyed lookup, and read
through this one module (docs/security.md, "Accounts").

Both are sealed under the account's own data key (table "users", the account's id, the field's
name, revision 0), so a copy of the database names nobody. The account is found by
email_lookup instead: HMAC-SHA256 (hex) of the normalised email under a key derived from the
master key, which equal emails share and which says nothing about the email without the key.
Between a master key change and `waymark keys rotate`, accounts are still found under the
previous master keys; rotation rehashes them (rehash_lookups).

Kept apart from services/accounts.py (registration, sign-in, erasure) because everything that
shows a person's name reads it here, and accounts.py depends on much of that.
"""

import uuid
from collections.abc import Iterable

from sqlmodel import Session, col, select

from app.keys import Keys
from app.models.user import Role, User, UserPublic
from app.services import data_keys, sealing
from app.storage.crypto import blind_index, derive_key, new_data_key

TABLE = "users"
_LOOKUP_PURPOSE = "account-email"


# --- Finding an account by its email -------------------------------------------------------


def normalised_email(email: str) -> str:
    """The form an email is found by: the same rule as the Email type's (models/user.py), so
    the CLI and the API find the same account whatever the case it is typed in."""
    return email.strip().lower()


def email_lookup(master_key: bytes, email: str) -> str:
    return blind_index(derive_key(master_key, _LOOKUP_PURPOSE), normalised_email(email)).hex()


def _lookups(keys: Keys, email: str) -> list[str]:
    """The email's lookup under the current master key, then under each previous one."""
    return [email_lookup(key, email) for key in (keys.master_key, *keys.previous_master_keys)]


def find_by_email(db: Session, email: str) -> User | None:
    lookups = _lookups(sealing.keys_of(db), email)
    return db.exec(select(User).where(col(User.email_lookup).in_(lookups))).first()


def rehash_lookups(db: Session, keys: Keys) -> int:
    """Every account's lookup under the current master key (`waymark keys rotate`, after the
    data keys are rewrapped). Returns how many changed. An account whose email is not sealed
    yet (a deployment not migrated) is left for the migration, which gives it its lookup."""
    changed = 0
    for user in db.exec(select(User)).all():
        if not user.email.startswith(sealing.SEALED_PREFIX):
            continue
        sealer = sealing.Sealer(db, user.id, data_keys.data_key_for(db, user.id, keys))
        email = sealer.opened(user.email, table=TABLE, row_id=user.id, field="email")
        lookup = email_lookup(keys.master_key, email)
        if user.email_lookup != lookup:
            user.email_lookup = lookup
            db.add(user)
            changed += 1
    db.flush()
    return changed


def seal_in_place(db: Session, user: User, keys: Keys) -> bool:
    """For a deployment from before accounts were sealed (`waymark migrate`): seal the
    account's email and name if either is still stored in plain, and give it its lookup under
    the current master key. A value that already opens for its place is left alone, so a run
    can be repeated. Returns whether the account changed."""
    sealer = sealing.sealer(db, user.id)
    changed = False
    for field in ("email", "display_name"):
        stored = getattr(user, field)
        if not _opens(sealer, stored, field):
            setattr(user, field, _sealed(sealer, stored, field))
            changed = True
    lookup = email_lookup(keys.master_key, email_of(db, user))
    if user.email_lookup != lookup:
        user.email_lookup = lookup
        changed = True
    if changed:
        db.add(user)
    return changed


def _opens(sealer: sealing.Sealer, stored: str, field: str) -> bool:
    opened = sealer.open_if_sealed(stored, table=TABLE, row_id=sealer.owner_id, field=field)
    return opened is not None


# --- Reading a person's email and name -----------------------------------------------------


def email_of(db: Session, user: User) -> str:
    return sealing.sealer(db, user.id).opened(
        user.email, table=TABLE, row_id=user.id, field="email"
    )


def name_of(db: Session, user: User) -> str:
    return name_from(db, user.id, user.display_name)


def name_from(db: Session, user_id: uuid.UUID, stored: str) -> str:
    """A display name read straight from a query (a join's column), opened with its
    account's key."""
    return sealing.sealer(db, user_id).opened(
        stored, table=TABLE, row_id=user_id, field="display_name"
    )


def names_of(db: Session, user_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The display name of each account of a list, by id, in one query (ids of accounts that
    no longer exist are left out)."""
    wanted = set(user_ids)
    if not wanted:
        return {}
    rows = db.exec(select(User.id, User.display_name).where(col(User.id).in_(wanted))).all()
    return {user_id: name_from(db, user_id, stored) for user_id, stored in rows}


def public_of(db: Session, user: User) -> UserPublic:
    return UserPublic(
        id=user.id,
        email=email_of(db, user),
        display_name=name_of(db, user),
        role=user.role,
        organisation_id=user.organisation_id,
        created_at=user.created_at,
    )


# --- Writing a new account -----------------------------------------------------------------


def new_user(
    db: Session,
    *,
    user_id: uuid.UUID,
    email: str,
    display_name: str,
    password_hash: str,
    role: Role,
    organisation_id: uuid.UUID | None = None,
) -> User:
    """Write an account with its email and name sealed (accounts.create checks first). The
    data key's row refers to the account, so the account is written first, sealed with a
    fresh key that is then kept (wrapped) once the account exists."""
    keys = sealing.keys_of(db)
    data_key = new_data_key()
    sealer = sealing.Sealer(None, user_id, data_key)
    user = User(
        id=user_id,
        email=_sealed(sealer, email, "email"),
        email_lookup=email_lookup(keys.master_key, email),
        display_name=_sealed(sealer, display_name, "display_name"),
        password_hash=password_hash,
        role=role,
        organisation_id=organisation_id,
    )
    db.add(user)
    db.flush()
    data_keys.keep(db, user_id, data_key, keys)
    return user


def _sealed(sealer: sealing.Sealer, value: str, field: str) -> str:
    sealed = sealer.seal(value, table=TABLE, row_id=sealer.owner_id, field=field)
    assert sealed is not None
    return sealed
