"""`make load`: 50 simulated victims and 10 advocates use one real server for 60 seconds, on
SQLite and then on PostgreSQL. Afterwards every acknowledged record is counted: none may be
lost or duplicated, no request may fail, and every victim's audit trail must verify. The p50
and p99 latency of each kind of request goes into docs/benchmarks.md.

Traffic goes only to the server on 127.0.0.1 that this script starts; every loop is bounded.
"""

import argparse
import asyncio
import io
import random
import statistics
import sys
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlmodel import Session

from app.models.organisation import Organisation
from app.models.user import Role
from app.services import accounts
from bench.report import replace_block
from bench.server import PASSWORD, Server, postgres_reachable

BEHAVIOURS = ["following", "contacting", "turning_up", "watching", "threats", "gifts"]
DOCUMENT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    acknowledged: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    async def call(
        self, label: str, request: "asyncio.Future[httpx.Response] | object"
    ) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response: httpx.Response = await request  # type: ignore[misc]
        except httpx.HTTPError as error:
            self.errors[f"{label}: {type(error).__name__}"] += 1
            return None
        self.latencies[label].append((time.perf_counter() - started) * 1000)
        if response.status_code >= 400:
            self.errors[f"{label}: {response.status_code}"] += 1
            return None
        return response


def _small_png(seed: int) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (160, 120), (seed % 256, 40, 90)).save(buffer, "PNG")
    return buffer.getvalue()


async def victim_loop(
    client: httpx.AsyncClient, email: str, tally: Tally, until: float, rng: random.Random
) -> None:
    while time.monotonic() < until:
        roll = rng.random()
        if roll < 0.45:
            incident_id = str(uuid.uuid4())
            body = {
                "id": incident_id,
                "occurred_at": "2026-11-20T21:30:00+00:00",
                "behaviours": rng.sample(BEHAVIOURS, 2),
                "description": f"Load test incident {rng.randint(0, 10**6)}",
            }
            if await tally.call("log incident", client.post("/api/v1/incidents", json=body)):
                tally.acknowledged[email].add(incident_id)
        elif roll < 0.75:
            await tally.call(
                "timeline page",
                client.get("/api/v1/timeline", params={"limit": 50, "order": "desc"}),
            )
        elif roll < 0.85:
            await tally.call("search", client.get("/api/v1/timeline", params={"q": "incident"}))
        else:
            files = {"file": ("screenshot.png", _small_png(rng.randint(0, 255)))}
            await tally.call("upload photo", client.post("/api/v1/evidence", files=files))
        await asyncio.sleep(rng.uniform(0.05, 0.3))


async def advocate_loop(
    client: httpx.AsyncClient, cases: list[str], tally: Tally, until: float, rng: random.Random
) -> None:
    while time.monotonic() < until:
        case = rng.choice(cases)
        roll = rng.random()
        if roll < 0.2:
            await tally.call("caseload", client.get("/api/v1/cases"))
        elif roll < 0.8:
            await tally.call("case timeline", client.get(f"/api/v1/cases/{case}/timeline"))
        else:
            await tally.call(
                "case note",
                client.post(f"/api/v1/cases/{case}/notes", json={"body": "Checked in by phone."}),
            )
        await asyncio.sleep(rng.uniform(0.1, 0.4))


def _make_advocates(server: Server, count: int) -> list[str]:
    emails = []
    with Session(server.engine) as db:
        organisation = Organisation(name=f"Load {uuid.uuid4().hex[:6]}")
        db.add(organisation)
        db.flush()
        for n in range(count):
            email = f"advocate{n}-{uuid.uuid4().hex[:6]}@example.org"
            accounts.create(
                db,
                email=email,
                password=PASSWORD,
                display_name=f"Advocate {n}",
                role=Role.advocate,
                organisation_id=organisation.id,
            )
            emails.append(email)
        db.commit()
    return emails


