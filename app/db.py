"""The database engine, and one transaction per request."""

import threading
import weakref
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from app.errors import DatabaseBusy
from app.logs import get_logger

log = get_logger("waymark.db")

# How long a SQLite writer waits for a writer in another process (the CLI, a backup) before
# giving up (milliseconds). Writers in this process queue at the WriteGate instead.
SQLITE_BUSY_TIMEOUT_MS = 10_000
# How long a request waits its turn to write before it is told to come back (seconds).
WRITE_QUEUE_TIMEOUT_S = 30.0


def normalise_database_url(url: str) -> str:
    """Let operators write postgresql://… and still get the psycopg 3 driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str) -> Engine:
    url = normalise_database_url(url)
    # hide_parameters keeps values (emails, free text) out of error messages and so out of logs.
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            hide_parameters=True,
            connect_args={"check_same_thread": False},
            # As many connections as request threads (anyio's pool has 40), so requests wait
            # for SQLite's write lock, never for a connection.
            pool_size=20,
            max_overflow=30,
        )
        _configure_sqlite(engine)
        _write_gates[engine] = WriteGate()
        return engine
    return create_engine(
        url, hide_parameters=True, pool_pre_ping=True, pool_size=10, max_overflow=40
    )


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # We issue BEGIN ourselves (below), so the driver must not.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # FULL: a transaction we acknowledged survives a power cut, not only a crash.
        cursor.execute("PRAGMA synchronous=FULL")
        # Deleted rows are overwritten with zeros rather than left in free pages, so an erased
        # account's bytes are not in the file for anyone who copies it (docs/security.md).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A request that will write takes the write lock up front (BEGIN IMMEDIATE): waiting for
        # it is covered by busy_timeout, whereas upgrading a read transaction later can fail at
        # once when another writer got there first.
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


class WriteGate:
    """SQLite has one writer at a time. Writers of this process wait here, first come first
    served, rather than in SQLite's busy handler, which polls with growing sleeps: under load a
    writer could lose every race to newer ones and time out while the lock was free half the
    time. The gate is handed from one writer to the next, and may be released by a different
    thread from the one that took it (a request's dependencies and its endpoint run in
    different worker threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held = False
        self._queue: deque[threading.Event] = deque()

    def enter(self, timeout: float) -> None:
        with self._lock:
            if not self._held:
                self._held = True
                return
            turn = threading.Event()
            self._queue.append(turn)
        if turn.wait(timeout):
            return
        with self._lock:
            if turn.is_set():  # handed over just as the wait ran out
                return
            self._queue.remove(turn)
        raise DatabaseBusy()

    @property
    def waiting(self) -> int:
        with self._lock:
            return len(self._queue)

    def leave(self) -> None:
        with self._lock:
            if self._queue:
                self._queue.popleft().set()  # the next writer now holds the gate
            else:
                self._held = False


_write_gates: "weakref.WeakKeyDictionary[Engine, WriteGate]" = weakref.WeakKeyDictionary()


@contextmanager
def transaction(engine: Engine, *, writes: bool) -> Iterator[Session]:
    """One unit of work: commit if the block finishes, roll back if it raises. Work that must
    only happen once the commit has succeeded (deleting blobs) is queued with after_commit and
    runs after the write lock is given up."""
    gate = _write_gates.get(engine) if writes else None
    if gate is not None:
        gate.enter(WRITE_QUEUE_TIMEOUT_S)
    session = Session(engine, expire_on_commit=False)
    committed = False
    try:
        with session:
            if gate is not None:
                session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
            yield session
            session.commit()
            committed = True
    finally:
        if gate is not None:
            gate.leave()
        if not committed:
            for undo in session.info.pop(_AFTER_ROLLBACK, []):
                try:
                    undo()
                except Exception as error:  # the rollback's own cause is what propagates
                    log.warning("undo_failed", error=type(error).__name__)
    for action in session.info.pop(_AFTER_COMMIT, []):
        action()


_AFTER_COMMIT = "waymark_after_commit"
_AFTER_ROLLBACK = "waymark_after_rollback"


def after_commit(session: Session, action: Callable[[], None]) -> None:
    session.info.setdefault(_AFTER_COMMIT, []).append(action)


def after_rollback(session: Session, undo: Callable[[], None]) -> None:
    """Undo work done outside the database (the erase list) if the transaction does not
    commit."""
    session.info.setdefault(_AFTER_ROLLBACK, []).append(undo)


def truncate_wal(engine: Engine) -> None:
    """Copy SQLite's write-ahead log into the database file and cut the log to zero bytes, so
    the pages an erasure overwrote do not live on in old log frames. Run after the erasure
    has committed. PostgreSQL has nothing like it at row level: a deleted row stays in its
    table's files as a dead tuple until VACUUM reuses the space, and in the server's WAL until
    the segment is recycled; what makes those copies unreadable is the data key's deletion
    (docs/security.md)."""
    gate = _write_gates.get(engine)
    if gate is None:
        return
    # A checkpoint that truncates takes the write lock: take our turn like any writer.
    gate.enter(WRITE_QUEUE_TIMEOUT_S)
    try:
        connection = engine.raw_connection()
        try:
            # The connection is in autocommit (isolation_level None), as a checkpoint needs.
            cursor = connection.cursor()
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cursor.close()
        finally:
            connection.close()
    finally:
        gate.leave()


def ping(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:
        return False
    return True
