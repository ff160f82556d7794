"""Serving the built PWA: the app-shell fallback, caching headers, and API 404s that stay
problem details."""

import gzip
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.api.pwa import accepted_encodings
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


# INDEX and SCRIPT as Node's zlib brotli writes them (the build's frontend/scripts/compress.mjs);
# Python's standard library has no brotli, and the browser tests check that Chromium reads them.
BROTLI = {
    "index.html": bytes.fromhex(
        "1b340030a45f78c2e080430e1cbe0385d2120a36e080b278c66178d9445f8a506be6fa3b1f"
    ),
    "assets/index-Bx3kQ9aZ.js": bytes.fromhex("8b0880636f6e736f6c652e6c6f672827617070272903"),
}


@pytest.fixture
def compressed_pwa(settings: Settings, dist: Path, make_app: AppFactory) -> TestClient:
    """The stand-in app with the .br and .gz twins the build writes."""
    for name, brotli in BROTLI.items():
        path = dist / name
        path.with_name(path.name + ".br").write_bytes(brotli)
        path.with_name(path.name + ".gz").write_bytes(gzip.compress(path.read_bytes()))
    return TestClient(make_app(settings.model_copy(update={"static_dir": dist})))


def _raw(client: TestClient, path: str, accept_encoding: str) -> tuple[int, dict[str, str], bytes]:
    """The response as sent (httpx would otherwise decode the body)."""
    with client.stream("GET", path, headers={"Accept-Encoding": accept_encoding}) as response:
        body = b"".join(response.iter_raw())
        return response.status_code, dict(response.headers), body


@pytest.mark.parametrize("path", ["/", "/assets/index-Bx3kQ9aZ.js", "/some/screen"])
def test_a_browser_that_accepts_brotli_gets_the_precompressed_file(
    compressed_pwa: TestClient, path: str
) -> None:
    status, headers, body = _raw(compressed_pwa, path, "gzip, deflate, br, zstd")
    assert status == 200
    assert headers["content-encoding"] == "br"
    assert headers["vary"] == "Accept-Encoding"
    assert int(headers["content-length"]) == len(body)
    assert body == BROTLI["assets/index-Bx3kQ9aZ.js" if path.endswith(".js") else "index.html"]
    expected_type = "javascript" if path.endswith(".js") else "text/html"
    assert expected_type in headers["content-type"]


def test_gzip_when_brotli_is_refused_and_plain_when_nothing_is_accepted(
    compressed_pwa: TestClient,
) -> None:
    status, gzipped, body = _raw(compressed_pwa, "/assets/index-Bx3kQ9aZ.js", "br;q=0, gzip")
    assert status == 200
    assert gzipped["content-encoding"] == "gzip"
    assert gzip.decompress(body).decode() == SCRIPT
    status, plain, body = _raw(compressed_pwa, "/assets/index-Bx3kQ9aZ.js", "identity")
    assert status == 200
    assert "content-encoding" not in plain
    assert plain["vary"] == "Accept-Encoding"
    assert body.decode() == SCRIPT
    # Each representation has its own validator, so a cache never mixes them up.
    assert (
        len(
            {
                gzipped["etag"],
                plain["etag"],
                _raw(compressed_pwa, "/assets/index-Bx3kQ9aZ.js", "br")[1]["etag"],
            }
        )
        == 3
    )


def test_a_precompressed_file_is_revalidated_by_its_own_etag(compressed_pwa: TestClient) -> None:
    first = compressed_pwa.get("/", headers={"Accept-Encoding": "br"})
    again = compressed_pwa.get(
        "/", headers={"Accept-Encoding": "br", "If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304


def test_files_without_twins_are_sent_as_they_are(compressed_pwa: TestClient) -> None:
    status, headers, body = _raw(compressed_pwa, "/assets/index-C4f0aB1c.css", "br, gzip")
    assert status == 200
    assert "content-encoding" not in headers
    assert body == b"body{margin:0}"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip, deflate, br", {"gzip", "deflate", "br"}),
        ("br;q=0, gzip;q=0.5", {"gzip"}),
        ("*", {"*", "br", "gzip"}),
        ("*;q=1, br;q=0", {"*", "gzip"}),
        ("", set()),
        ("gzip;q=nonsense", set()),
    ],
)
def test_accept_encoding_is_read_with_its_weights(header: str, expected: set[str]) -> None:
    assert accepted_encodings(header) == expected
