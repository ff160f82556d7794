"""Two requests that change one record at the same moment never end in a 500.

Each test makes the two requests really overlap, without timing: something the test holds
(a row lock on PostgreSQL, SQLite's write lock) stops both in the middle of their work, the
test waits until the database (or the write queue) shows both waiting, and then lets go.

- PostgreSQL: both have read the record at the same revision; one writes the next revision
  first, and the other is refused with 409 (concurrent-write) and saves nothing at all.
- SQLite: writers take the write lock before they read (app/db.py), so the second reads what
  the first saved and both apply, one after the other, each as its own revision.
- The same create sent twice at once (one client id) makes one record on both, and both
  requests answer with it, as a retried create does.
"""

import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, Table, select, text
from sqlalchemy.engine import make_url

from app import db as app_db
from app.api.faults import known_failure, write_conflict
from app.errors import ConcurrentWrite
from app.models import ALL_TABLES
from tests.factories.accounts import assert_problem, register
from tests.factories.records import (
    AUDIT,
    INCIDENTS,
    incident_body,
    log_incident,
    read,
    revisions,
    stored_counts,
)

WAIT_FOR_BOTH_S = 20.0  # a bound on waiting for two requests to arrive, not a measurement

LOCATION_CHANGE = {"location": "At the bus stop on Hills Road"}
DESCRIPTION_CHANGE = {"description": "He followed me from the bus stop to the front door."}


def _joined(threads: list[threading.Thread], answers: list[Any]) -> list[httpx.Response]:
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a request never finished"
    assert all(answer is not None for answer in answers), "a request raised instead of answering"
    return answers


def _wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_FOR_BOTH_S
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


@contextmanager
def _both_held(engine: Engine, app: FastAPI, hold: Table, key: uuid.UUID) -> Iterator[None]:
    """Hold what the two requests will need, until both are seen waiting for it.

    PostgreSQL: `hold` is a row (the record, or its owner) locked FOR UPDATE; both requests
    read freely and then wait for the lock, as seen in pg_stat_activity. SQLite: the database's
    write lock; the first request waits for it, the second in the app's write queue behind it.
    """
    if engine.dialect.name == "postgresql":
        with engine.connect() as holder, engine.connect() as watcher:
            holder.execute(select(hold.c.id).where(hold.c.id == key).with_for_update())

            def both_waiting() -> bool:
                waiting = watcher.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                        " AND wait_event_type = 'Lock'"
                    )
                ).scalar_one()
                watcher.commit()  # a new snapshot of the activity view each time
                return bool(waiting >= 2)

            yield
            _wait_until(both_waiting, "both requests to wait for the row lock")
            holder.rollback()
        return
    path = make_url(str(engine.url)).database
    assert path
    write_holder = sqlite3.connect(path, isolation_level=None)
    try:
        write_holder.execute("BEGIN IMMEDIATE")
        gate = app_db._write_gates[app.state.runtime.engine]
        yield
        _wait_until(lambda: gate.waiting == 1, "the second request to queue behind the first")
        write_holder.execute("ROLLBACK")
    finally:
        write_holder.close()


def _race(
    engine: Engine, app: FastAPI, hold: Table, key: uuid.UUID, requests: list[Callable[[], Any]]
) -> list[httpx.Response]:
    answers: list[Any] = [None] * len(requests)

    def send(index: int) -> None:
        answers[index] = requests[index]()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(requests))]
    with _both_held(engine, app, hold, key):
        for thread in threads:
            thread.start()
    return _joined(threads, answers)


def _actions(client: TestClient) -> list[str]:
    return [event["action"] for event in read(client, AUDIT, order="asc")["items"]]


def _search(client: TestClient, words: str) -> list[str]:
    items = read(client, "/api/v1/timeline", q=words)["items"]
    return [item["id"] for item in items]


