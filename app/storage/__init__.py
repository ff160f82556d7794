"""Blob stores behind one protocol: a local folder (default) or S3-compatible object storage.

Stores hold ciphertext only (app/storage/crypto.py) under keys made of random ids, so nothing
about a file (its name, type or owner) can be read from the store.
"""

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

# An id in hex, optionally with a derivative's suffix ("….thumb"). Nothing else is a key.
KEY_PATTERN = re.compile(r"^[0-9a-f]{32}(\.[a-z]{1,16})?$")


class BlobNotFound(Exception):
    pass


def check_key(key: str) -> str:
    if not KEY_PATTERN.match(key):
        raise ValueError("blob keys are ids")
    return key


@dataclass(frozen=True)
class Stored:
    """Something in a store, for the orphan sweep: `name` is what the store removes it by,
    `owner` the id (32 hex) of the record or upload it belongs to."""

    name: str
    owner: str
    modified: datetime


def owner_of(name: str) -> str | None:
    """The id a stored name starts with (blob keys, staging files), if it starts with one."""
    head = name[:32]
    return head if len(head) == 32 and all(c in "0123456789abcdef" for c in head) else None


class BlobWriter(Protocol):
    """A blob being written: nothing is visible under its key until commit()."""

    def write(self, data: bytes) -> None: ...

    def commit(self) -> None:
        """Make the blob durable and visible, all at once."""
        ...

    def abort(self) -> None:
        """Throw away what was written; safe to call more than once."""
        ...


class BlobStore(Protocol):
    def check(self) -> bool:
        """True when the store can be written to now (for /health)."""
        ...

    def open_writer(self, key: str) -> BlobWriter: ...

    def read_at(self, key: str, offset: int, length: int) -> bytes:
        """Up to `length` bytes from `offset` (fewer only at the end of the blob)."""
        ...

    def size(self, key: str) -> int: ...

    def delete(self, key: str) -> None:
        """Remove the blob; a missing blob is not an error."""
        ...

    def listing(self) -> Iterator[Stored]:
        """Every finished blob (for the orphan sweep); `name` is its key."""
        ...


def write_blob(store: BlobStore, key: str, chunks: Iterable[bytes]) -> int:
    """Store the chunks under `key`, all or nothing, durably. Returns the bytes written."""
    writer = store.open_writer(key)
    written = 0
    try:
        for chunk in chunks:
            writer.write(chunk)
            written += len(chunk)
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    return written
