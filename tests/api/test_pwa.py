"""Serving the built PWA: the app-shell fallback, caching headers, and API 404s that stay
problem details."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from tests.conftest import AppFactory

INDEX = "<!doctype html><title>Notes</title><div id=app></div>"
SCRIPT = "console.log('app')"


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    """A tiny stand-in for frontend/dist."""
    folder = tmp_path / "dist"
    (folder / "assets").mkdir(parents=True)
    (folder / "icons").mkdir()
    (folder / "index.html").write_text(INDEX)
    (folder / "assets" / "index-Bx3kQ9aZ.js").write_text(SCRIPT)
    (folder / "assets" / "index-C4f0aB1c.css").write_text("body{margin:0}")
    (folder / "sw.js").write_text("self.addEventListener('fetch',()=>{})")
    (folder / "manifest.webmanifest").write_text('{"name":"Notes"}')
    (folder / "icons" / "icon-192.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (tmp_path / "secret.txt").write_text("not for the web")
    return folder


@pytest.fixture
def pwa(settings: Settings, dist: Path, make_app: AppFactory) -> TestClient:
    return TestClient(make_app(settings.model_copy(update={"static_dir": dist})))


def test_the_app_is_served_at_the_root_and_revalidated(pwa: TestClient) -> None:
    response = pwa.get("/")
    assert response.status_code == 200
    assert response.text == INDEX
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    assert "default-src 'self'" in response.headers["content-security-policy"]


def test_hashed_assets_are_cached_for_a_year(pwa: TestClient) -> None:
    script = pwa.get("/assets/index-Bx3kQ9aZ.js")
    assert script.status_code == 200
    assert script.text == SCRIPT
    assert script.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "javascript" in script.headers["content-type"]
    style = pwa.get("/assets/index-C4f0aB1c.css")
    assert style.headers["cache-control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize(
    "path", ["/sw.js", "/manifest.webmanifest", "/index.html", "/icons/icon-192.png"]
)
def test_unhashed_files_are_revalidated(pwa: TestClient, path: str) -> None:
    response = pwa.get(path)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"


def test_the_manifest_has_its_own_media_type(pwa: TestClient) -> None:
    assert (
        pwa.get("/manifest.webmanifest")
        .headers["content-type"]
        .startswith("application/manifest+json")
    )


@pytest.mark.parametrize("path", ["/timeline", "/cases/4f0c6b1e/timeline", "/sign-in"])
def test_app_addresses_fall_back_to_the_app(pwa: TestClient, path: str) -> None:
    response = pwa.get(path)
    assert response.status_code == 200
    assert response.text == INDEX
    assert response.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize("path", ["/assets/index-gone1234.js", "/favicon.ico", "/assets"])
def test_missing_files_are_not_answered_with_the_app(pwa: TestClient, path: str) -> None:
    response = pwa.get(path)
    assert response.status_code == 404
    assert response.text != INDEX


@pytest.mark.parametrize("path", ["/api/v1/no-such-thing", "/api/v2/incidents", "/api", "/api/"])
def test_unknown_api_paths_stay_problem_details(pwa: TestClient, path: str) -> None:
    response = pwa.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404
    assert response.text != INDEX


def test_the_api_still_answers_beside_the_app(pwa: TestClient) -> None:
    response = pwa.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_only_reads_are_served(pwa: TestClient) -> None:
    response = pwa.post("/timeline")
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"


def test_a_repeat_visit_can_revalidate(pwa: TestClient) -> None:
    first = pwa.get("/")
    again = pwa.get("/", headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.headers["cache-control"] == "no-cache"


def test_files_outside_the_folder_are_unreachable(pwa: TestClient) -> None:
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/assets/%2e%2e/%2e%2e/secret.txt"):
        response = pwa.get(path)
        assert "not for the web" not in response.text


def test_nothing_is_served_without_a_built_app(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
