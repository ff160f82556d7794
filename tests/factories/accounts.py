"""Small typed helpers that make accounts through the API, as a real client would."""

import itertools
from typing import Any

from fastapi.testclient import TestClient

# Passes the strength check: unrelated words, no names.
STRONG_PASSWORD = "lantern orchard velvet compass"
OTHER_STRONG_PASSWORD = "granite meadow saffron kettle"

# Development cookie names (production prefixes them with __Host-).
SESSION_COOKIE = "waymark_session"
DEVICE_COOKIE = "waymark_device"

# Real browsers' User-Agent strings, to see the coarse device names sessions record.
ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36"
)
WINDOWS_FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"

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


def attempt_login(client: TestClient, email: str, password: str) -> Any:
    """A sign-in whose outcome the test inspects (success or not)."""
    return client.post("/api/v1/auth/login", json={"email": email, "password": password})


def me(client: TestClient) -> dict[str, Any]:
    response = client.get("/api/v1/auth/me")
    assert response.status_code == 200, response.text
    user: dict[str, Any] = response.json()
    return user


def list_sessions(client: TestClient) -> list[dict[str, Any]]:
    response = client.get("/api/v1/auth/sessions")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def current_session_id(client: TestClient) -> str:
    (current,) = [s for s in list_sessions(client) if s["current"]]
    session_id: str = current["id"]
    return session_id


def session_token(client: TestClient, cookie: str = SESSION_COOKIE) -> str:
    token = client.cookies.get(cookie)
    assert token, f"no {cookie} cookie"
    return token


def replace_cookie(client: TestClient, name: str, value: str) -> None:
    """Make the browser send `value` as the cookie `name` from now on (and nothing else)."""
    client.cookies.delete(name)
    client.cookies.set(name, value)


def set_cookie_headers(response: Any, name: str) -> list[str]:
    """The Set-Cookie headers of a response that set or clear the cookie `name`."""
    headers: list[str] = response.headers.get_list("set-cookie")
    return [h for h in headers if h.startswith(f"{name}=")]


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"] and body["title"] and body["detail"]
    return body
