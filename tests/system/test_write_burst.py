"""A burst of writers larger than the server's thread pool, against a real SQLite-backed server.

Before the write gate and admission limit, 40 worker threads could all be waiting for SQLite's
write lock while the request holding it needed a thread to finish: every waiter timed out after
busy_timeout and answered 500. Here the server gets a small limit on purpose (4 requests in
progress, so 12 threads) and five times as many writers, plus readers, arrive at once; every
write must be acknowledged exactly once and every read must succeed.
"""

import asyncio
import uuid
from pathlib import Path

import httpx

from tests.system.servers import migrate, running_server

PASSWORD = "lantern orchard velvet compass"
WRITERS = 60
READERS = 12


async def _burst(base: str, cookies: httpx.Cookies) -> tuple[list[int], list[int], set[str]]:
    limits = httpx.Limits(max_connections=WRITERS + READERS)
    async with httpx.AsyncClient(
        base_url=base, cookies=cookies, timeout=120, limits=limits
    ) as client:
        ids = [str(uuid.uuid4()) for _ in range(WRITERS)]
        writes = [
            client.post(
                "/api/v1/incidents",
                json={
                    "id": incident_id,
                    "occurred_at": "2026-11-20T21:30:00+00:00",
                    "behaviours": ["watching"],
                    "description": "Burst",
                },
            )
            for incident_id in ids
        ]
        reads = [client.get("/api/v1/timeline", params={"limit": 50}) for _ in range(READERS)]
        responses = await asyncio.gather(*writes, *reads)
        listed = (await client.get("/api/v1/incidents", params={"limit": 200})).json()["items"]
    write_statuses = [r.status_code for r in responses[:WRITERS]]
    read_statuses = [r.status_code for r in responses[WRITERS:]]
    return write_statuses, read_statuses, {item["id"] for item in listed} & set(ids)


def test_writers_beyond_the_thread_pool_all_succeed(tmp_path: Path) -> None:
    env = {"WAYMARK_DATA_DIR": str(tmp_path / "data"), "WAYMARK_REQUESTS_IN_PROGRESS": "4"}
    migrate(env)
    with running_server(env, tmp_path / "server.log") as (base, _):
        with httpx.Client(base_url=base, timeout=30) as client:
            registered = client.post(
                "/api/v1/auth/register",
                json={
                    "email": f"burst-{uuid.uuid4().hex[:8]}@example.org",
                    "password": PASSWORD,
                    "display_name": "Burst",
                },
            )
            assert registered.status_code == 201
            cookies = client.cookies
        write_statuses, read_statuses, kept = asyncio.run(_burst(base, cookies))
    assert write_statuses == [201] * WRITERS
    assert read_statuses == [200] * READERS
    assert len(kept) == WRITERS
