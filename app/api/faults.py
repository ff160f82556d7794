"""What a failing dependency means for the person asking: a full disk is 507, a database, blob
store or Redis that does not answer is 503 with Retry-After, never a bare 500. And what a lost
race means: a write refused because another request wrote the same key first is a 409.

Exceptions are recognised by type (and SQLite's by its error code), looking through what they
were raised from, since SQLAlchemy and botocore wrap the underlying error. Driver modules are
looked up only if they are already imported: a server without Redis or S3 never loads them.
"""

import errno
import sqlite3
import sys
from collections.abc import Iterator

from sqlalchemy import exc as sa_exc

from app.errors import ConcurrentWrite, DomainError, OutOfSpace, Unavailable

_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
# SQLite's primary result codes: the disk is full; busy, locked, I/O error, cannot open.
_SQLITE_FULL = 13
_SQLITE_UNAVAILABLE = frozenset({5, 6, 10, 14})
# SQLite's extended codes for a key already taken: a primary key, a unique index.
_SQLITE_KEY_TAKEN = frozenset({1555, 2067})
# PostgreSQL's SQLSTATE for unique_violation (a primary key or unique index).
_PG_UNIQUE_VIOLATION = "23505"


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__
        orig = getattr(current, "orig", None)
        if isinstance(orig, BaseException) and id(orig) not in seen:
            yield orig
            seen.add(id(orig))


def _loaded_class(module: str, name: str) -> type[BaseException] | None:
    loaded = sys.modules.get(module)
    found = getattr(loaded, name, None) if loaded is not None else None
    return found if isinstance(found, type) and issubclass(found, BaseException) else None


def _is_sqlite_full(error: BaseException) -> bool:
    if not isinstance(error, sqlite3.Error):
        return False
    code = getattr(error, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF == _SQLITE_FULL:
        return True
    return "database or disk is full" in str(error)


def _is_storage_failure(error: BaseException) -> bool:
    boto_error = _loaded_class("botocore.exceptions", "BotoCoreError")
    if boto_error is not None and isinstance(error, boto_error):
        return True
    client_error = _loaded_class("botocore.exceptions", "ClientError")
    if client_error is not None and isinstance(error, client_error):
        status = getattr(error, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode")
        return isinstance(status, int) and status >= 500
    return False


def _is_redis_failure(error: BaseException) -> bool:
    for name in ("ConnectionError", "TimeoutError", "BusyLoadingError"):
        redis_error = _loaded_class("redis.exceptions", name)
        if redis_error is not None and isinstance(error, redis_error):
            return True
    return False


def _is_database_failure(error: BaseException) -> bool:
    if isinstance(error, (sa_exc.DisconnectionError, sa_exc.TimeoutError)):
        return True  # the pool could not hand out a working connection
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, sqlite3.OperationalError):
        # Busy, locked, or the file could not be read or written; a mistake in SQL (code 1)
        # is a bug, not a fault.
        code = getattr(error, "sqlite_errorcode", None)
        return isinstance(code, int) and code & 0xFF in _SQLITE_UNAVAILABLE
    for name in ("OperationalError", "InterfaceError"):
        psycopg_error = _loaded_class("psycopg", name)
        # Connection refused or lost, the server shutting down or starting up.
        if psycopg_error is not None and isinstance(error, psycopg_error):
            return True
    return False


def dependency_failure(error: BaseException) -> DomainError | None:
    """The answer for an exception that a failing dependency caused, or None for a bug."""
    chain = list(_chain(error))
    for link in chain:
        if isinstance(link, OSError) and link.errno in _FULL_ERRNOS:
            return OutOfSpace()
        if _is_sqlite_full(link):
            return OutOfSpace()
    for link in chain:
        if _is_redis_failure(link):
            return Unavailable("Redis (shared sign-in limits)")
        if _is_storage_failure(link):
            return Unavailable("The file store")
        if _is_database_failure(link):
            return Unavailable("The database")
        if isinstance(link, (ConnectionError, TimeoutError)):
            return Unavailable("A service the server needs")
    return None


def _is_key_taken(error: BaseException) -> bool:
    if isinstance(error, sqlite3.IntegrityError):
        return getattr(error, "sqlite_errorcode", None) in _SQLITE_KEY_TAKEN
    psycopg_error = _loaded_class("psycopg", "IntegrityError")
    if psycopg_error is not None and isinstance(error, psycopg_error):
        return getattr(error, "sqlstate", None) == _PG_UNIQUE_VIOLATION
    return False


def write_conflict(error: BaseException) -> ConcurrentWrite | None:
    """The answer for a write that lost a race, or None.

    Requests read, then write; two that read the same state can both try to write the same
    key: the next revision of one record (record_revisions' primary key is kind, id and
    revision), or one client-chosen id. The database lets one in and refuses the other with a
    unique violation, after which that request's whole transaction is rolled back. A service
    that expects a key to be taken catches this itself (a savepoint, as records.create does
    for an id); anywhere else it is a concurrent write, and the loser is told so. On SQLite,
    writers of one process take the write lock before they read (app/db.py), so there the two
    apply one after the other instead; the mapping is the same for a writer in another process.
    """
    if not isinstance(error, sa_exc.IntegrityError):
        return None
    return ConcurrentWrite() if any(_is_key_taken(link) for link in _chain(error)) else None


def known_failure(error: BaseException) -> DomainError | None:
    """A problem to answer with for an exception that is not a bug: a failing dependency or a
    lost race. None means a bug (a 500)."""
    return dependency_failure(error) or write_conflict(error)
