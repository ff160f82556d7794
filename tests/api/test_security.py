"""Headers every response carries, problem+json for every error, the same-origin check on
unsafe methods, and what production adds (HSTS, Secure __Host- cookies)."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.api.deps import SessionDep
from tests.conftest import AppFactory
from tests.factories.accounts import (
    STRONG_PASSWORD,
    assert_problem,
    login,
    me,
    new_email,
    register,
    set_cookie_headers,
)
from tests.factories.database import count_users
from tests.factories.settings import production_settings

API = "/api/v1"


def _csp_directives(response: Any) -> dict[str, str]:
    policy: str = response.headers["content-security-policy"]
    directives = (d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    return {d[0]: d[1] if len(d) > 1 else "" for d in directives}


def _assert_security_headers(response: Any) -> None:
    csp = _csp_directives(response)
    assert csp["frame-ancestors"] == "'none'"
    assert csp["default-src"] == "'self'"
    assert csp["object-src"] == "'none'"
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    assert "unsafe-eval" not in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"
    permissions = response.headers["permissions-policy"]
    for feature in ("geolocation=()", "payment=()", "usb=()", "display-capture=()"):
        assert feature in permissions
    assert response.headers["x-request-id"]


def _some_responses(client: TestClient) -> Iterator[Any]:
    """One of each kind: success, not found, wrong method, bad input, refused, cross-site."""
    yield client.get(f"{API}/health")
    yield client.get(f"{API}/no-such-thing")
    yield client.get("/no-such-page")
    yield client.put(f"{API}/auth/me")
    yield client.post(f"{API}/auth/login", json={})
    yield client.get(f"{API}/auth/me")
    yield client.post(f"{API}/auth/logout", headers={"sec-fetch-site": "cross-site"})


# --- headers ----------------------------------------------------------------------------------


def test_every_response_carries_the_security_headers(client: TestClient) -> None:
    for response in _some_responses(client):
        _assert_security_headers(response)
        assert "strict-transport-security" not in response.headers


def test_api_responses_are_never_cached(client: TestClient) -> None:
    register(client)
    for response in [*_some_responses(client), client.get(f"{API}/auth/me")]:
        if response.url.path.startswith("/api/"):
            assert response.headers["cache-control"] == "no-store", response.url


def test_every_request_gets_its_own_request_id(client: TestClient) -> None:
    ids = {client.get(f"{API}/health").headers["x-request-id"] for _ in range(3)}

    assert len(ids) == 3


# --- problem+json for every error -------------------------------------------------------------


def test_an_unknown_api_route_is_a_problem(client: TestClient) -> None:
    problem = assert_problem(client.get(f"{API}/no-such-thing"), 404)

    assert problem["title"] == "Not Found"


def test_an_unknown_page_is_a_problem_when_no_app_is_built(client: TestClient) -> None:
    assert_problem(client.get("/no-such-page"), 404)


def test_a_wrong_method_is_a_problem_that_says_what_is_allowed(client: TestClient) -> None:
    response = client.put(f"{API}/auth/me")

    assert_problem(response, 405)
    assert response.headers["allow"] == "GET"


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"email": "a@example.org", "password": ', "application/json"),
        (b"\xff\xfe not even text", "application/json"),
        (b"[1, 2", "application/json"),
        (b"email=a@example.org&password=x", "application/x-www-form-urlencoded"),
    ],
    ids=["truncated", "not-utf8", "unclosed-list", "form"],
)
def test_malformed_bodies_are_problems(
    client: TestClient, db_engine: Engine, content: bytes, content_type: str
) -> None:
    response = client.post(
        f"{API}/auth/register", content=content, headers={"content-type": content_type}
    )

    problem = assert_problem(response, 422)
    assert problem["errors"]
    for error in problem["errors"]:
        assert set(error) == {"loc", "msg", "type"}
    assert count_users(db_engine) == 0


def test_an_unexpected_error_is_a_500_problem_that_reveals_nothing(app: FastAPI) -> None:
    def explode(db: SessionDep) -> None:
        raise RuntimeError("robin@example.org wrote something private")

    app.add_api_route(f"{API}/test-only/explode", explode, methods=["POST"])
    with TestClient(app) as client:
        response = client.post(f"{API}/test-only/explode")

    problem = assert_problem(response, 500)
    assert "robin" not in response.text
    assert "private" not in problem["detail"]
    _assert_security_headers(response)
    assert response.headers["cache-control"] == "no-store"


# --- the same-origin check --------------------------------------------------------------------


CROSS_SITE_HEADERS = [
    pytest.param({"sec-fetch-site": "cross-site"}, id="sec-fetch-site-cross-site"),
    pytest.param({"sec-fetch-site": "same-site"}, id="sec-fetch-site-same-site"),
    pytest.param(
        {"sec-fetch-site": "cross-site", "origin": "http://testserver"},
        id="sec-fetch-site-wins-over-origin",
    ),
    pytest.param({"origin": "https://evil.example"}, id="foreign-origin"),
    pytest.param({"origin": "null"}, id="opaque-origin"),
    pytest.param({"origin": "http://testserver.evil.example"}, id="lookalike-origin"),
    pytest.param({"origin": "https://testserver"}, id="other-scheme"),
    pytest.param({"origin": "http://testserver:8443"}, id="other-port"),
]


@pytest.mark.parametrize("headers", CROSS_SITE_HEADERS)
def test_a_cross_site_registration_is_refused_and_creates_nothing(
    client: TestClient, db_engine: Engine, headers: dict[str, str]
) -> None:
    response = client.post(
        f"{API}/auth/register",
        json={"email": new_email(), "password": STRONG_PASSWORD, "display_name": "Alex"},
        headers=headers,
    )

    assert_problem(response, 403)
    assert not response.headers.get_list("set-cookie")
    assert count_users(db_engine) == 0


@pytest.mark.parametrize("headers", CROSS_SITE_HEADERS)
def test_a_cross_site_request_cannot_use_the_victims_session(
    client: TestClient, headers: dict[str, str]
) -> None:
    email = new_email()
    register(client, email=email)

    # A forged form on another site, riding on the victim's cookie.
    assert_problem(client.post(f"{API}/auth/sessions/revoke-others", headers=headers), 403)
    assert_problem(client.post(f"{API}/auth/logout", headers=headers), 403)
    assert_problem(
        client.request(
            "DELETE", f"{API}/account", json={"password": STRONG_PASSWORD}, headers=headers
        ),
        403,
    )

    assert me(client)["email"] == email


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-browser-headers"),
        pytest.param({"sec-fetch-site": "same-origin"}, id="same-origin"),
        pytest.param({"sec-fetch-site": "none"}, id="typed-by-the-user"),
        pytest.param({"origin": "http://testserver"}, id="own-origin"),
        pytest.param({"origin": "http://testserver/"}, id="own-origin-trailing-slash"),
        pytest.param({"sec-fetch-site": "same-origin", "origin": "http://testserver"}, id="both"),
    ],
)
def test_same_origin_and_header_less_clients_pass(
    client: TestClient, headers: dict[str, str]
) -> None:
    email = new_email()
    response = client.post(
        f"{API}/auth/register",
        json={"email": email, "password": STRONG_PASSWORD, "display_name": "Alex"},
        headers=headers,
    )

    assert response.status_code == 201, response.text
    assert client.post(f"{API}/auth/logout", headers=headers).status_code == 204


def test_safe_methods_from_another_site_are_not_refused(client: TestClient) -> None:
    response = client.get(f"{API}/health", headers={"sec-fetch-site": "cross-site"})

    assert response.status_code == 200


# --- production -------------------------------------------------------------------------------


@pytest.fixture
def production_app(tmp_path: Path, database_url: str, make_app: AppFactory) -> FastAPI:
    return make_app(production_settings(tmp_path / "data", database_url))


@pytest.fixture
def https_client(production_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(production_app, base_url="https://testserver") as client:
        yield client


def test_production_adds_hsts(https_client: TestClient) -> None:
    for response in _some_responses(https_client):
        _assert_security_headers(response)
        hsts = response.headers["strict-transport-security"]
        assert "max-age=" in hsts
        assert int(hsts.split("max-age=")[1].split(";")[0]) >= 365 * 24 * 60 * 60


def test_production_cookies_are_secure_and_host_prefixed(https_client: TestClient) -> None:
    email = new_email()
    response = https_client.post(
        f"{API}/auth/register",
        json={"email": email, "password": STRONG_PASSWORD, "display_name": "Alex"},
    )

    assert response.status_code == 201, response.text
    for name in ("__Host-waymark_session", "__Host-waymark_device"):
        (header,) = set_cookie_headers(response, name)
        attributes = {p.strip().split("=")[0].lower() for p in header.split(";")[1:]}
        assert {"secure", "httponly", "path", "samesite"} <= attributes
        assert "samesite=strict" in header.lower()
        assert "path=/" in header.lower()
        assert "domain" not in attributes
    assert not set_cookie_headers(response, "waymark_session")
    assert me(https_client)["email"] == email

    logout = https_client.post(f"{API}/auth/logout")
    assert logout.status_code == 204
    (cleared,) = set_cookie_headers(logout, "__Host-waymark_session")
    assert "secure" in cleared.lower()


def test_production_accepts_its_public_origin_and_refuses_plain_http(
    https_client: TestClient,
) -> None:
    email = new_email()
    register(https_client, email=email)
    login(https_client, email)

    assert_problem(
        https_client.post(f"{API}/auth/logout", headers={"origin": "http://testserver"}), 403
    )
    own_origin = https_client.post(f"{API}/auth/logout", headers={"origin": "https://testserver"})
    assert own_origin.status_code == 204


def test_production_behind_a_proxy_trusts_the_public_url_as_origin(
    tmp_path: Path, database_url: str, make_app: AppFactory
) -> None:
    settings = production_settings(
        tmp_path / "data", database_url, public_url="https://waymark.example/"
    )
    app = make_app(settings)
    with TestClient(app, base_url="https://internal-host:8443") as client:
        response = client.post(
            f"{API}/auth/register",
            json={"email": new_email(), "password": STRONG_PASSWORD, "display_name": "Alex"},
            headers={"origin": "https://waymark.example"},
        )
        assert response.status_code == 201, response.text
        assert_problem(
            client.post(f"{API}/auth/logout", headers={"origin": "https://evil.example"}), 403
        )
