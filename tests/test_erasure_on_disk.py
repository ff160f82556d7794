"""An erasure leaves no bytes of the account in SQLite's files: deleted rows are overwritten
(secure_delete) and the write-ahead log is checkpointed and cut to nothing once the erasure
has committed. PostgreSQL keeps dead tuples until VACUUM (docs/security.md): there the data
key's deletion is what makes them unreadable, which tests/test_backup.py covers."""

import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from app.config import Settings
from app.db import make_engine, normalise_database_url, transaction, truncate_wal
from tests.factories.accounts import STRONG_PASSWORD, new_email, register


def _sqlite_file(settings: Settings) -> Path:
    url = make_url(normalise_database_url(settings.resolved_database_url))
    if url.get_backend_name() != "sqlite":
        pytest.skip("SQLite's own files; PostgreSQL's belong to its server")
    return Path(url.database or "")


def _wal(database: Path) -> Path:
    return database.with_name(database.name + "-wal")


def test_an_erasure_leaves_an_empty_wal_and_nothing_of_the_account_in_the_file(
    client: TestClient, settings: Settings
) -> None:
    database = _sqlite_file(settings)
    email = new_email()
    marker = f"marker-{uuid.uuid4().hex}"
    register(client, email=email, display_name=marker)
    response = client.post(
        "/api/v1/incidents",
        json={
            "occurred_at": "2026-10-01T09:00:00+01:00",
            "behaviours": ["following"],
            "description": marker,
        },
    )
    assert response.status_code == 201
    assert _wal(database).stat().st_size > 0  # the writes are in the log so far

    erased = client.request("DELETE", "/api/v1/account", json={"password": STRONG_PASSWORD})
    assert erased.status_code == 204

    assert _wal(database).stat().st_size == 0
    content = database.read_bytes()
    assert email.encode() not in content
    assert marker.encode() not in content


def test_deleted_rows_are_overwritten_in_the_file(tmp_path: Path) -> None:
    """What secure_delete buys, shown against a connection with it turned off."""
    marker = f"marker-{uuid.uuid4().hex}".encode()

    def left_after_delete(secure: bool) -> bool:
        database = tmp_path / f"secure-{secure}.db"
        engine = make_engine(f"sqlite:///{database}")
        if not secure:
            # The one thing this side changes: every new connection turns it off again.
            @event.listens_for(engine, "connect")
            def _off(dbapi_connection: object, _record: object) -> None:
                dbapi_connection.execute("PRAGMA secure_delete=OFF")  # type: ignore[attr-defined]

        with transaction(engine, writes=True) as db:
            db.execute(text("CREATE TABLE notes (body TEXT)"))
            db.execute(text("INSERT INTO notes VALUES (:body)"), {"body": marker.decode() * 3})
            db.execute(text("INSERT INTO notes VALUES ('kept')"))
        truncate_wal(engine)
        assert marker in database.read_bytes()
        with transaction(engine, writes=True) as db:
            assert db.execute(text("PRAGMA secure_delete")).scalar_one() == int(secure)
            db.execute(text("DELETE FROM notes WHERE body != 'kept'"))
        truncate_wal(engine)
        assert _wal(database).stat().st_size == 0
        left = marker in database.read_bytes()
        engine.dispose()
        return left

    assert not left_after_delete(secure=True)
    assert left_after_delete(secure=False)
