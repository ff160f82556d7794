"""Two server processes sharing one PostgreSQL, one S3 store and one Redis behave as one service:
an upload started on one finishes on the other, a session made on one works on the other,
failed sign-ins count across both, and a revoked share is refused everywhere at once."""

import base64
import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine
from sqlmodel import Session

from app.config import Settings
from app.db import normalise_database_url
from app.keys import load_keys
from app.models.organisation import Organisation
from app.models.user import Role
from app.services import accounts, sealing
from tests.system.servers import postgres_database, running_server

PASSWORD = "lantern orchard velvet compass"


@pytest.fixture
def shared_env(
    request: pytest.FixtureRequest, tmp_path: Path, s3_url: str, redis_url: str
) -> Iterator[dict[str, str]]:
    if request.config.getoption("--db") != "postgresql":
        pytest.skip("scale-out needs PostgreSQL (run with --db=postgresql)")
    keys = {
        "WAYMARK_MASTER_KEY": base64.b64encode(os.urandom(32)).decode(),
        "WAYMARK_SECRET_KEY": base64.b64encode(os.urandom(32)).decode(),
    }
    with postgres_database(request, "waymark_scale") as url:
        yield {
            "WAYMARK_DATABASE_URL": url,
            "WAYMARK_STORAGE_URL": s3_url,
            "WAYMARK_REDIS_URL": redis_url,
            # Both processes must share every key; a development signing key comes from data_dir.
            "WAYMARK_DATA_DIR": str(tmp_path / "shared-keys"),
            **keys,
        }


def _advocate(env: dict[str, str]) -> str:
    """An advocate made as the CLI makes one, with the servers' keys (the email and name are
    sealed under them)."""
    engine = create_engine(normalise_database_url(env["WAYMARK_DATABASE_URL"]))
    settings = Settings(
        environment="development",
        data_dir=Path(env["WAYMARK_DATA_DIR"]),
        database_url=env["WAYMARK_DATABASE_URL"],
        master_key=env["WAYMARK_MASTER_KEY"],
        secret_key=env["WAYMARK_SECRET_KEY"],
    )
    sealing.register_keys(engine, load_keys(settings))
    email = f"adv{uuid.uuid4().hex[:8]}@example.org"
    with Session(engine) as db:
        organisation = Organisation(name=f"Org {uuid.uuid4().hex[:6]}")
        db.add(organisation)
        db.flush()
        accounts.create(
            db,
            email=email,
            password=PASSWORD,
            display_name="Sam",
            role=Role.advocate,
            organisation_id=organisation.id,
        )
        db.commit()
    engine.dispose()
    return email


def test_two_processes_act_as_one_service(shared_env: dict[str, str], tmp_path: Path) -> None:
    log = tmp_path / "servers.log"
    with (
        running_server(shared_env, log) as (first, _),
        running_server(shared_env, log) as (second, _),
    ):
        victim = httpx.Client(base_url=first, timeout=30)
        email = f"v{uuid.uuid4().hex[:8]}@example.org"
        assert (
            victim.post(
                "/api/v1/auth/register",
                json={"email": email, "password": PASSWORD, "display_name": "Vic"},
            ).status_code
            == 201
        )

        # A session made on the first process works on the second.
        on_second = httpx.Client(base_url=second, cookies=victim.cookies, timeout=30)
        assert on_second.get("/api/v1/auth/me").json()["email"] == email

        # A tus upload started on the first process is finished on the second.
        data = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + os.urandom(
            9 * 1024 * 1024
        )
        created = victim.post(
            "/api/v1/uploads",
            headers={
                "Tus-Resumable": "1.0.0",
                "Upload-Length": str(len(data)),
                "Upload-Metadata": "filename " + base64.b64encode(b"clip.mp4").decode(),
            },
        )
        assert created.status_code == 201
        location = created.headers["Location"]
        half = 5 * 1024 * 1024
        patch = {"Tus-Resumable": "1.0.0", "Content-Type": "application/offset+octet-stream"}
        first_half = victim.patch(
            location, content=data[:half], headers={**patch, "Upload-Offset": "0"}
        )
        assert first_half.status_code == 204
        offset = int(
            on_second.head(location, headers={"Tus-Resumable": "1.0.0"}).headers["Upload-Offset"]
        )
        assert offset == half
        rest = on_second.patch(
            location, content=data[offset:], headers={**patch, "Upload-Offset": str(offset)}
        )
        assert rest.status_code == 204, rest.text
        evidence_id = location.rsplit("/", 1)[1]
        record = victim.get(f"/api/v1/evidence/{evidence_id}").json()
        assert record["sha256"] == hashlib.sha256(data).hexdigest()
        assert (
            hashlib.sha256(
                victim.get(f"/api/v1/evidence/{evidence_id}/content").content
            ).hexdigest()
            == record["sha256"]
        )

        # Failed sign-ins count across both processes (Redis).
        stranger_first = httpx.Client(base_url=first, timeout=30)
        stranger_second = httpx.Client(base_url=second, timeout=30)
        for attempt in range(5):
            client = stranger_first if attempt % 2 == 0 else stranger_second
            assert (
                client.post(
                    "/api/v1/auth/login", json={"email": email, "password": "wrong wrong wrong"}
                ).status_code
                == 401
            )
        throttled = stranger_second.post(
            "/api/v1/auth/login", json={"email": email, "password": "wrong wrong wrong"}
        )
        assert throttled.status_code == 429
        assert int(throttled.headers["Retry-After"]) >= 1

        # A share revoked on one process is refused on the other at once.
        advocate_email = _advocate(shared_env)
        advocate = httpx.Client(base_url=second, timeout=30)
        assert (
            advocate.post(
                "/api/v1/auth/login", json={"email": advocate_email, "password": PASSWORD}
            ).status_code
            == 200
        )
        code = advocate.post("/api/v1/invitations").json()["code"]
        share = victim.post("/api/v1/shares", json={"code": code}).json()["id"]
        assert advocate.get(f"/api/v1/cases/{share}").status_code == 200
        assert victim.delete(f"/api/v1/shares/{share}").status_code == 204
        assert advocate.get(f"/api/v1/cases/{share}").status_code == 404
