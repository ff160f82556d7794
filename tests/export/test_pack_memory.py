"""A pack with 1 GiB of evidence streams in bounded memory, from a real server process.

The evidence goes in by tus, 32 MiB at a time from a generator (the test never holds the whole
file either); the pack comes back through a real socket, read in chunks, while the server's
resident memory (VmRSS in /proc/<pid>/status) is sampled every 0.2 s. A memory bound is not a
timing assertion: however slow the machine, the server must not hold the evidence in memory.
"""

import hashlib
import os
import random
import re
import shutil
import socket
import struct
import subprocess
import sys
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from tests.conftest import _empty_all_tables
from tests.factories.accounts import STRONG_PASSWORD, new_email
from tests.factories.evidence import OFFSET_STREAM, TUS, UPLOADS, MiB, tus_metadata
from tests.factories.exports import PACK, verify_pack

pytestmark = pytest.mark.slow

EVIDENCE_SIZE = 1024 * MiB
PATCH_SIZE = 32 * MiB
READ_SIZE = 1 * MiB
RSS_LIMIT = 300 * MiB
SAMPLE_EVERY = 0.2  # seconds
WAYMARK = Path(sys.executable).with_name("waymark")


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    data_dir: Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_healthy(server: Server, log: Path) -> None:
    """Poll /health until the server answers (or its process ends, which fails the test)."""
    for _ in range(600):
        if server.process.poll() is not None:
            pytest.fail(f"waymark serve exited ({server.process.returncode}):\n{log.read_text()}")
        try:
            if httpx.get(f"{server.url}/api/v1/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        threading.Event().wait(0.1)
    pytest.fail(f"waymark serve did not become healthy:\n{log.read_text()}")


@pytest.fixture
def server(tmp_path: Path, database_url: str, cleanup_engine: Engine) -> Iterator[Server]:
    """`waymark migrate`, then `waymark serve` in a process of its own, on a free port, over
    the test database and a data folder in tmp_path. Stopped, and its files removed, after."""
    data_dir = tmp_path / "data"
    port = free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("WAYMARK_")}
    env |= {
        "WAYMARK_ENVIRONMENT": "development",
        "WAYMARK_DATA_DIR": str(data_dir),
        "WAYMARK_DATABASE_URL": database_url,
        "WAYMARK_STATIC_DIR": str(tmp_path / "no-pwa"),
        "WAYMARK_HOST": "127.0.0.1",
        "WAYMARK_PORT": str(port),
        "WAYMARK_LOG_LEVEL": "WARNING",
    }
    subprocess.run([str(WAYMARK), "migrate"], env=env, check=True, capture_output=True)
    log = tmp_path / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(WAYMARK), "serve"], env=env, stdout=output, stderr=subprocess.STDOUT
        )
    running = Server(f"http://127.0.0.1:{port}", process, data_dir)
    try:
        wait_until_healthy(running, log)
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(data_dir, ignore_errors=True)
        _empty_all_tables(cleanup_engine)


@dataclass
class MemoryWatch:
    """The peak VmRSS of a process, sampled every SAMPLE_EVERY seconds on a thread."""

    pid: int
    peak: int = 0
    samples: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def rss(self) -> int:
        status = Path(f"/proc/{self.pid}/status").read_text()
        (line,) = [line for line in status.splitlines() if line.startswith("VmRSS:")]
        return int(line.split()[1]) * 1024  # kB

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss())
            self.samples += 1
            self._stop.wait(SAMPLE_EVERY)

    def __enter__(self) -> "MemoryWatch":
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join()
        self.peak = max(self.peak, self.rss())


def dashcam_video(size: int, piece: int) -> Iterator[bytes]:
    """An MP4-like file of `size` bytes (a real ftyp box, then one mdat box), `piece` bytes at
    a time, made as it is sent."""
    ftyp = struct.pack(">I", 24) + b"ftypisom\x00\x00\x02\x00isommp41"
    head = ftyp + struct.pack(">I", size - len(ftyp)) + b"mdat"
    noise = random.Random(20261011)  # a fixed seed: the same file on every run
    sent = 0
    while sent < size:
        length = min(piece, size - sent)
        chunk = head + noise.randbytes(length - len(head)) if sent == 0 else noise.randbytes(length)
        sent += length
        yield chunk


