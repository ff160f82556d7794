"""The master key can be rotated without touching a single blob, and erasing an account
destroys its data key and its blobs (crypto-shredding)."""

import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner, Result

from app.cli import main
from app.config import Settings
from app.keys import load_keys
from app.models.data_key import DataKey
from app.services import data_keys
from app.storage.crypto import DecryptionError
from tests.conftest import AppFactory
from tests.factories.accounts import STRONG_PASSWORD, login, register
from tests.factories.evidence import (
    EVIDENCE,
    call_log_csv,
    download,
    evidence_settings,
    iso_media_of_size,
    jpeg_photo,
    staged_data,
    start_upload,
    stored_objects,
    tus_patch,
    upload_evidence,
)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def fresh_settings(data_dir: Path, database_url: str) -> Settings:
    """Settings read anew, as a restarted server would (keys are loaded from the files)."""
    return evidence_settings(data_dir, database_url, None)


@pytest.fixture
def waymark(data_dir: Path, database_url: str) -> CliRunner:
    """The command, pointed at this test's data folder and database."""
    return CliRunner(
        env={
            "WAYMARK_ENVIRONMENT": "development",
            "WAYMARK_DATA_DIR": str(data_dir),
            "WAYMARK_DATABASE_URL": database_url,
        }
    )


def _run(runner: CliRunner, *args: str) -> Result:
    result = runner.invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result


def _data_key_row(engine: Engine, victim_id: str) -> DataKey | None:
    with Session(engine) as db:
        return db.exec(select(DataKey).where(DataKey.victim_id == uuid.UUID(victim_id))).first()


def _master_key_id(settings: Settings) -> str:
    return data_keys.master_key_id(load_keys(settings).master_key)


def _restarted(make_app: AppFactory, settings: Settings, email: str) -> TestClient:
    client = TestClient(make_app(settings))
    login(client, email)
    return client


def test_rotation_rewraps_every_data_key_and_leaves_the_files_readable(
    make_app: AppFactory,
    fresh_settings: Settings,
    data_dir: Path,
    database_url: str,
    db_engine: Engine,
    waymark: CliRunner,
) -> None:
    photo, calls = jpeg_photo(), call_log_csv()
    people: list[tuple[dict[str, Any], dict[str, Any], bytes]] = []
    with TestClient(make_app(fresh_settings)) as client:
        for content in (photo, calls):
            client.cookies.clear()
            user = register(client)
            people.append((user, upload_evidence(client, content), content))
    old_id = _master_key_id(evidence_settings(data_dir, database_url, None))
    before = {user["id"]: _data_key_row(db_engine, user["id"]) for user, _, _ in people}
    assert all(row is not None and row.master_key_id == old_id for row in before.values())

    _run(waymark, "keys", "new-master")
    assert (data_dir / "keys" / "master.previous").exists()
    new_id = _master_key_id(evidence_settings(data_dir, database_url, None))
    assert new_id != old_id
    result = _run(waymark, "keys", "rotate")
    assert "rewrapped 2 data key(s)" in result.output

    for user, record, content in people:
        row = _data_key_row(db_engine, user["id"])
        previous = before[user["id"]]
        assert row is not None and previous is not None
        assert row.master_key_id == new_id
        assert row.wrapped_key != previous.wrapped_key
        settings = evidence_settings(data_dir, database_url, None)
        with _restarted(make_app, settings, user["email"]) as c:
            assert download(c, record["id"]).content == content

    # The old key can go: everything opens with the new one alone.
    (data_dir / "keys" / "master.previous").unlink()
    user, record, _ = people[0]
    settings = evidence_settings(data_dir, database_url, None)
    with _restarted(make_app, settings, user["email"]) as client:
        assert download(client, record["id"]).content == photo
        thumbnail = client.get(f"{EVIDENCE}/{record['id']}/thumbnail")
        assert thumbnail.status_code == 200
        assert thumbnail.content.startswith(b"\xff\xd8")
        later = upload_evidence(client, calls)
        assert download(client, later["id"]).content == calls
    assert "rewrapped 0 data key(s)" in _run(waymark, "keys", "rotate").output


def test_without_rotation_the_previous_key_is_still_needed(
    make_app: AppFactory,
    fresh_settings: Settings,
    data_dir: Path,
    database_url: str,
    db_engine: Engine,
    waymark: CliRunner,
) -> None:
    with TestClient(make_app(fresh_settings)) as client:
        user = register(client)
        upload_evidence(client, call_log_csv())
    _run(waymark, "keys", "new-master")
    victim_id = uuid.UUID(user["id"])
    with Session(db_engine) as db:
        # Not yet rotated: the previous key still opens it.
        keys = load_keys(evidence_settings(data_dir, database_url, None))
        assert len(data_keys.data_key_for(db, victim_id, keys)) == 32
        (data_dir / "keys" / "master.previous").unlink()
        keys = load_keys(evidence_settings(data_dir, database_url, None))
        with pytest.raises(DecryptionError):
            data_keys.data_key_for(db, victim_id, keys)


@pytest.fixture(params=["local", "s3"])
def storage_url(request: pytest.FixtureRequest) -> str | None:
    if request.param == "local":
        return None
    url: str = request.getfixturevalue("s3_url")
    return url


def test_erasing_an_account_shreds_its_key_and_blobs(
    make_app: AppFactory,
    data_dir: Path,
    database_url: str,
    storage_url: str | None,
    db_engine: Engine,
) -> None:
    app: FastAPI = make_app(evidence_settings(data_dir, database_url, storage_url))
    with TestClient(app) as victim, TestClient(app) as other:
        me = register(victim)
        upload_evidence(victim, jpeg_photo(), filename="door.jpg")  # with a thumbnail
        upload_evidence(victim, call_log_csv())
        unfinished = iso_media_of_size(2 * 1024 * 1024)
        url = start_upload(victim, len(unfinished))
        assert tus_patch(victim, url, 0, unfinished[: 1024 * 1024 + 3]).status_code == 204
        someone = register(other)
        kept = upload_evidence(other, call_log_csv(5))
        assert len(stored_objects(app)) == 4
        assert staged_data(app) != []

        response = victim.request("DELETE", "/api/v1/account", json={"password": STRONG_PASSWORD})
        assert response.status_code == 204, response.text

        assert _data_key_row(db_engine, me["id"]) is None
        assert _data_key_row(db_engine, someone["id"]) is not None
        # Only the other victim's file is left; nothing of the erased one, staging included.
        assert len(stored_objects(app)) == 1
        assert staged_data(app) == []
        assert download(other, kept["id"]).content == call_log_csv(5)
