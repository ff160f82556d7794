"""The crash loop: start a real server, record incidents and send tus uploads, SIGKILL it at a
random moment, start it again; 30 times, on the run's database (--db). Every interrupted upload
resumes from the offset HEAD reports (never a 409), an upload that finished as the server died
says so (never a 404, never a second copy), no acknowledged incident is lost, the audit chain
verifies, and after `waymark blobs sweep` no blob is left that nothing points at.

Small files (1-3 MiB, in pieces of odd sizes, so offsets fall inside appends and tails are
stored) keep each round to a few seconds. The seed is in every failure message.
"""

import hashlib
import logging
import os
import random
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.factories.evidence import iso_media_of_size
from tests.system.servers import WAYMARK, own_database, running_server

ROUNDS = 30
PASSWORD = "lantern orchard velvet compass"
TUS = {"Tus-Resumable": "1.0.0"}
KiB = 1024


@dataclass
class Ledger:
    """What the server acknowledged, and the uploads it has not yet said are finished."""

    seed: int
    incidents: list[str] = field(default_factory=list)
    pending: dict[str, bytes] = field(default_factory=dict)  # upload URL -> its content
    finished: dict[str, str] = field(default_factory=dict)  # evidence id -> sha256
    resumed: int = 0  # uploads found part-way after a restart and resumed from HEAD's offset
    completed_unseen: int = 0  # uploads that finished as the server died (HEAD says so)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(self, message: str) -> None:
        """Note what went wrong (a client thread's failure would otherwise vanish) and stop."""
        self.errors.append(message)
        raise _Wrong(message)

    def check(self) -> None:
        assert not self.errors, f"{self.errors} (seed {self.seed})"


class _Wrong(Exception):
    pass


def _content(rng: random.Random) -> bytes:
    size = rng.randint(1 * 1024 * KiB, 3 * 1024 * KiB)
    head = iso_media_of_size(size)[:4096]
    return head + rng.randbytes(size - len(head))


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


def _send_from(
    client: httpx.Client, ledger: Ledger, url: str, offset: int, rng: random.Random
) -> None:
    """Send the rest of an upload from `offset`, in pieces of odd sizes."""
    content = ledger.pending[url]
    while offset < len(content):
        piece = content[offset : offset + rng.randint(100 * KiB, 700 * KiB)]
        response = _patch(client, url, offset, piece)
        if response.status_code == 409:
            ledger.fail(f"409 resuming {url} from the offset HEAD gave ({offset})")
        if response.status_code != 204:
            ledger.fail(f"PATCH answered {response.status_code}: {response.text}")
        offset = int(response.headers["Upload-Offset"])
        if "Location" in response.headers:
            _finished(ledger, url, response.headers["Location"])
            return


def _finished(ledger: Ledger, url: str, location: str) -> None:
    evidence_id = location.rsplit("/", 1)[1]
    if evidence_id != url.rsplit("/", 1)[1]:
        ledger.fail(f"{url} finished as other evidence ({location})")
    with ledger.lock:
        ledger.finished[evidence_id] = hashlib.sha256(ledger.pending.pop(url)).hexdigest()


def _resume(client: httpx.Client, ledger: Ledger, rng: random.Random) -> None:
    """After a restart: every upload not known to be finished, from where HEAD says."""
    for url in list(ledger.pending):
        head = client.head(url, headers=TUS)
        if head.status_code != 200:
            ledger.fail(f"HEAD of an interrupted upload answered {head.status_code}")
        offset, length = int(head.headers["Upload-Offset"]), int(head.headers["Upload-Length"])
        if offset == length:
            if "Location" not in head.headers:
                ledger.fail("a finished upload's HEAD did not say where its evidence is")
            ledger.completed_unseen += 1
            _finished(ledger, url, head.headers["Location"])
            continue
        ledger.resumed += 1
        _send_from(client, ledger, url, offset, rng)


def _uploads(base: str, cookies: httpx.Cookies, ledger: Ledger, rng: random.Random) -> None:
    with httpx.Client(base_url=base, cookies=cookies, timeout=30) as client:
        try:
            _resume(client, ledger, rng)
            while True:
                content = _content(rng)
                created = client.post(
                    "/api/v1/uploads", headers={**TUS, "Upload-Length": str(len(content))}
                )
                if created.status_code != 201:
                    ledger.fail(f"creating an upload answered {created.status_code}")
                url = created.headers["Location"]
                ledger.pending[url] = content
                _send_from(client, ledger, url, 0, rng)
        except (httpx.TransportError, _Wrong):
            return  # the server died (what was acknowledged is in the ledger), or see errors


def _incidents(base: str, cookies: httpx.Cookies, ledger: Ledger) -> None:
    with httpx.Client(base_url=base, cookies=cookies, timeout=30) as client:
        while True:
            incident_id = str(uuid.uuid4())
            try:
                response = client.post(
                    "/api/v1/incidents",
                    json={
                        "id": incident_id,
                        "occurred_at": "2026-11-20T21:30:00+00:00",
                        "behaviours": ["watching"],
                        "description": "Crash loop",
                    },
                )
            except httpx.TransportError:
                return
            if response.status_code != 201:
                ledger.errors.append(f"an incident answered {response.status_code}")
                return
            with ledger.lock:
                ledger.incidents.append(incident_id)


