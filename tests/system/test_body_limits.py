"""A 10 MB JSON body against a real server: refused with 413 problem+json, and the server's
memory does not grow by the body (it is never read, let alone parsed)."""

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.system.servers import migrate, running_server

PASSWORD = "lantern orchard velvet compass"
TEN_MB = 10 * 1024 * 1024
MiB = 1024 * 1024


def _rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def _huge_body() -> bytes:
    return json.dumps({"email": "someone@example.org", "password": "x" * TEN_MB}).encode()


def _chunked(body: bytes) -> Iterator[bytes]:
    # A generator has no length, so httpx sends it chunked: no Content-Length to trust.
    for start in range(0, len(body), 64 * 1024):
        yield body[start : start + 64 * 1024]


def _assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 413


def test_a_ten_megabyte_json_body_is_refused_without_growing_the_server(tmp_path: Path) -> None:
    env = {"WAYMARK_DATA_DIR": str(tmp_path / "data")}
    migrate(env)
    body = _huge_body()
    with (
        running_server(env, tmp_path / "server.log") as (base, process),
        httpx.Client(base_url=base, timeout=30) as client,
    ):
        registered = client.post(
            "/api/v1/auth/register",
            json={
                "email": f"limits-{uuid.uuid4().hex[:8]}@example.org",
                "password": PASSWORD,
                "display_name": "Limits",
            },
        )
        assert registered.status_code == 201, registered.text
        # Warm up every path once, so what is measured is the bodies, not first imports.
        client.post("/api/v1/auth/login", json={"email": "a@example.org", "password": "x"})
        client.get("/api/v1/incidents")
        before = _rss_bytes(process.pid)
        headers = {"Content-Type": "application/json"}
        for path in ("/api/v1/auth/login", "/api/v1/incidents"):
            for _ in range(3):
                _assert_refused(client.post(path, content=body, headers=headers))
                _assert_refused(client.post(path, content=_chunked(body), headers=headers))
        grown = _rss_bytes(process.pid) - before
    assert grown < 20 * MiB, f"RSS grew by {grown / MiB:.1f} MiB"
