"""The logs: one structured line per request, and nothing a stalker could use if they read them
(no emails, passwords, tokens, names, raw paths with ids)."""

import json
import logging
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.api.deps import SessionDep
from app.models.user import Role, User
from tests.factories.accounts import (
    DEVICE_COOKIE,
    OTHER_STRONG_PASSWORD,
    SESSION_COOKIE,
    STRONG_PASSWORD,
    attempt_login,
    current_session_id,
)

EMAIL = "robin.hartley@example.org"
DISPLAY_NAME = "Robin Quillfeather"
WRONG_PASSWORD = "wrong horse battery staple"
# The test client's own logger records the URLs it fetches; that is not the server's log.
CLIENT_LOGGERS = ("httpx", "httpx2", "httpcore")


def _server_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Everything the server logged, as written, tracebacks included."""
    lines = []
    for record in caplog.records:
        if record.name.split(".")[0] in CLIENT_LOGGERS:
            continue
        lines.append(record.getMessage())
        if record.exc_text:
            lines.append(record.exc_text)
    return lines


def _request_events(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    events = []
    for line in _server_lines(caplog):
        event = json.loads(line)
        if event.get("event") == "request":
            events.append(event)
    return events


def test_a_full_session_logs_no_secrets(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    secrets: list[str] = []

    responses = [
        client.post(
            "/api/v1/auth/register",
            json={"email": EMAIL, "password": STRONG_PASSWORD, "display_name": DISPLAY_NAME},
        )
    ]
    secrets += [client.cookies[SESSION_COOKIE], client.cookies[DEVICE_COOKIE]]
    responses.append(client.post("/api/v1/auth/logout"))
    responses.append(attempt_login(client, EMAIL, WRONG_PASSWORD))
    responses.append(attempt_login(client, "nobody.known@example.org", WRONG_PASSWORD))
    responses.append(attempt_login(client, EMAIL, STRONG_PASSWORD))
    secrets += [client.cookies[SESSION_COOKIE], client.cookies[DEVICE_COOKIE]]
    responses.append(client.get("/api/v1/auth/me"))
    responses.append(client.get("/api/v1/auth/sessions"))
    session_id = current_session_id(client)
    responses.append(
        client.post(
            "/api/v1/auth/password",
            json={"current_password": WRONG_PASSWORD, "new_password": OTHER_STRONG_PASSWORD},
        )
    )
    responses.append(client.post("/api/v1/auth/logout"))

    assert [r.status_code for r in responses] == [201, 204, 401, 401, 200, 200, 200, 403, 204]
    log = "\n".join(_server_lines(caplog))
    assert log
    for secret in [
        EMAIL,
        "robin",
        "hartley",
        "nobody.known",
        "example.org",
        STRONG_PASSWORD,
        WRONG_PASSWORD,
        OTHER_STRONG_PASSWORD,
        DISPLAY_NAME,
        "Quillfeather",
        session_id,
        *secrets,
    ]:
        assert secret not in log, f"{secret!r} reached the logs"


def test_each_request_logs_one_line_with_its_route_template(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    client.post(
        "/api/v1/auth/register",
        json={"email": EMAIL, "password": STRONG_PASSWORD, "display_name": DISPLAY_NAME},
    )
    session_id = current_session_id(client)
    caplog.clear()

    responses = [
        client.get("/api/v1/auth/me"),
        client.delete(f"/api/v1/auth/sessions/{session_id}"),
        client.get(f"/api/v1/no-such-thing/{EMAIL}"),
        client.get("/api/v1/health?q=a+private+search"),
    ]

    events = _request_events(caplog)
    assert len(events) == len(responses)
    for event, response in zip(events, responses, strict=True):
        assert set(event) >= {"method", "route", "status", "duration_ms", "request_id"}
        assert event["status"] == response.status_code
        assert event["request_id"] == response.headers["x-request-id"]
        assert event["method"] == response.request.method
        assert isinstance(event["duration_ms"], int | float)
        assert event["duration_ms"] >= 0
    assert [e["route"] for e in events] == [
        "/api/v1/auth/me",
        "/api/v1/auth/sessions/{session_id}",
        "<api-unmatched>",
        "/api/v1/health",
    ]
    log = "\n".join(_server_lines(caplog))
    assert session_id not in log
    assert "private search" not in log and "private+search" not in log
    assert EMAIL not in log


def test_a_request_refused_before_routing_is_still_logged(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)

    response = client.post("/api/v1/auth/logout", headers={"origin": "https://evil.example"})

    (event,) = _request_events(caplog)
    assert event["status"] == response.status_code == 403
    assert event["route"] == "<api-unmatched>"
    assert "evil" not in json.dumps(event)


def test_an_unexpected_error_logs_its_type_but_not_its_message(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    """Exception messages carry values: a database's "Key (email)=(…) already exists", say."""

    def explode(db: SessionDep) -> None:
        raise ValueError(f"Key (email)=({EMAIL}) already exists; name {DISPLAY_NAME}")

    app.add_api_route("/api/v1/test-only/explode", explode, methods=["POST"])
    caplog.set_level(logging.INFO)
    with TestClient(app) as client:
        response = client.post("/api/v1/test-only/explode")

    assert response.status_code == 500
    log = "\n".join(_server_lines(caplog))
    assert "ValueError" in log
    assert EMAIL not in log
    assert DISPLAY_NAME not in log
    (event,) = _request_events(caplog)
    assert event["status"] == 500
    assert event["route"] == "/api/v1/test-only/explode"


def test_a_database_error_does_not_carry_values_into_the_logs(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    """PostgreSQL explains a NOT NULL violation with the failing row itself ("Failing row
    contains (…)"); it must stay out. (A unique violation is a 409 now, app/api/faults.py; a
    row that breaks the schema is a bug, and a 500.)"""

    def insert_twice(db: SessionDep) -> None:
        db.add(
            User(
                email=EMAIL,
                display_name=DISPLAY_NAME,
                password_hash=None,  # type: ignore[arg-type]
                role=Role.victim,
            )
        )
        db.flush()

    app.add_api_route("/api/v1/test-only/insert-twice", insert_twice, methods=["POST"])
    caplog.set_level(logging.INFO)
    with TestClient(app) as client:
        response = client.post("/api/v1/test-only/insert-twice")

    assert response.status_code == 500
    log = "\n".join(_server_lines(caplog))
    assert "IntegrityError" in log
    assert EMAIL not in log
    assert DISPLAY_NAME not in log
