"""The S3 store (SeaweedFS, a server of the test's own) stopped under a running server.

- Stopped in the middle of a download of an evidence file, and of an evidence pack: the
  response had started (200, its Content-Length sent), so it can only be cut short; the client
  sees an error (the connection closes before Content-Length bytes), never a shorter body
  that looks complete.
- While it is down: a download, a pack and an upload answer 503 problem+json before any body
  byte, and /health says storage error.
- Started again: the server needs no restart; the download and the pack are whole.
"""

import hashlib
import random
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import pytest

from tests.factories.evidence import iso_media, iso_media_of_size, multipart_body
from tests.seaweed import new_seaweed, storage_url
from tests.system.servers import own_database, running_server

pytestmark = pytest.mark.slow

CREDENTIALS = {"email": "store@example.org", "password": "lantern orchard velvet compass"}
TUS = {"Tus-Resumable": "1.0.0"}
MiB = 1024 * 1024
# Far more than every buffer between the store and the client holds (socket buffers are a few
# MiB each), so most of the file is still in the store when it stops.
EVIDENCE_BYTES = 40 * MiB
PIECE = 8 * MiB
RECOVERY_S = 90.0  # a bound on waiting for the store to serve again, not a measurement


def _upload(client: httpx.Client, content: bytes) -> str:
    """Send `content` by tus; the evidence's URL."""
    created = client.post("/api/v1/uploads", headers={**TUS, "Upload-Length": str(len(content))})
    assert created.status_code == 201, created.text
    url = created.headers["Location"]
    offset = 0
    while True:
        answer = client.patch(
            url,
            content=content[offset : offset + PIECE],
            headers={
                **TUS,
                "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream",
            },
        )
        assert answer.status_code == 204, answer.text
        offset = int(answer.headers["Upload-Offset"])
        if "Location" in answer.headers:
            return str(answer.headers["Location"])


class _Started:
    """A download whose headers and first bytes have arrived, the rest not yet read."""

    def __init__(self, client: httpx.Client, url: str) -> None:
        self._context: AbstractContextManager[httpx.Response] = client.stream("GET", url)
        self.response = self._context.__enter__()
        assert self.response.status_code == 200, self.response.read()
        self.length = int(self.response.headers["Content-Length"])
        self._chunks: Iterator[bytes] = self.response.iter_raw()
        self.received = len(next(self._chunks))

    def rest(self) -> BaseException | None:
        """Read to the end; the error that stopped it, or None if it all arrived."""
        try:
            for chunk in self._chunks:
                self.received += len(chunk)
        except httpx.TransportError as error:
            return error
        finally:
            self._context.__exit__(None, None, None)
        return None


def _problem(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == status


def _serves(client: httpx.Client, url: str) -> bool:
    with client.stream("GET", url) as response:
        return response.status_code == 200  # the body is left unread


def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + RECOVERY_S
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.5)


def test_a_stopped_store_cuts_downloads_visibly_refuses_with_503_and_recovers(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    content = iso_media(random.Random(4).randbytes(EVIDENCE_BYTES - 32))
    store = new_seaweed(tmp_path / "seaweedfs")
    (tmp_path / "seaweedfs").mkdir()
    store.start()
    try:
        with own_database(request, tmp_path / "data") as env:
            env = {**env, "WAYMARK_STORAGE_URL": storage_url(store.endpoint)}
            with (
                running_server(env, tmp_path / "server.log") as (base, _),
                httpx.Client(base_url=base, timeout=120) as client,
            ):
                registered = client.post(
                    "/api/v1/auth/register", json={**CREDENTIALS, "display_name": "Sol"}
                )
                assert registered.status_code == 201, registered.text
                evidence = _upload(client, content)
                download = f"{evidence}/content"
                pack = "/api/v1/exports/pack"

                # Two downloads under way when the store stops.
                file_download = _Started(client, download)
                pack_download = _Started(client, pack)
                store.stop()
                for started in (file_download, pack_download):
                    error = started.rest()
                    assert error is not None, "a cut download ended as if it were whole"
                    assert isinstance(error, httpx.RemoteProtocolError | httpx.ReadError)
                    assert started.received < started.length

                # While it is down, each answers 503 before any body byte (each waits out the
                # store client's retries, so they are asked at once).
                tus_create = {**TUS, "Upload-Length": "5000"}
                small = iso_media_of_size(5000)
                form, form_type = multipart_body(
                    [], small, filename="clip.mp4", content_type="video/mp4"
                )
                with ThreadPoolExecutor(5) as pool:
                    answers = list(
                        pool.map(
                            lambda send: send(),
                            [
                                lambda: client.get(download),
                                lambda: client.get(pack),
                                lambda: client.post("/api/v1/uploads", headers=tus_create),
                                lambda: client.post(
                                    "/api/v1/evidence",
                                    content=form,
                                    headers={"Content-Type": form_type},
                                ),
                                lambda: client.get("/api/v1/health"),
                            ],
                        )
                    )
                *refused, health = answers
                for answer in refused:
                    _problem(answer, 503)
                    assert answer.headers["Retry-After"].isdigit()
                    assert answer.json()["detail"].startswith("The file store")
                assert health.status_code == 503 and health.json()["storage"] == "error"

                store.start()
                _until(
                    lambda: client.get("/api/v1/health").json()["storage"] == "ok",
                    "the store to answer again",
                )
                _until(lambda: _serves(client, download), "a download to work")
                whole = client.get(download)
                assert whole.status_code == 200
                assert hashlib.sha256(whole.content).digest() == hashlib.sha256(content).digest()
                again = client.get(pack)
                assert again.status_code == 200
                assert len(again.content) == int(again.headers["Content-Length"])
    finally:
        store.stop()