def _sign_in(client: httpx.Client, email: str, first: bool) -> None:
    if first:
        response = client.post(
            "/api/v1/auth/register",
            json={"email": email, "password": PASSWORD, "display_name": "Crash"},
        )
        assert response.status_code == 201, response.text
    else:
        response = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert response.status_code == 200, response.text


def _all(client: httpx.Client, path: str) -> list[dict[str, object]]:
    items: list[dict[str, object]] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        page = client.get(path, params=params).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


def _unreferenced_blobs(data_dir: Path, database_url: str) -> list[str]:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        ids = {
            str(row[0]).replace("-", "")
            for row in connection.execute(text("SELECT blob_id FROM evidence"))
        }
        ids |= {
            str(row[0]).replace("-", "")
            for row in connection.execute(text("SELECT id FROM uploads"))
        }
    engine.dispose()
    objects = data_dir / "blobs" / "objects"
    return sorted(p.name for p in objects.rglob("*") if p.is_file() and p.name[:32] not in ids)


def _unreferenced_staging(data_dir: Path, database_url: str) -> list[str]:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        uploads = {
            str(row[0]).replace("-", "")
            for row in connection.execute(text("SELECT id FROM uploads"))
        }
    engine.dispose()
    staging = data_dir / "blobs" / "staging"
    return sorted(p.name for p in staging.iterdir() if p.name[:32] not in uploads)


def _check_everything(base: str, email: str, ledger: Ledger, rng: random.Random) -> None:
    """After the last kill: finish what was left, then compare with the ledger."""
    seed = ledger.seed
    with httpx.Client(base_url=base, timeout=60) as client:
        _sign_in(client, email, first=False)
        _resume(client, ledger, rng)
        ledger.check()
        assert not ledger.pending, f"uploads left unfinished (seed {seed})"
        stored = [str(item["id"]) for item in _all(client, "/api/v1/incidents")]
        assert set(ledger.incidents) <= set(stored), f"an incident was lost (seed {seed})"
        assert len(stored) == len(set(stored))
        evidence = {str(e["id"]): str(e["sha256"]) for e in _all(client, "/api/v1/evidence")}
        # Every finished upload is evidence once, byte-exact; nothing else is.
        assert evidence == ledger.finished, f"evidence differs (seed {seed})"
        verification = client.get("/api/v1/audit/verify").json()
        assert verification["valid"] is True, f"audit chain broken (seed {seed})"


def test_uploads_and_writes_survive_a_crash_loop(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    record_property: Callable[[str, object], None],
) -> None:
    seed = int(os.environ.get("WAYMARK_CRASH_SEED", random.SystemRandom().randrange(2**32)))
    rng = random.Random(seed)
    ledger = Ledger(seed)
    data_dir = tmp_path / "data"
    log = tmp_path / "server.log"
    email = f"loop-{uuid.uuid4().hex[:8]}@example.org"
    started = time.monotonic()
    with own_database(request, data_dir) as env:
        cookies = httpx.Cookies()
        for round_number in range(ROUNDS):
            with running_server(env, log) as (base, process):
                with httpx.Client(base_url=base, timeout=30) as client:
                    _sign_in(client, email, first=round_number == 0)
                    cookies = client.cookies
                workers = [
                    threading.Thread(target=_uploads, args=(base, cookies, ledger, rng)),
                    threading.Thread(target=_incidents, args=(base, cookies, ledger)),
                ]
                for worker in workers:
                    worker.start()
                time.sleep(rng.uniform(0.1, 1.0))
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                for worker in workers:
                    worker.join(timeout=60)
                    assert not worker.is_alive(), f"a client hung (seed {seed})"
                ledger.check()

        with running_server(env, log) as (base, _):
            _check_everything(base, email, ledger, rng)

        database_url = env.get("WAYMARK_DATABASE_URL", f"sqlite:///{data_dir / 'waymark.db'}")
        orphans_before = _unreferenced_blobs(data_dir, database_url)
        swept = subprocess.run(
            [WAYMARK, "blobs", "sweep", "--older-than-hours", "0"],
            env={**os.environ, **env},
            check=True,
            capture_output=True,
            text=True,
        )
        assert _unreferenced_blobs(data_dir, database_url) == [], f"orphans left (seed {seed})"
        # A staged file may remain only for an upload the server still holds: one created just
        # before a kill, whose answer never reached the client (it lives until it expires).
        assert _unreferenced_staging(data_dir, database_url) == [], f"staging left (seed {seed})"
    elapsed = time.monotonic() - started
    # The figures, for the record (in the JUnit report, and the log with -o log_cli=true).
    figures = (
        f"crash loop ({request.config.getoption('--db')}, seed {seed}): {ROUNDS} kills in "
        f"{elapsed:.0f} s; {len(ledger.incidents)} incidents acknowledged, "
        f"{len(ledger.finished)} uploads finished, {ledger.resumed} resumed after a kill, "
        f"{ledger.completed_unseen} finished unseen; orphans before the sweep "
        f"{len(orphans_before)}, after 0 ({swept.stdout.strip()})"
    )
    record_property("crash_loop", figures)
    logging.getLogger("waymark.tests.crash_loop").warning(figures)
