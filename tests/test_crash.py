"""A real server process killed mid-upload (SIGKILL: no chance to tidy up) and restarted on
the same data folder resumes the upload from the offset it reports, and the file ends up
byte-exact with the right SHA-256."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
import pytest

from tests.factories.accounts import STRONG_PASSWORD, new_email
from tests.factories.evidence import (
    EVIDENCE,
    TUS,
    UPLOADS,
    MiB,
    iso_media_of_size,
    sha256_of,
    tus_metadata,
)

WAYMARK = str(Path(sys.executable).parent / "waymark")
TOTAL = 48 * MiB
CHUNK = MiB
KILL_AFTER = 30 * MiB


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path
    log: IO[bytes]

    def kill(self) -> None:
        """SIGKILL the whole process group, as a power cut or the OOM killer would."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.log.close()

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")[-4000:]


@dataclass
class Servers:
    env: dict[str, str]
    folder: Path
    started: list[Server] = field(default_factory=list)

    def start(self) -> Server:
        port = _free_port()
        log_path = self.folder / f"server-{len(self.started)}.log"
        log = log_path.open("wb")
        process = subprocess.Popen(
            [WAYMARK, "serve"],
            env={**self.env, "WAYMARK_PORT": str(port)},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed as one
        )
        server = Server(process, f"http://127.0.0.1:{port}", log_path, log)
        self.started.append(server)
        self._wait_until_healthy(server)
        return server

    def _wait_until_healthy(self, server: Server) -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                pytest.fail(f"the server stopped while starting:\n{server.output()}")
            try:
                if httpx.get(f"{server.base_url}/api/v1/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        pytest.fail(f"the server did not become healthy:\n{server.output()}")


@pytest.fixture
def servers(request: pytest.FixtureRequest, tmp_path: Path, database_url: str) -> Iterator[Servers]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("WAYMARK_")}
    env.update(
        {
            "WAYMARK_ENVIRONMENT": "development",
            "WAYMARK_HOST": "127.0.0.1",
            "WAYMARK_DATA_DIR": str(tmp_path / "data"),
            "WAYMARK_STATIC_DIR": str(tmp_path / "no-pwa"),
            "WAYMARK_LOG_LEVEL": "WARNING",
        }
    )
    if request.config.getoption("--db") == "postgresql":
        env["WAYMARK_DATABASE_URL"] = database_url
        request.getfixturevalue("db")  # empties the shared test database afterwards
    # Otherwise SQLite in the data folder, the single-machine default.
    migrated = subprocess.run(
        [WAYMARK, "migrate"], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert migrated.returncode == 0, migrated.stderr
    running = Servers(env, tmp_path)
    try:
        yield running
    finally:
        for server in running.started:
            if not server.log.closed:
                server.kill()


def _client(server: Server, cookies: httpx.Cookies | None = None) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, timeout=120, cookies=cookies)


def _offset(client: httpx.Client, url: str) -> int:
    response = client.head(url, headers=TUS)
    assert response.status_code == 200, response.status_code
    return int(response.headers["Upload-Offset"])


def _wait_for(check: Callable[[], bool], what: str, server: Server) -> None:
    deadline = time.monotonic() + 120
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}:\n{server.output()}")
        time.sleep(0.1)


def test_a_server_killed_mid_upload_resumes_from_the_offset_it_reports(
    servers: Servers,
) -> None:
    content = iso_media_of_size(TOTAL)
    expected = sha256_of(content)
    email = new_email()

    first = servers.start()
    with _client(first) as client:
        registered = client.post(
            "/api/v1/auth/register",
            json={"email": email, "password": STRONG_PASSWORD, "display_name": "Alex"},
        )
        assert registered.status_code == 201, registered.text
        created = client.post(
            UPLOADS,
            headers={
                **TUS,
                "Upload-Length": str(TOTAL),
                "Upload-Metadata": tus_metadata({"filename": "doorbell.mp4", "sha256": expected}),
            },
        )
        assert created.status_code == 201, created.text
        url = created.headers["Location"]
        sent = 0

        def body() -> Iterator[bytes]:
            nonlocal sent
            for start in range(0, TOTAL, CHUNK):
                if sent == KILL_AFTER:
                    # Mid-PATCH: once the server has recorded a checkpoint (every 16 MiB),
                    # it dies without warning. The client goes on sending until it notices.
                    with _client(first, client.cookies) as watcher:
                        _wait_for(lambda: _offset(watcher, url) > 0, "a checkpoint", first)
                    first.kill()
                yield content[start : start + CHUNK]
                if first.process.returncode is None:
                    sent += CHUNK

        with pytest.raises(httpx.TransportError):
            client.patch(
                url,
                content=body(),
                headers={
                    **TUS,
                    "Upload-Offset": "0",
                    "Content-Type": "application/offset+octet-stream",
                    "Content-Length": str(TOTAL),
                },
            )
    assert first.process.returncode == -signal.SIGKILL
    assert sent >= KILL_AFTER

    second = servers.start()
    with _client(second) as client:
        signed_in = client.post(
            "/api/v1/auth/login", json={"email": email, "password": STRONG_PASSWORD}
        )
        assert signed_in.status_code == 200, signed_in.text
        offset = _offset(client, url)
        # Never ahead of what was sent (and durably stored); never lost back to zero.
        assert 0 < offset <= sent
        finished = client.patch(
            url,
            content=content[offset:],
            headers={
                **TUS,
                "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream",
            },
        )
        assert finished.status_code == 204, finished.text
        assert finished.headers["Upload-Offset"] == str(TOTAL)
        evidence_url = finished.headers["Location"]
        assert evidence_url == f"{EVIDENCE}/{url.rsplit('/', 1)[1]}"

        evidence = client.get(evidence_url).json()
        assert evidence["size"] == TOTAL
        assert evidence["sha256"] == expected
        assert evidence["client_sha256_matches"] is True
        downloaded = client.get(f"{evidence_url}/content")
        assert downloaded.status_code == 200
        assert sha256_of(downloaded.content) == expected
        assert downloaded.content == content