def upload_by_tus(client: httpx.Client, size: int) -> tuple[str, str]:
    """Send the video by tus in PATCH_SIZE pieces; returns (evidence id, SHA-256 sent)."""
    created = client.post(
        UPLOADS,
        headers={
            **TUS,
            "Upload-Length": str(size),
            "Upload-Metadata": tus_metadata(
                {"filename": "dashcam-2026-10-11.mp4", "description": "Dashcam, the A14 lay-by."}
            ),
        },
    )
    assert created.status_code == 201, created.text
    url = created.headers["Location"]
    digest, offset = hashlib.sha256(), 0
    response: httpx.Response | None = None
    for piece in dashcam_video(size, PATCH_SIZE):
        digest.update(piece)
        response = client.patch(
            url,
            content=piece,
            headers={**TUS, "Upload-Offset": str(offset), "Content-Type": OFFSET_STREAM},
        )
        assert response.status_code == 204, response.text
        offset += len(piece)
        assert int(response.headers["Upload-Offset"]) == offset
    assert response is not None and offset == size
    return url.rsplit("/", 1)[1], digest.hexdigest()


def sha256_of_member(archive: zipfile.ZipFile, name: str) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with archive.open(name) as member:
        while chunk := member.read(READ_SIZE):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def test_a_pack_with_1_gib_of_evidence_streams_in_bounded_memory(
    server: Server, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    pack_path = tmp_path / "pack.zip"
    try:
        with httpx.Client(base_url=server.url, timeout=httpx.Timeout(300)) as client:
            registered = client.post(
                "/api/v1/auth/register",
                json={
                    "email": new_email(),
                    "password": STRONG_PASSWORD,
                    "display_name": "Robin Hartley",
                },
            )
            assert registered.status_code == 201, registered.text
            with MemoryWatch(server.process.pid) as during_upload:
                evidence_id, sent_sha256 = upload_by_tus(client, EVIDENCE_SIZE)
            evidence = client.get(f"/api/v1/evidence/{evidence_id}")
            assert evidence.status_code == 200, evidence.text
            assert evidence.json()["sha256"] == sent_sha256
            assert evidence.json()["size"] == EVIDENCE_SIZE
            assert evidence.json()["media_type"] == "video/mp4"

            at_rest = MemoryWatch(server.process.pid).rss()
            received = 0
            with (
                MemoryWatch(server.process.pid) as during_export,
                client.stream("GET", PACK) as response,
                pack_path.open("wb") as out,
            ):
                assert response.status_code == 200, response.read()
                assert response.headers["content-type"] == "application/zip"
                announced = int(response.headers["content-length"])
                for chunk in response.iter_raw(READ_SIZE):
                    received += len(chunk)
                    out.write(chunk)

        record_property("peak_rss_during_export", during_export.peak)
        record_property("peak_rss_during_upload", during_upload.peak)
        record_property("pack_size", received)
        sys.stderr.write(
            f"\n1 GiB pack: {received} bytes; server peak VmRSS {during_export.peak / MiB:.1f} MiB "
            f"while exporting ({during_export.samples} samples), "
            f"{during_upload.peak / MiB:.1f} MiB while uploading, "
            f"{at_rest / MiB:.1f} MiB at rest before the export\n"
        )
        assert during_export.samples > 1
        assert during_export.peak < RSS_LIMIT, f"{during_export.peak / MiB:.1f} MiB"
        assert received == announced > EVIDENCE_SIZE

        with zipfile.ZipFile(pack_path) as archive:
            (video,) = [
                name
                for name in archive.namelist()
                if "/evidence/" in name and not name.endswith(".json")  # not its sidecar
            ]
            assert re.fullmatch(
                r"waymark-evidence-pack-\d{8}T\d{6}Z/evidence/"
                r"[A-Z]{1,4}-1-\d{4}-\d{2}-\d{2}-dashcam-2026-10-11\.mp4",
                video,
            ), video
            assert sha256_of_member(archive, video) == (sent_sha256, EVIDENCE_SIZE)
            sums = archive.read(f"{video.split('/')[0]}/SHA256SUMS").decode()
            assert f"{sent_sha256}  {video.split('/', 1)[1]}\n" in sums
        result = verify_pack(pack_path)
        assert result.exit_code == 0, result.output
    finally:
        pack_path.unlink(missing_ok=True)
