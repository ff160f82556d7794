"""PostgreSQL stopped and started again under a running server with requests in flight.

Waymark runs on a PostgreSQL of the test's own (tests/system/postgres.py) while clients keep
recording incidents and reading their log. PostgreSQL is stopped as an operator restarting it
would stop it: every request meanwhile answers 503 problem+json with Retry-After (never a 500,
never a dropped connection) and /health says the database is down. Started again, Waymark
recovers by itself, without a restart: every incident it acknowledged is there, once.
"""

import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from app.migrations.runner import upgrade_to_head
from tests.system.postgres import own_postgres
from tests.system.servers import running_server

pytestmark = pytest.mark.slow

CREDENTIALS = {"email": "restart@example.org", "password": "lantern orchard velvet compass"}
WRITERS = 3
RECOVERY_S = 60.0  # a bound on waiting for the service to come back, not a measurement


@dataclass
class Load:
    """What the clients saw while they ran."""

    stop: threading.Event = field(default_factory=threading.Event)
    acknowledged: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    wrong: list[str] = field(default_factory=list)  # answers that are not allowed
    lock: threading.Lock = field(default_factory=threading.Lock)

    def saw(self, response: httpx.Response, allowed: set[int]) -> None:
        with self.lock:
            self.statuses[response.status_code] += 1
            if response.status_code not in allowed:
                self.wrong.append(f"{response.status_code}: {response.text[:200]}")
            elif response.status_code == 503:
                if not response.headers["content-type"].startswith("application/problem+json"):
                    self.wrong.append("a 503 that is not problem+json")
                if "retry-after" not in response.headers:
                    self.wrong.append("a 503 without Retry-After")
        if response.status_code == 503:
            # A pause, as a client told to come back would (shorter than Retry-After, to keep
            # the test short, but enough not to spin on a machine it shares).
            time.sleep(0.1)


def _incident(description: str) -> dict[str, object]:
    return {
        "id": str(uuid.uuid4()),
        "occurred_at": "2026-11-20T21:30:00+00:00",
        "behaviours": ["watching"],
        "description": description,
    }


def _write(base: str, cookies: httpx.Cookies, load: Load) -> None:
    with httpx.Client(base_url=base, cookies=cookies, timeout=30) as client:
        while not load.stop.is_set():
            body = _incident("Outside the house during the restart.")
            try:
                response = client.post("/api/v1/incidents", json=body)
            except httpx.TransportError as error:
                with load.lock:
                    load.wrong.append(f"the connection failed: {type(error).__name__}")
                return
            load.saw(response, {201, 503})
            if response.status_code == 201:
                with load.lock:
                    load.acknowledged.append(str(body["id"]))


def _read(base: str, cookies: httpx.Cookies, load: Load) -> None:
    with httpx.Client(base_url=base, cookies=cookies, timeout=30) as client:
        while not load.stop.is_set():
            try:
                response = client.get("/api/v1/incidents", params={"limit": 5})
            except httpx.TransportError as error:
                with load.lock:
                    load.wrong.append(f"the connection failed: {type(error).__name__}")
                return
            load.saw(response, {200, 503})


def _all_incidents(client: httpx.Client) -> list[str]:
    ids: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/incidents", params=params)
        assert page.status_code == 200, page.text
        ids += [item["id"] for item in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if not cursor:
            return ids


def _until_acknowledged(load: Load, more_than: int) -> None:
    deadline = time.monotonic() + RECOVERY_S
    while len(load.acknowledged) <= more_than and not load.wrong:
        assert time.monotonic() < deadline, f"no incident was acknowledged: {load.statuses}"
        time.sleep(0.05)


def test_postgresql_restarted_under_load_gives_503_and_recovers_by_itself(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    if request.config.getoption("--db") != "postgresql":
        # It starts a PostgreSQL of its own, so one run of the suite is enough.
        pytest.skip("PostgreSQL restarts are tested in the PostgreSQL run (--db=postgresql)")
    with own_postgres() as postgres:
        admin = create_engine(postgres.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("CREATE DATABASE waymark"))
        admin.dispose()
        upgrade_to_head(postgres.url("waymark"))
        env = {
            "WAYMARK_DATA_DIR": str(tmp_path / "data"),
            "WAYMARK_DATABASE_URL": postgres.url("waymark"),
        }
        with (
            running_server(env, tmp_path / "server.log") as (base, _),
            httpx.Client(base_url=base, timeout=30) as client,
        ):
            registered = client.post(
                "/api/v1/auth/register", json={**CREDENTIALS, "display_name": "Rea"}
            )
            assert registered.status_code == 201, registered.text
            load = Load()
            clients = [
                *(
                    threading.Thread(target=_write, args=(base, client.cookies, load))
                    for _ in range(WRITERS)
                ),
                threading.Thread(target=_read, args=(base, client.cookies, load)),
            ]
            for thread in clients:
                thread.start()
            try:
                _until_acknowledged(load, 10)
                postgres.stop()  # with requests in flight

                # While it is down: clear answers, and /health says which part is wrong.
                refused = _incident("While it is down.")
                down = client.post("/api/v1/incidents", json=refused)
                load.saw(down, {503})
                assert down.json()["type"].endswith("unavailable")
                load.saw(client.get("/api/v1/auth/me"), {503})
                health = client.get("/api/v1/health")
                assert health.status_code == 503
                assert health.json()["status"] == "degraded"
                assert health.json()["database"] == "error"
                acknowledged_while_down = len(load.acknowledged)

                postgres.start()
                # The clients carry on: the service comes back without being restarted.
                _until_acknowledged(load, acknowledged_while_down)
            finally:
                load.stop.set()
                for thread in clients:
                    thread.join(timeout=60)
                    assert not thread.is_alive(), "a client hung"

            assert not load.wrong, (load.wrong[:5], load.statuses)
            assert load.statuses[503] > 0, load.statuses
            assert client.get("/api/v1/health").json()["status"] == "ok"
            stored = _all_incidents(client)
            assert set(load.acknowledged) <= set(stored), "an acknowledged incident was lost"
            assert len(stored) == len(set(stored))
            assert refused["id"] not in stored
            verification = client.get("/api/v1/audit/verify").json()
            assert verification["valid"] is True
