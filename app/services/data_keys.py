"""Each victim's data key: made on first need, kept only wrapped by the master key, destroyed
with the account (which makes every copy of their blobs unreadable), rewrapped on rotation."""

import hashlib
import uuid

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.keys import Keys
from app.models.data_key import DataKey
from app.storage.crypto import DecryptionError, new_data_key, unwrap_key, wrap_key


def master_key_id(master_key: bytes) -> str:
    """A fingerprint naming a master key without revealing it."""
    return hashlib.sha256(b"waymark master key id|" + master_key).hexdigest()[:16]


def _unwrap(keys: Keys, row: DataKey) -> bytes:
    for candidate in (keys.master_key, *keys.previous_master_keys):
        if master_key_id(candidate) == row.master_key_id:
            return unwrap_key(candidate, row.wrapped_key, row.victim_id.bytes)
    raise DecryptionError(
        "this data key is wrapped by a master key the server does not have; "
        "set WAYMARK_PREVIOUS_MASTER_KEYS (docs/keys.md)"
    )


def data_key_for(db: Session, victim_id: uuid.UUID, keys: Keys) -> bytes:
    row = db.exec(select(DataKey).where(DataKey.victim_id == victim_id)).first()
    if row is not None:
        return _unwrap(keys, row)
    data_key = new_data_key()
    try:
        with db.begin_nested():
            db.add(
                DataKey(
                    victim_id=victim_id,
                    wrapped_key=wrap_key(keys.master_key, data_key, victim_id.bytes),
                    master_key_id=master_key_id(keys.master_key),
                )
            )
            db.flush()
    except IntegrityError:
        # Another request made it first; use theirs.
        row = db.exec(select(DataKey).where(DataKey.victim_id == victim_id)).one()
        return _unwrap(keys, row)
    return data_key


def keep(db: Session, owner_id: uuid.UUID, data_key: bytes, keys: Keys) -> None:
    """Keep a data key made before its account's row existed (the account's own email and
    name are sealed with it as the account is written)."""
    db.add(
        DataKey(
            victim_id=owner_id,
            wrapped_key=wrap_key(keys.master_key, data_key, owner_id.bytes),
            master_key_id=master_key_id(keys.master_key),
        )
    )
    db.flush()


def rotate(db: Session, keys: Keys) -> int:
    """Rewrap every data key not yet under the current master key. Blobs are not touched."""
    current = master_key_id(keys.master_key)
    rows = db.exec(select(DataKey).where(col(DataKey.master_key_id) != current)).all()
    for row in rows:
        data_key = _unwrap(keys, row)
        row.wrapped_key = wrap_key(keys.master_key, data_key, row.victim_id.bytes)
        row.master_key_id = current
        db.add(row)
    db.flush()
    return len(rows)
