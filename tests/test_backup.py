"""`waymark backup` then `waymark restore` into an empty place gives back every record and file;
the backup is private and its database part sealed; a backup restored after an erasure does
not bring the erased account back."""

import hashlib
import io
import json
import stat
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from app.cli import main
from app.config import Settings
from app.db import normalise_database_url
from app.main import create_app
from app.services import erase_list
from tests.factories.accounts import STRONG_PASSWORD, login, new_email, register

TABLES = ("users", "incidents", "record_revisions", "evidence", "audit_events", "data_keys")
# Tables that name or hold a victim's things, for what a restore must leave of an erased one.
OWNED = (
    ("data_keys", "victim_id"),
    ("incidents", "owner_id"),
    ("evidence", "owner_id"),
    ("record_revisions", "owner_id"),
)


def _photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


def _snapshot(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as connection:
        return {
            table: sorted(tuple(row) for row in connection.execute(text(f"SELECT * FROM {table}")))  # noqa: S608
            for table in TABLES
        }


def _env(settings: Settings) -> dict[str, str]:
    return {
        "WAYMARK_DATA_DIR": str(settings.data_dir),
        "WAYMARK_DATABASE_URL": settings.resolved_database_url,
        "WAYMARK_STORAGE_URL": settings.resolved_storage_url,
    }


def _backend(settings: Settings) -> str:
    return make_url(normalise_database_url(settings.resolved_database_url)).get_backend_name()


def _record_incident(client: TestClient, description: str) -> dict[str, Any]:
    response = client.post(
        "/api/v1/incidents",
        json={
            "occurred_at": "2026-10-01T09:00:00+01:00",
            "behaviours": ["following"],
            "description": description,
        },
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _backup(settings: Settings, destination: Path) -> str:
    result = CliRunner().invoke(main, ["backup", str(destination)], env=_env(settings))
    assert result.exit_code == 0, result.output
    return result.output


@contextmanager
def _restore_target(
    settings: Settings, tmp_path: Path, *, same_keys: bool = True
) -> Iterator[Settings]:
    """An empty data folder (and, on PostgreSQL, an empty database) holding the same keys as
    the original service (the master key travels separately from backups, and the erase list
    with it), or, if not same_keys, a master key of its own."""
    restored_dir = tmp_path / "restored"
    admin = None
    if _backend(settings) == "sqlite":
        restored_url = f"sqlite:///{restored_dir / 'waymark.db'}"
    else:
        name = f"waymark_restore_{uuid.uuid4().hex[:10]}"
        server = make_url(normalise_database_url(settings.resolved_database_url))
        admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        restored_url = server.set(database=name).render_as_string(hide_password=False)
    restored_dir.mkdir()
    if same_keys:
        (restored_dir / "keys").symlink_to(settings.data_dir / "keys")
    else:
        (restored_dir / "keys").mkdir()
        (restored_dir / "keys" / "master.key").write_text(
            (settings.keys_dir / "secret.key").read_text()  # a valid key, but not this one
        )
    try:
        yield Settings(
            data_dir=restored_dir, database_url=restored_url, static_dir=tmp_path / "pwa"
        )
    finally:
        if admin is not None:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def _restore(target: Settings, source: Path) -> str:
    result = CliRunner().invoke(main, ["restore", str(source)], env=_env(target))
    assert result.exit_code == 0, result.output
    return result.output


def _postgres_files(url: str) -> bytes:
    """The database's own files (its folder under the server's base/), when the server runs on
    this machine and they can be read; nothing otherwise."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("CHECKPOINT"))  # what is in shared buffers, onto the disk
        folder = Path(connection.execute(text("SHOW data_directory")).scalar_one()) / "base"
        folder /= str(
            connection.execute(
                text("SELECT oid FROM pg_database WHERE datname = current_database()")
            ).scalar_one()
        )
    engine.dispose()
    try:
        return b"".join(path.read_bytes() for path in folder.iterdir() if path.is_file())
    except OSError:
        return b""


def _database_bytes(settings: Settings) -> bytes:
    """Everything the database keeps on disk: SQLite's file and its log; for PostgreSQL,
    everything pg_dump reads out of it, and its files if this machine can read them."""
    url = make_url(normalise_database_url(settings.resolved_database_url))
    if url.get_backend_name() == "sqlite":
        database = Path(url.database or "")
        return b"".join(
            path.read_bytes()
            for path in (database, database.with_name(database.name + "-wal"))
            if path.exists()
        )
    return (
        _postgres_files(normalise_database_url(settings.resolved_database_url))
        + subprocess.run(
            [
                "pg_dump",
                "--host",
                url.host or "127.0.0.1",
                "--port",
                str(url.port or 5432),
                "--username",
                url.username or "postgres",
                "--dbname",
                url.database or "",
            ],
            capture_output=True,
            check=True,
        ).stdout
    )


def _erase(client: TestClient) -> None:
    response = client.request("DELETE", "/api/v1/account", json={"password": STRONG_PASSWORD})
    assert response.status_code == 204, response.text


def test_backup_and_restore_round_trip(
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    email = new_email()
    register(client, email=email)
    marker = f"marker-{uuid.uuid4().hex}"
    incident = _record_incident(client, f"At the bus stop {marker}")
    photo = _photo()
    uploaded = client.post("/api/v1/evidence", files={"file": ("door.jpg", photo)})
    assert uploaded.status_code == 201
    destination = tmp_path / "backup"
    _backup(settings, destination)
    assert (destination / "manifest.json").exists()

    # Private: the folders 0700, every file 0600.
    folders = [destination, *(p for p in destination.rglob("*") if p.is_dir())]
    files = [p for p in destination.rglob("*") if p.is_file()]
    assert {stat.S_IMODE(p.stat().st_mode) for p in folders} == {0o700}
    assert {stat.S_IMODE(p.stat().st_mode) for p in files} == {0o600}
    # Sealed: no byte of the marker or the email, nor even the database's own format.
    everything = b"".join(p.read_bytes() for p in files)
    for secret in (marker.encode(), email.encode(), b"SQLite format 3", b"PGDMP"):
        assert secret not in everything

    with _restore_target(settings, tmp_path) as restored:
        _restore(restored, destination)
        if _backend(settings) == "sqlite":
            database = restored.data_dir / "waymark.db"
            assert stat.S_IMODE(database.stat().st_mode) == 0o600
        original_engine = create_engine(normalise_database_url(settings.resolved_database_url))
        restored_engine = create_engine(normalise_database_url(restored.resolved_database_url))
        assert _snapshot(restored_engine) == _snapshot(original_engine)
        original_engine.dispose()
        restored_engine.dispose()

        app = create_app(restored)
        with TestClient(app) as again:
            login(again, email)
            content = again.get(f"/api/v1/evidence/{uploaded.json()['id']}/content")
            assert content.status_code == 200
            assert hashlib.sha256(content.content).hexdigest() == uploaded.json()["sha256"]
            read = again.get(f"/api/v1/incidents/{incident['id']}")
            assert read.json()["description"] == f"At the bus stop {marker}"
        app.state.runtime.engine.dispose()


def test_a_backup_restored_after_an_erasure_does_not_bring_the_account_back(
    make_client: Any, settings: Settings, tmp_path: Path
) -> None:
    erased_email, kept_email = new_email(), new_email()
    marker, kept_marker = f"marker-{uuid.uuid4().hex}", f"marker-{uuid.uuid4().hex}"
    leaving, staying = make_client(), make_client()
    erased_id = register(leaving, email=erased_email)["id"]
    register(staying, email=kept_email)
    _record_incident(leaving, marker)
    assert leaving.post("/api/v1/evidence", files={"file": ("a.jpg", _photo())}).status_code == 201
    kept = _record_incident(staying, kept_marker)
    destination = tmp_path / "backup"
    _backup(settings, destination)

    _erase(leaving)
    # A later backup reminds the operator of the list it leaves out.
    later = _backup(settings, tmp_path / "later")
    assert "the erase list" in later
    assert "(1 erased account(s))" in later
    # The erasure is on the list, kept beside the keys, not in any backup.
    listed = erase_list.path_for(settings)
    assert erase_list.read([listed]) == {uuid.UUID(erased_id)}
    assert stat.S_IMODE(listed.stat().st_mode) == 0o600

    with _restore_target(settings, tmp_path) as restored:
        output = _restore(restored, destination)
        assert "removed 1 erased account(s)" in output
        engine = create_engine(normalise_database_url(restored.resolved_database_url))
        with engine.connect() as connection:
            gone = uuid.UUID(erased_id)
            assert connection.execute(text("SELECT count(*) FROM users")).scalar_one() == 1
            for table, column in OWNED:
                rows = connection.execute(text(f"SELECT {column} FROM {table}")).scalars().all()  # noqa: S608
                assert all(uuid.UUID(str(row)) != gone for row in rows), table
        engine.dispose()
        # Her file was not restored either, and nothing of hers is in the database's files.
        assert not [p for p in (restored.data_dir / "blobs").rglob("*") if p.is_file()]
        restored_bytes = _database_bytes(restored)
        assert [s for s in (marker, erased_email) if s.encode() in restored_bytes] == []

        app = create_app(restored)
        with TestClient(app) as again:
            login(again, kept_email)
            read = again.get(f"/api/v1/incidents/{kept['id']}")
            assert read.json()["description"] == kept_marker
            refused = again.post(
                "/api/v1/auth/login", json={"email": erased_email, "password": STRONG_PASSWORD}
            )
            assert refused.status_code == 401
        app.state.runtime.engine.dispose()


def test_restore_refuses_a_backup_without_its_master_key(
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    register(client)
    destination = tmp_path / "backup"
    _backup(settings, destination)
    runner = CliRunner()
    # No keys at all: refused before anything is written (a new key could not open it).
    bare = Settings(data_dir=tmp_path / "bare", static_dir=tmp_path / "pwa")
    result = runner.invoke(main, ["restore", str(destination)], env=_env(bare))
    assert result.exit_code == 2
    assert "master key" in result.output
    assert not Path(make_url(bare.resolved_database_url).database or "").exists()
    # Another service's master key: refused, and nothing is restored.
    with _restore_target(settings, tmp_path, same_keys=False) as other:
        result = runner.invoke(main, ["restore", str(destination)], env=_env(other))
        assert result.exit_code == 1
        assert "master key the server does not have" in result.output
        assert not (other.data_dir / "waymark.db").exists()


def test_restore_refuses_a_tampered_backup(
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    register(client)
    client.post("/api/v1/evidence", files={"file": ("door.jpg", _photo())})
    destination = tmp_path / "backup"
    _backup(settings, destination)
    runner = CliRunner()
    blob = next((destination / "blobs").iterdir())
    data = bytearray(blob.read_bytes())
    data[-1] ^= 1
    blob.write_bytes(bytes(data))
    target = Settings(data_dir=tmp_path / "restored", static_dir=tmp_path / "no-pwa")
    target.data_dir.mkdir()
    (target.data_dir / "keys").symlink_to(settings.keys_dir)
    result = runner.invoke(main, ["restore", str(destination)], env=_env(target))
    assert result.exit_code == 1
    assert "does not match" in result.output


def test_a_tampered_database_part_does_not_restore(
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    """Even with a manifest rewritten to match, the sealed database part does not open."""
    register(client)
    destination = tmp_path / "backup"
    _backup(settings, destination)
    manifest = json.loads((destination / "manifest.json").read_text())
    part = destination / manifest["database_part"]["path"]
    data = bytearray(part.read_bytes())
    data[len(data) // 2] ^= 1
    part.write_bytes(bytes(data))
    entry = next(e for e in manifest["files"] if e["path"] == part.name)
    entry["sha256"] = hashlib.sha256(data).hexdigest()
    (destination / "manifest.json").write_text(json.dumps(manifest))
    with _restore_target(settings, tmp_path) as restored:
        result = CliRunner().invoke(main, ["restore", str(destination)], env=_env(restored))
        assert result.exit_code == 1
        assert "does not decrypt" in result.output


def test_backup_refuses_a_folder_that_is_not_empty(
    settings: Settings, client: TestClient, tmp_path: Path
) -> None:
    destination = tmp_path / "backup"
    destination.mkdir()
    (destination / "something").write_text("x")
    result = CliRunner().invoke(main, ["backup", str(destination)], env=_env(settings))
    assert result.exit_code == 1
    assert "not empty" in result.output
