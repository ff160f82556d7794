"""The data folder's file system really fills up during a tus upload, under a real server.

The data folder is a small file system of the test's own (tests/system/filesystems.py) holding
the blob store, the staging folder and, on SQLite, the database. The test fills it to the last
byte in the middle of an upload, and then: the upload's next piece answers 507 problem+json,
reads and the signed-in session keep working, /health says degraded (disk low); once the
filler is removed the upload resumes from HEAD's offset and finishes byte-exact without a
restart, and the orphan sweep finds nothing half-written to remove.
"""

import hashlib
import os
import random
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.factories.evidence import iso_media_of_size
from tests.system.filesystems import MiB, fill, small_filesystem
from tests.system.servers import WAYMARK, own_database, running_server

pytestmark = pytest.mark.slow

CREDENTIALS = {"email": "full@example.org", "password": "lantern orchard velvet compass"}
TUS = {"Tus-Resumable": "1.0.0"}
FILE_SYSTEM_MIB = 48
UPLOAD_BYTES = 6 * MiB
PIECE = MiB
LATER_INCIDENT = {
    "id": "5f0c1e9a-6a43-4c55-9d1e-7f1d2b3c4d5e",
    "occurred_at": "2026-11-21T08:00:00+00:00",
    "behaviours": ["watching"],
    "description": "And again this morning, by the school gate. " * 20,
}


def _patch(client: httpx.Client, url: str, offset: int, piece: bytes) -> httpx.Response:
    return client.patch(
        url,
        content=piece,
        headers={
            **TUS,
            "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream",
        },
    )


def _offset(client: httpx.Client, url: str) -> int:
    head = client.head(url, headers=TUS)
    assert head.status_code == 200, head.status_code
    return int(head.headers["Upload-Offset"])


def _problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, object] = response.json()
    assert body["status"] == status
    return body


def test_a_full_disk_refuses_writes_with_507_and_recovers_when_space_is_freed(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    content = iso_media_of_size(UPLOAD_BYTES)[:4096]
    content += random.Random(16).randbytes(UPLOAD_BYTES - len(content))
    with (
        small_filesystem(tmp_path / "data", FILE_SYSTEM_MIB) as data_dir,
        own_database(request, data_dir) as env,
    ):
        env = {**env, "WAYMARK_MIN_FREE_DISK_MB": "1"}
        with (
            running_server(env, tmp_path / "server.log") as (base, _),
            httpx.Client(base_url=base, timeout=30) as client,
        ):
            registered = client.post(
                "/api/v1/auth/register",
                json={**CREDENTIALS, "display_name": "Fay"},
            )
            assert registered.status_code == 201, registered.text
            incident = client.post(
                "/api/v1/incidents",
                json={
                    "occurred_at": "2026-11-20T21:30:00+00:00",
                    "behaviours": ["watching"],
                    "description": "Parked outside again.",
                },
            )
            assert incident.status_code == 201, incident.text
            assert client.get("/api/v1/health").json()["disk"] == "ok"
            created = client.post(
                "/api/v1/uploads", headers={**TUS, "Upload-Length": str(len(content))}
            )
            assert created.status_code == 201, created.text
            url = created.headers["Location"]
            assert _patch(client, url, 0, content[:PIECE]).status_code == 204

            filler = fill(data_dir)

            # The next piece has no room: 507, and the offset stays where it was recorded.
            refused = _problem(_patch(client, url, PIECE, content[PIECE : 2 * PIECE]), 507)
            assert str(refused["type"]).endswith("out-of-space")
            offset = _offset(client, url)
            assert PIECE <= offset < 2 * PIECE
            # A record goes to the database: on SQLite that is on the full disk too.
            on_full_disk = request.config.getoption("--db") == "sqlite"
            later = client.post("/api/v1/incidents", json=LATER_INCIDENT)
            if on_full_disk:
                _problem(later, 507)
            else:
                assert later.status_code == 201, later.text
            health = client.get("/api/v1/health")
            assert health.status_code == 503
            assert health.json()["status"] == "degraded" and health.json()["disk"] == "low"
            # Reads, and the session already signed in, keep working; signing in anew makes a
            # session row, so it waits for space where the database is.
            assert client.get("/api/v1/auth/me").status_code == 200
            with httpx.Client(base_url=base, timeout=30) as other_phone:
                login = other_phone.post("/api/v1/auth/login", json=CREDENTIALS)
                if on_full_disk:
                    _problem(login, 507)
                else:
                    assert login.status_code == 200, login.text
            listed = client.get("/api/v1/incidents")
            assert listed.status_code == 200
            expected = [incident.json()["id"]] + ([] if on_full_disk else [LATER_INCIDENT["id"]])
            assert [i["id"] for i in listed.json()["items"]] == expected

            filler.unlink()

            # Without a restart: the refused record can be sent again, and the upload goes on
            # from where HEAD says, to the end.
            assert client.get("/api/v1/health").json()["status"] == "ok"
            again = client.post("/api/v1/incidents", json=LATER_INCIDENT)
            assert again.status_code == (201 if on_full_disk else 200), again.text
            offset = _offset(client, url)
            location = None
            while offset < len(content):
                answer = _patch(client, url, offset, content[offset : offset + PIECE])
                assert answer.status_code == 204, answer.text
                offset = int(answer.headers["Upload-Offset"])
                location = answer.headers.get("Location")
            assert location is not None
            downloaded = client.get(f"{location}/content")
            assert downloaded.status_code == 200
            assert hashlib.sha256(downloaded.content).digest() == hashlib.sha256(content).digest()
            evidence = client.get("/api/v1/evidence").json()["items"]
            assert [e["id"] for e in evidence] == [location.rsplit("/", 1)[1]]

        # The server is stopped, so a grace period of 0 is safe: nothing was left behind.
        swept = subprocess.run(
            [WAYMARK, "blobs", "sweep", "--older-than-hours", "0"],
            env={**os.environ, **env},
            check=True,
            capture_output=True,
            text=True,
        )
        assert swept.stdout.startswith("removed 0 orphaned blob(s) and 0 staged item(s)"), (
            swept.stdout
        )
