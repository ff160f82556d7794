"""Request bodies capped before they are parsed (docs/limits.md), and byte ranges that cannot
be served answered 416 rather than 500."""

import asyncio
import json
from collections.abc import MutableMapping
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.api.middleware import BODY_LIMIT_BYTES
from app.api.streaming import MAX_FIELD_BYTES
from tests.factories.accounts import assert_problem, register
from tests.factories.evidence import EVIDENCE, download, multipart_body, upload_evidence

CHUNK = 64 * 1024


def _huge_json(size: int) -> bytes:
    return json.dumps({"email": "a@example.org", "password": "x" * size}).encode()


def test_a_json_body_over_the_cap_is_refused_with_413(client: TestClient) -> None:
    body = _huge_json(10 * 1024 * 1024)
    refused = client.post(
        "/api/v1/auth/login", content=body, headers={"Content-Type": "application/json"}
    )
    assert_problem(refused, 413)
    register(client)
    refused = client.post(
        "/api/v1/incidents", content=body, headers={"Content-Type": "application/json"}
    )
    assert_problem(refused, 413)
    # Whatever the body says it is: the cap is on bytes, not on JSON.
    refused = client.post("/api/v1/incidents", content=body, headers={"Content-Type": "text/plain"})
    assert_problem(refused, 413)


def test_a_body_under_the_cap_reaches_validation(client: TestClient) -> None:
    register(client)
    response = client.post(
        "/api/v1/incidents",
        json={
            "occurred_at": "2026-11-20T21:30:00+00:00",
            "behaviours": ["watching"],
            "description": "x" * (BODY_LIMIT_BYTES - 1000),
        },
    )
    assert_problem(response, 422)  # too long a description, said as such: not a 413


def _call(app: FastAPI, path: str, headers: list[tuple[bytes, bytes]]) -> tuple[int, int]:
    """Send an endless body to the app through ASGI, chunk by chunk; return the status and how
    many bytes the app pulled before it answered."""
    pulled = 0
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        pulled += CHUNK
        return {"type": "http.request", "body": b"x" * CHUNK, "more_body": True}

    async def send(message: MutableMapping[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
        "state": {},
    }
    asyncio.run(app(scope, receive, send))
    return status, pulled


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param([(b"content-type", b"application/json")], id="chunked"),
        pytest.param(
            [(b"content-type", b"application/json"), (b"content-length", b"1000")],
            id="content-length-that-lies",
        ),
    ],
)
def test_an_endless_body_is_read_no_further_than_the_cap(
    client: TestClient, app: FastAPI, headers: list[tuple[bytes, bytes]]
) -> None:
    status, pulled = _call(app, "/api/v1/auth/login", headers)
    assert status == 413
    assert pulled <= BODY_LIMIT_BYTES + CHUNK


def test_a_declared_length_over_the_cap_is_refused_before_a_byte_is_read(
    client: TestClient, app: FastAPI
) -> None:
    declared = str(10 * 1024 * 1024).encode()
    status, pulled = _call(
        app,
        "/api/v1/auth/login",
        [(b"content-type", b"application/json"), (b"content-length", declared)],
    )
    assert (status, pulled) == (413, 0)


def test_a_form_field_over_its_limit_is_refused_with_413(client: TestClient) -> None:
    register(client)
    body, content_type = multipart_body(
        [("description", "x" * (MAX_FIELD_BYTES + 1))], b"He called fourteen times.\n"
    )
    assert_problem(client.post(EVIDENCE, content=body, headers={"Content-Type": content_type}), 413)


def test_evidence_keeps_its_own_larger_limit(client: TestClient) -> None:
    register(client)
    content = b"He called again.\n" * (BODY_LIMIT_BYTES // 8)  # twice the JSON cap
    record = upload_evidence(client, content, filename="calls.txt", content_type="text/plain")
    assert record["size"] == len(content)


@pytest.mark.parametrize(
    "header",
    [
        "bytes=abc",
        "bytes=5-2",
        "bytes=99999999999999999999-",
        "bytes=0-1,4-5",
        "bytes=-0",
        "bytes=" + "9" * 5000 + "-",
        "bytes=--1",
        "bytes=1-2-3",
    ],
)
def test_a_range_that_cannot_be_served_answers_416(client: TestClient, header: str) -> None:
    register(client)
    content = b"He was at the bus stop again.\n" * 10
    record = upload_evidence(client, content, filename="note.txt", content_type="text/plain")
    response = download(client, record["id"], Range=header)
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(content)}"


def test_a_range_in_another_unit_is_ignored(client: TestClient) -> None:
    register(client)
    content = b"He was at the bus stop again.\n" * 10
    record = upload_evidence(client, content, filename="note.txt", content_type="text/plain")
    response = download(client, record["id"], Range="items=0-1")
    assert response.status_code == 200 and response.content == content