def test_two_amendments_at_one_revision_never_500(
    app: FastAPI, client: TestClient, db_engine: Engine
) -> None:
    victim = register(client)
    incident = log_incident(client)
    url = f"{INCIDENTS}/{incident['id']}"
    before = stored_counts(db_engine, victim["id"])

    first, second = _race(
        db_engine,
        app,
        ALL_TABLES.tables["incidents"],
        uuid.UUID(incident["id"]),
        [
            lambda: client.patch(url, json=LOCATION_CHANGE),
            lambda: client.patch(url, json=DESCRIPTION_CHANGE),
        ],
    )

    kept = revisions(client, url)
    now = read(client, url)
    if db_engine.dialect.name == "sqlite":
        # One after the other: each is a revision of its own, the second on top of the first.
        assert (first.status_code, second.status_code) == (200, 200), (first.text, second.text)
        assert [r["revision"] for r in kept] == [1, 2, 3]
        assert now["revision"] == 3
        assert now["location"] == LOCATION_CHANGE["location"]
        assert now["description"] == DESCRIPTION_CHANGE["description"]
        assert _actions(client).count("incident.amended") == 2
        return

    statuses = sorted((first.status_code, second.status_code))
    assert statuses == [200, 409], (first.text, second.text)
    winner, loser = (first, second) if first.status_code == 200 else (second, first)
    problem = assert_problem(loser, 409)
    assert problem["type"].endswith("concurrent-write")
    won = LOCATION_CHANGE if winner is first else DESCRIPTION_CHANGE
    lost = DESCRIPTION_CHANGE if winner is first else LOCATION_CHANGE
    # Exactly the winner's revision: the loser's change is nowhere, not even half of it.
    assert [r["revision"] for r in kept] == [1, 2]
    assert now["revision"] == 2 == winner.json()["revision"]
    (field,) = won
    (lost_field,) = lost
    assert now[field] == kept[1][field] == won[field]
    assert now[lost_field] == kept[1][lost_field] == incident[lost_field]
    assert _actions(client).count("incident.amended") == 1
    after = stored_counts(db_engine, victim["id"])
    assert after == {
        **before,
        "record_revisions": before["record_revisions"] + 1,
        "audit_events": before["audit_events"] + 1,
    }
    # The search index holds the winner's words, not the loser's.
    if field == "description":
        assert _search(client, "front door") == [incident["id"]]
    else:
        assert _search(client, "front door") == []


def test_one_client_id_created_twice_at_once_saves_one_record(
    app: FastAPI, client: TestClient, db_engine: Engine
) -> None:
    victim = register(client)
    record_id = str(uuid.uuid4())
    body = incident_body(id=record_id)

    first, second = _race(
        db_engine,
        app,
        ALL_TABLES.tables["users"],  # PostgreSQL: both inserts wait to check the record's owner
        uuid.UUID(victim["id"]),
        [lambda: client.post(INCIDENTS, json=body), lambda: client.post(INCIDENTS, json=body)],
    )

    statuses = sorted((first.status_code, second.status_code))
    # On both databases the second answers with the first's record, as for a retried create
    # (SQLite's second request waits and then sees it; PostgreSQL's loses the insert and then
    # finds it), so an outbox never marks as failed a record that was saved.
    assert statuses == [200, 201], (first.text, second.text)
    assert first.json()["id"] == second.json()["id"] == record_id
    kept = revisions(client, f"{INCIDENTS}/{record_id}")
    assert [r["revision"] for r in kept] == [1]
    assert [i["id"] for i in read(client, INCIDENTS)["items"]] == [record_id]
    assert _actions(client).count("incident.created") == 1
    counts = stored_counts(db_engine, victim["id"])
    assert counts["incidents"] == counts["search_documents"] == 1


def test_only_a_key_already_taken_is_a_concurrent_write(db_engine: Engine) -> None:
    """A unique violation is a lost race; another broken constraint is a bug, and stays a 500."""
    with db_engine.connect() as connection:
        connection.execute(
            text("CREATE TEMPORARY TABLE race_probe (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        )
        connection.execute(text("INSERT INTO race_probe VALUES (1, 'first')"))
        taken = _raised(lambda: connection.execute(text("INSERT INTO race_probe VALUES (1, 'x')")))
        connection.rollback()
        missing = _raised(
            lambda: connection.execute(text("INSERT INTO race_probe VALUES (2, NULL)"))
        )
        connection.rollback()
    assert isinstance(known_failure(taken), ConcurrentWrite)
    assert write_conflict(missing) is None and known_failure(missing) is None
    assert known_failure(ValueError("a bug")) is None


def _raised(action: Callable[[], object]) -> BaseException:
    try:
        action()
    except Exception as error:
        return error
    raise AssertionError("expected the write to be refused")
