"""Small typed helpers that make accounts through the API, as a real client would."""

import itertools
from typing import Any

from fastapi.testclient import TestClient

# Passes the strength check: unrelated words, no names.
STRONG_PASSWORD = "lantern orchard velvet compass"
OTHER_STRONG_PASSWORD = "granite meadow saffron kettle"

_counter = itertools.count(1)


def new_email() -> str:
    return f"person{next(_counter)}@example.org"


def register(
    client: TestClient,
    *,
    email: str | None = None,
    password: str = STRONG_PASSWORD,
    display_name: str = "Alex",
) -> dict[str, Any]:
    """Register a victim; the client is signed in afterwards. Returns the user."""
    response = client.post(
        "/api/v1/auth/register",
        json={"email": email or new_email(), "password": password, "display_name": display_name},
    )
    assert response.status_code == 201, response.text
    user: dict[str, Any] = response.json()
    return user


def login(client: TestClient, email: str, password: str = STRONG_PASSWORD) -> dict[str, Any]:
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    user: dict[str, Any] = response.json()
    return user


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"] and body["title"] and body["detail"]
    return body
