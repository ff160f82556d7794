"""Kill a real server (SIGKILL) at random moments while it records incidents, receives an
upload and streams a pack; restart it on the same data and prove that every acknowledged write
is there, nothing unacknowledged is half there, the audit trail still verifies, and abandoned
upload data is removed once expiry runs."""

import base64
import os
import random
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from tests.system.servers import migrate, running_server

PASSWORD = "lantern orchard velvet compass"
ROUNDS = 3


def _hammer(
    base: str, cookies: httpx.Cookies, acknowledged: list[str], stop: threading.Event
) -> None:
    with httpx.Client(base_url=base, cookies=cookies, timeout=10) as client:
        while not stop.is_set():
            incident_id = str(uuid.uuid4())
            try:
                response = client.post(
                    "/api/v1/incidents",
                    json={
                        "id": incident_id,
                        "occurred_at": "2026-11-20T21:30:00+00:00",
                        "behaviours": ["watching"],
                        "description": "Crash test",
                    },
                )
            except httpx.HTTPError:
                return
            if response.status_code in (200, 201):
                acknowledged.append(incident_id)


def _upload_forever(base: str, cookies: httpx.Cookies, stop: threading.Event) -> None:
    """Start a tus upload and stream into it until the server dies."""
    with httpx.Client(base_url=base, cookies=cookies, timeout=30) as client:
        length = 64 * 1024 * 1024
        try:
            created = client.post(
                "/api/v1/uploads",
                headers={
                    "Tus-Resumable": "1.0.0",
                    "Upload-Length": str(length),
                    "Upload-Metadata": "filename " + base64.b64encode(b"clip.mp4").decode(),
                },
            )

            def body() -> Iterator[bytes]:
                yield b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"
                while not stop.is_set():
                    yield os.urandom(256 * 1024)

            client.patch(
                created.headers["Location"],
                content=body(),
                headers={
                    "Tus-Resumable": "1.0.0",
                    "Upload-Offset": "0",
                    "Content-Type": "application/offset+octet-stream",
                },
            )
        except (httpx.HTTPError, KeyError):
            return


def _export_forever(base: str, cookies: httpx.Cookies, stop: threading.Event) -> None:
    with httpx.Client(base_url=base, cookies=cookies, timeout=30) as client:
        while not stop.is_set():
            try:
                with client.stream("GET", "/api/v1/exports/pack") as response:
                    for _ in response.iter_bytes():
                        if stop.is_set():
                            return
            except httpx.HTTPError:
                return


def test_acknowledged_writes_survive_sigkill(tmp_path: Path) -> None:
    env = {"WAYMARK_DATA_DIR": str(tmp_path / "data")}
    migrate(env)
    log = tmp_path / "server.log"
    email = f"crash-{uuid.uuid4().hex[:8]}@example.org"
    acknowledged: list[str] = []
    rng = random.Random(20261125)
    cookies = httpx.Cookies()
    for round_number in range(ROUNDS):
        with running_server(env, log) as (base, process):
            client = httpx.Client(base_url=base, cookies=cookies, timeout=10)
            if round_number == 0:
                assert (
                    client.post(
                        "/api/v1/auth/register",
                        json={"email": email, "password": PASSWORD, "display_name": "Crash"},
                    ).status_code
                    == 201
                )
            else:
                assert (
                    client.post(
                        "/api/v1/auth/login", json={"email": email, "password": PASSWORD}
                    ).status_code
                    == 200
                )
            cookies = client.cookies
            stop = threading.Event()
            workers = [
                threading.Thread(target=_hammer, args=(base, cookies, acknowledged, stop)),
                threading.Thread(target=_hammer, args=(base, cookies, acknowledged, stop)),
                threading.Thread(target=_upload_forever, args=(base, cookies, stop)),
                threading.Thread(target=_export_forever, args=(base, cookies, stop)),
            ]
            for worker in workers:
                worker.start()
            time.sleep(rng.uniform(1.0, 3.0))
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            stop.set()
            for worker in workers:
                worker.join(timeout=30)

    with running_server(env, log) as (base, _):
        client = httpx.Client(base_url=base, timeout=30)
        assert (
            client.post(
                "/api/v1/auth/login", json={"email": email, "password": PASSWORD}
            ).status_code
            == 200
        )
        stored: list[str] = []
        cursor: str | None = None
        while True:
            params: dict[str, str | int] = {"limit": 200, **({"cursor": cursor} if cursor else {})}
            page = client.get("/api/v1/incidents", params=params).json()
            stored += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert acknowledged, "the server was killed before it acknowledged anything"
        assert set(acknowledged) <= set(stored), "an acknowledged incident was lost"
        assert len(stored) == len(set(stored))
        # Every stored incident is whole: it reads back with its revision and audit event.
        verification = client.get("/api/v1/audit/verify").json()
        assert verification["valid"] is True
        created_events = [
            e
            for e in client.get("/api/v1/audit", params={"limit": 200, "order": "asc"}).json()[
                "items"
            ]
            if e["action"] == "incident.created"
        ]
        assert len(stored) >= len(created_events) or verification["count"] > 200

    # Abandoned uploads: once expired, `waymark uploads expire` leaves no staging data behind.
    engine = create_engine(f"sqlite:///{tmp_path / 'data' / 'waymark.db'}")
    with engine.begin() as connection:
        connection.execute(text("UPDATE uploads SET expires_at = '2000-01-01 00:00:00.000000'"))
    engine.dispose()
    import sys

    waymark = str(Path(sys.executable).parent / "waymark")
    subprocess.run(
        [waymark, "uploads", "expire"], env={**os.environ, **env}, check=True, capture_output=True
    )
    staging = tmp_path / "data" / "blobs" / "staging"
    assert [p.name for p in staging.iterdir()] == []