async def run(database: str, victims: int, advocates: int, seconds: float) -> dict[str, object]:
    with Server(database, f"load-{database}") as server:
        limits = httpx.Limits(max_connections=200)
        tally = Tally()
        victim_clients: dict[str, httpx.AsyncClient] = {}
        for n in range(victims):
            client = httpx.AsyncClient(base_url=server.base_url, timeout=60, limits=limits)
            email = f"victim{n}-{uuid.uuid4().hex[:6]}@example.org"
            response = await client.post(
                "/api/v1/auth/register",
                json={"email": email, "password": PASSWORD, "display_name": f"Victim {n}"},
            )
            response.raise_for_status()
            victim_clients[email] = client
        advocate_cases: list[tuple[httpx.AsyncClient, list[str]]] = []
        victim_list = list(victim_clients.values())
        for n, email in enumerate(_make_advocates(server, advocates)):
            client = httpx.AsyncClient(base_url=server.base_url, timeout=60, limits=limits)
            (
                await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
            ).raise_for_status()
            cases = []
            for victim in victim_list[n * 5 : n * 5 + 5] or victim_list[:1]:
                code = (await client.post("/api/v1/invitations")).json()["code"]
                share = await victim.post("/api/v1/shares", json={"code": code})
                share.raise_for_status()
                cases.append(share.json()["id"])
            advocate_cases.append((client, cases))
        until = time.monotonic() + seconds
        rng = random.Random(7)
        started = time.monotonic()
        await asyncio.gather(
            *(
                victim_loop(c, e, tally, until, random.Random(rng.random()))
                for e, c in victim_clients.items()
            ),
            *(
                advocate_loop(c, cases, tally, until, random.Random(rng.random()))
                for c, cases in advocate_cases
            ),
        )
        elapsed = time.monotonic() - started
        lost = duplicated = 0
        chains_valid = 0
        for email, client in victim_clients.items():
            seen: list[str] = []
            cursor: str | None = None
            while True:
                params: dict[str, str | int] = {"limit": 200}
                if cursor:
                    params["cursor"] = cursor
                page = (await client.get("/api/v1/incidents", params=params)).json()
                seen += [item["id"] for item in page["items"]]
                cursor = page["next_cursor"]
                if not cursor:
                    break
            lost += len(tally.acknowledged[email] - set(seen))
            duplicated += len(seen) - len(set(seen))
            chains_valid += bool((await client.get("/api/v1/audit/verify")).json()["valid"])
        for client in [*victim_clients.values(), *(c for c, _ in advocate_cases)]:
            await client.aclose()
    requests = sum(len(v) for v in tally.latencies.values())
    return {
        "database": database,
        "seconds": round(elapsed, 1),
        "requests": requests,
        "errors": sum(tally.errors.values()),
        "errors_by_kind": dict(tally.errors),
        "lost": lost,
        "duplicated": duplicated,
        "chains_valid": f"{chains_valid}/{len(victim_clients)}",
        "acknowledged_incidents": sum(len(v) for v in tally.acknowledged.values()),
        "latency": {
            label: (
                round(statistics.median(values), 1),
                round(sorted(values)[int(len(values) * 0.99) - 1], 1),
                len(values),
            )
            for label, values in sorted(tally.latencies.items())
        },
    }


def _table(result: dict[str, object]) -> str:
    latency = result["latency"]
    assert isinstance(latency, dict)
    rows = [f"| {label} | {n} | {p50} | {p99} |" for label, (p50, p99, n) in latency.items()]
    return "\n".join(
        [
            f"**{result['database']}**: {result['requests']} requests in "
            f"{result['seconds']} s; errors {result['errors']}; acknowledged incidents "
            f"{result['acknowledged_incidents']}, lost {result['lost']}, duplicated "
            f"{result['duplicated']}; audit chains valid {result['chains_valid']}."
            + (f" Errors by request: {result['errors_by_kind']}." if result["errors"] else ""),
            "",
            "| request | count | p50 ms | p99 ms |",
            "| --- | --- | --- | --- |",
            *rows,
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--victims", type=int, default=50)
    parser.add_argument("--advocates", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument(
        "--databases", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql"
    )
    options = parser.parse_args()
    databases = [
        name
        for name in options.databases.split(",")
        if name == "sqlite" or (name == "postgresql" and postgres_reachable())
    ]
    results = [
        asyncio.run(run(db, options.victims, options.advocates, options.seconds))
        for db in databases
    ]
    body = "\n\n".join(
        [
            "## Load",
            f"`make load`: {options.victims} victims (logging incidents, reading their timeline, "
            f"searching, uploading screenshots) and {options.advocates} advocates (caseload, case "
            f"timelines, notes) against one server process on this machine for "
            f"{options.seconds:.0f} s each, client and server sharing the two cores. "
            "Afterwards every acknowledged incident is looked up: none may be lost or duplicated.",
            *(_table(r) for r in results),
        ]
    )
    document = DOCUMENT.read_text() if DOCUMENT.exists() else ""
    DOCUMENT.write_text(
        replace_block(document, "load", body) + ("" if document.endswith("\n") else "\n")
    )
    for result in results:
        print(_table(result))
    failed = any(r["errors"] or r["lost"] or r["duplicated"] for r in results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
