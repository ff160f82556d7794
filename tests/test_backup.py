"""`waymark backup` then `waymark restore` into an empty place gives back every record and file."""

import hashlib
import io
import uuid
from pathlib import Path

from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from app.cli import main
from app.config import Settings
from app.db import normalise_database_url
from app.main import create_app
from tests.factories.accounts import register

TABLES = ("users", "incidents", "record_revisions", "evidence", "audit_events", "data_keys")


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


def test_backup_and_restore_round_trip(
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    register(client)
    client.post(
        "/api/v1/incidents",
        json={
            "occurred_at": "2026-10-01T09:00:00+01:00",
            "behaviours": ["following"],
            "description": "At the bus stop",
        },
    )
    photo = _photo()
    uploaded = client.post("/api/v1/evidence", files={"file": ("door.jpg", photo)})
    assert uploaded.status_code == 201
    runner = CliRunner()
    destination = tmp_path / "backup"
    result = runner.invoke(main, ["backup", str(destination)], env=_env(settings))
    assert result.exit_code == 0, result.output
    assert (destination / "manifest.json").exists()

    backend = make_url(normalise_database_url(settings.resolved_database_url)).get_backend_name()
    restored_dir = tmp_path / "restored"
    if backend == "sqlite":
        restored_url = f"sqlite:///{restored_dir / 'waymark.db'}"
        admin = None
    else:
        name = f"waymark_restore_{uuid.uuid4().hex[:10]}"
        server = make_url(normalise_database_url(settings.resolved_database_url))
        admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        restored_url = server.set(database=name).render_as_string(hide_password=False)
    try:
        restored = Settings(
            data_dir=restored_dir,
            database_url=restored_url,
            static_dir=tmp_path / "no-pwa",
        )
        # The same keys as the original: the master key travels separately from backups.
        restored_dir.mkdir()
        (restored_dir / "keys").symlink_to(settings.data_dir / "keys")
        result = runner.invoke(main, ["restore", str(destination)], env=_env(restored))
        assert result.exit_code == 0, result.output

        original_engine = create_engine(normalise_database_url(settings.resolved_database_url))
        restored_engine = create_engine(normalise_database_url(restored_url))
        assert _snapshot(restored_engine) == _snapshot(original_engine)
        original_engine.dispose()
        restored_engine.dispose()

        app = create_app(restored)
        with TestClient(app) as again:
            again.post(
                "/api/v1/auth/login",
                json={
                    "email": client.get("/api/v1/auth/me").json()["email"],
                    "password": "lantern orchard velvet compass",
                },
            )
            content = again.get(f"/api/v1/evidence/{uploaded.json()['id']}/content")
            assert content.status_code == 200
            assert hashlib.sha256(content.content).hexdigest() == uploaded.json()["sha256"]
        app.state.runtime.engine.dispose()
    finally:
        if admin is not None:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def test_restore_refuses_a_tampered_backup(
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    register(client)
    client.post("/api/v1/evidence", files={"file": ("door.jpg", _photo())})
    destination = tmp_path / "backup"
    runner = CliRunner()
    assert runner.invoke(main, ["backup", str(destination)], env=_env(settings)).exit_code == 0
    blob = next((destination / "blobs").iterdir())
    data = bytearray(blob.read_bytes())
    data[-1] ^= 1
    blob.write_bytes(bytes(data))
    target = Settings(data_dir=tmp_path / "restored", static_dir=tmp_path / "no-pwa")
    result = runner.invoke(main, ["restore", str(destination)], env=_env(target))
    assert result.exit_code == 1
    assert "does not match" in result.output


def test_backup_refuses_a_folder_that_is_not_empty(
    settings: Settings, client: TestClient, tmp_path: Path
) -> None:
    destination = tmp_path / "backup"
    destination.mkdir()
    (destination / "something").write_text("x")
    result = CliRunner().invoke(main, ["backup", str(destination)], env=_env(settings))
    assert result.exit_code == 1
    assert "not empty" in result.output
