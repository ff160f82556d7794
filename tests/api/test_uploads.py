"""/api/v1/uploads: resumable uploads (tus 1.0: core, creation, termination, expiration,
checksum), on the local store and on a real S3 server (SeaweedFS). Every test runs on both."""

import errno
import hashlib
import re
import uuid
from collections.abc import Callable, MutableMapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, func, select, update
from typer.testing import CliRunner

from app.cli import main
from app.models.evidence import Evidence
from app.models.upload import Upload
from app.services import evidence as evidence_service
from app.services import orphans, uploads
from app.storage import write_blob
from app.storage.crypto import SEGMENT_SIZE
from app.storage.staging import staging_for
from tests.conftest import AppFactory, ClientFactory
from tests.factories.accounts import assert_problem, register
from tests.factories.advocates import sign_in_advocate
from tests.factories.evidence import (
    EVIDENCE,
    OFFSET_STREAM,
    TUS,
    UPLOADS,
    MiB,
    call_log_csv,
    download,
    evidence_settings,
    iso_media_of_size,
    linux_executable,
    new_id,
    send_evidence,
    sha256_of,
    staged_data,
    start_upload,
    stored_objects,
    text_note,
    tus_checksum,
    tus_create,
    tus_patch,
    tus_send,
    upload_by_tus,
    upload_offset,
    windows_executable,
)
from tests.factories.records import INCIDENTS, log_incident, read

BuildApp = Callable[..., FastAPI]
UPLOAD_URL = re.compile(r"^/api/v1/uploads/([0-9a-f-]{36})$")


@pytest.fixture(params=["local", "s3"])
def storage_url(request: pytest.FixtureRequest) -> str | None:
    """None keeps blobs in the data folder; otherwise a fresh prefix on SeaweedFS."""
    if request.param == "local":
        return None
    url: str = request.getfixturevalue("s3_url")
    return url


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def build_app(
    make_app: AppFactory, data_dir: Path, database_url: str, storage_url: str | None
) -> BuildApp:
    def build(**overrides: Any) -> FastAPI:
        return make_app(evidence_settings(data_dir, database_url, storage_url, **overrides))

    return build


@pytest.fixture
def app(build_app: BuildApp) -> FastAPI:
    """Replaces conftest's app, so `client` and `make_client` run on both stores."""
    return build_app()


@pytest.fixture
def victim(client: TestClient) -> TestClient:
    register(client)
    return client


def _upload_id(url: str) -> str:
    match = UPLOAD_URL.match(url)
    assert match, url
    return match.group(1)


def _evidence_rows(engine: Engine) -> int:
    with Session(engine) as db:
        return db.exec(select(func.count()).select_from(Evidence)).one()


def _upload_rows(engine: Engine) -> list[Upload]:
    with Session(engine) as db:
        return list(db.exec(select(Upload)).all())


def _assert_no_evidence(client: TestClient, app: FastAPI, engine: Engine) -> None:
    assert read(client, EVIDENCE, include_withdrawn="true")["items"] == []
    assert _evidence_rows(engine) == 0
    assert stored_objects(app) == []


def _assert_upload_gone(client: TestClient, app: FastAPI, url: str) -> None:
    assert client.head(url, headers=TUS).status_code == 404
    assert staged_data(app) == []


def _assert_upload_finished(client: TestClient, app: FastAPI, url: str, size: int) -> None:
    """HEAD on a finished upload: its whole length is in, and Location names the evidence."""
    head = client.head(url, headers=TUS)
    assert head.status_code == 200
    assert head.headers["Upload-Offset"] == head.headers["Upload-Length"] == str(size)
    assert head.headers["Location"] == f"{EVIDENCE}/{_upload_id(url)}"
    assert head.headers["Waymark-Evidence-Id"] == _upload_id(url)
    assert "Upload-Expires" not in head.headers
    assert staged_data(app) == []


# Who may ask


def test_anonymous_requests_get_401(client: TestClient) -> None:
    url = f"{UPLOADS}/{new_id()}"
    assert_problem(tus_create(client, 100), 401)
    assert client.head(url, headers=TUS).status_code == 401
    assert_problem(tus_patch(client, url, 0, b"abc"), 401)
    assert_problem(client.delete(url, headers=TUS), 401)


def test_another_victim_gets_404_and_the_upload_is_untouched(
    app: FastAPI, make_client: ClientFactory
) -> None:
    owner, stranger = make_client(), make_client()
    register(owner)
    register(stranger)
    content = call_log_csv(400)
    url = start_upload(owner, len(content))
    assert tus_patch(owner, url, 0, content[:1000]).status_code == 204

    assert stranger.head(url, headers=TUS).status_code == 404
    assert_problem(tus_patch(stranger, url, 1000, content[1000:]), 404)
    assert_problem(stranger.delete(url, headers=TUS), 404)

    assert upload_offset(owner, url) == 1000
    last = tus_patch(owner, url, 1000, content[1000:])
    assert last.status_code == 204, last.text
    assert download(owner, _upload_id(url)).content == content
    assert_problem(stranger.get(f"{EVIDENCE}/{_upload_id(url)}"), 404)


def test_an_advocate_cannot_upload(app: FastAPI, client: TestClient) -> None:
    sign_in_advocate(app, client)
    assert_problem(tus_create(client, 100), 403)


# Discovery and creation


def test_options_advertises_what_the_server_supports(app: FastAPI, client: TestClient) -> None:
    response = client.options(UPLOADS)
    assert response.status_code == 204
    assert response.headers["Tus-Resumable"] == "1.0.0"
    assert response.headers["Tus-Version"] == "1.0.0"
    extensions = set(response.headers["Tus-Extension"].split(","))
    assert {"creation", "termination", "checksum", "expiration"} <= extensions
    assert set(response.headers["Tus-Checksum-Algorithm"].split(",")) == {"sha1", "sha256"}
    max_size = app.state.runtime.settings.max_upload_bytes
    assert response.headers["Tus-Max-Size"] == str(max_size)


def test_creating_an_upload(victim: TestClient, db_engine: Engine) -> None:
    before = datetime.now(UTC)
    response = tus_create(victim, 12_345, {"filename": "clip.mp4", "filetype": "video/mp4"})
    assert response.status_code == 201, response.text
    assert response.headers["Tus-Resumable"] == "1.0.0"
    upload_id = _upload_id(response.headers["Location"])
    expires = parsedate_to_datetime(response.headers["Upload-Expires"])
    assert expires > before + timedelta(hours=1)

    head = victim.head(response.headers["Location"], headers=TUS)
    assert head.status_code == 200
    assert head.headers["Upload-Offset"] == "0"
    assert head.headers["Upload-Length"] == "12345"
    assert head.headers["Tus-Resumable"] == "1.0.0"
    assert head.headers["Cache-Control"] == "no-store"
    assert parsedate_to_datetime(head.headers["Upload-Expires"]) == expires
    (row,) = _upload_rows(db_engine)
    assert str(row.id) == upload_id and row.offset == 0 and row.length == 12_345
    # Nothing is evidence until the last byte is in.
    assert_problem(victim.get(f"{EVIDENCE}/{upload_id}"), 404)


@pytest.mark.parametrize(
    "headers",
    [
        {"Upload-Length": "100"},  # no Tus-Resumable
        {"Tus-Resumable": "0.2.2", "Upload-Length": "100"},
        {"Tus-Resumable": "1.0.0"},  # no Upload-Length
        {"Tus-Resumable": "1.0.0", "Upload-Defer-Length": "1"},
        {"Tus-Resumable": "1.0.0", "Upload-Length": "0"},
        {"Tus-Resumable": "1.0.0", "Upload-Length": "-5"},
        {"Tus-Resumable": "1.0.0", "Upload-Length": "ten"},
        {"Tus-Resumable": "1.0.0", "Upload-Length": "100", "Upload-Metadata": "filename !!!"},
        {"Tus-Resumable": "1.0.0", "Upload-Length": "100", "Upload-Metadata": "a b c"},
        {"Tus-Resumable": "1.0.0", "Upload-Length": "100", "Upload-Metadata": "sha256 YWJj"},
        {"Tus-Resumable": "1.0.0", "Upload-Length": "100", "Upload-Metadata": "incident_ids eA=="},
    ],
    ids=[
        "no-tus-resumable",
        "old-tus-version",
        "no-length",
        "deferred-length",
        "empty",
        "negative-length",
        "length-not-a-number",
        "metadata-not-base64",
        "metadata-too-many-parts",
        "sha256-not-a-hash",
        "incident-ids-not-ids",
    ],
)
def test_creation_refuses_bad_requests(
    victim: TestClient, db_engine: Engine, headers: dict[str, str]
) -> None:
    response = victim.post(UPLOADS, headers=headers)
    assert 400 <= response.status_code < 500, response.text
    assert response.status_code not in (401, 403, 404)
    assert _upload_rows(db_engine) == []


def test_creation_refuses_a_link_to_someone_elses_incident(
    make_client: ClientFactory, db_engine: Engine
) -> None:
    owner, stranger = make_client(), make_client()
    register(owner)
    register(stranger)
    theirs = log_incident(stranger)
    assert_problem(tus_create(owner, 100, {"incident_ids": theirs["id"]}), 422)
    assert _upload_rows(db_engine) == []


def test_an_upload_over_the_size_limit_is_413(build_app: BuildApp, db_engine: Engine) -> None:
    app = build_app(max_upload_bytes=100_000)
    with TestClient(app) as client:
        register(client)
        assert_problem(tus_create(client, 100_001), 413)
        assert _upload_rows(db_engine) == []
        assert tus_create(client, 100_000).status_code == 201


def test_uploads_still_arriving_count_against_the_quota(
    build_app: BuildApp, db_engine: Engine
) -> None:
    app = build_app(max_upload_bytes=80_000, user_quota_bytes=100_000)
    with TestClient(app) as client:
        register(client)
        url = start_upload(client, 60_000)
        assert_problem(tus_create(client, 60_000), 413)
        assert_problem(send_evidence(client, text_note("x" * 50_000)), 413)
        assert len(_upload_rows(db_engine)) == 1
        # Giving the upload up makes the room again.
        assert client.delete(url, headers=TUS).status_code == 204
        assert tus_create(client, 60_000).status_code == 201


# Sending the bytes


def test_patch_refuses_a_wrong_offset_type_or_version(victim: TestClient) -> None:
    content = call_log_csv(300)
    url = start_upload(victim, len(content))
    assert_problem(tus_patch(victim, url, 10, content[10:100]), 409)
    assert tus_patch(victim, url, 0, content[:100]).status_code == 204
    assert_problem(tus_patch(victim, url, 0, content[:100]), 409)  # behind
    assert_problem(tus_patch(victim, url, 150, content[150:200]), 409)  # ahead
    assert_problem(
        tus_patch(victim, url, 100, content[100:200], content_type="application/octet-stream"),
        415,
    )
    no_version = victim.patch(
        url,
        content=content[100:200],
        headers={"Upload-Offset": "100", "Content-Type": "application/offset+octet-stream"},
    )
    assert 400 <= no_version.status_code < 500
    no_offset = victim.patch(
        url,
        content=content[100:200],
        headers={**TUS, "Content-Type": "application/offset+octet-stream"},
    )
    assert_problem(no_offset, 422)
    assert upload_offset(victim, url) == 100
    # More than the upload's length is refused, and nothing moves.
    assert_problem(tus_patch(victim, url, 100, content[100:] + b"extra"), 413)
    assert upload_offset(victim, url) == 100
    done = tus_patch(victim, url, 100, content[100:])
    assert done.status_code == 204, done.text
    assert download(victim, _upload_id(url)).content == content


def test_per_patch_checksums(app: FastAPI, victim: TestClient, db_engine: Engine) -> None:
    content = iso_media_of_size(3 * SEGMENT_SIZE + 77)
    url = start_upload(victim, len(content))
    piece = content[:70_000]

    wrong = tus_patch(victim, url, 0, piece, checksum=tus_checksum("sha256", piece[:-1]))
    assert_problem(wrong, 460)
    assert upload_offset(victim, url) == 0
    good = tus_patch(victim, url, 0, piece, checksum=tus_checksum("sha1", piece))
    assert good.status_code == 204, good.text
    assert good.headers["Upload-Offset"] == "70000"

    second = content[70_000:140_001]
    flipped = bytes([second[0] ^ 1]) + second[1:]
    wrong = tus_patch(victim, url, 70_000, flipped, checksum=tus_checksum("sha1", second))
    assert_problem(wrong, 460)
    assert upload_offset(victim, url) == 70_000
    unknown = tus_patch(victim, url, 70_000, second, checksum="md5 " + "A" * 24)
    assert 400 <= unknown.status_code < 500 and unknown.status_code != 460
    assert upload_offset(victim, url) == 70_000
    good = tus_patch(victim, url, 70_000, second, checksum=tus_checksum("sha256", second))
    assert good.status_code == 204, good.text

    rest = content[140_001:]
    wrong = tus_patch(victim, url, 140_001, rest, checksum=tus_checksum("sha256", b"other"))
    assert_problem(wrong, 460)
    assert upload_offset(victim, url) == 140_001
    assert _evidence_rows(db_engine) == 0  # the last piece did not arrive intact
    last = tus_patch(victim, url, 140_001, rest, checksum=tus_checksum("sha256", rest))
    assert last.status_code == 204, last.text
    evidence = read(victim, last.headers["Location"])
    assert evidence["sha256"] == sha256_of(content)
    assert download(victim, evidence["id"]).content == content


def test_chunks_of_odd_sizes_across_segment_boundaries(
    app: FastAPI, victim: TestClient, db_engine: Engine
) -> None:
    size = 2 * MiB + 3 * SEGMENT_SIZE + 7
    content = iso_media_of_size(size)
    sizes = [1, SEGMENT_SIZE - 2, SEGMENT_SIZE + 1, 1, 200_000, 999_999, 700_001]
    url = start_upload(victim, size, {"filename": "clip.mp4"})
    upload_id = _upload_id(url)
    offset = 0
    for piece in sizes:
        response = tus_patch(victim, url, offset, content[offset : offset + piece])
        assert response.status_code == 204, response.text
        offset += piece
        assert upload_offset(victim, url) == offset
        assert _evidence_rows(db_engine) == 0
    last = tus_patch(victim, url, offset, content[offset:])
    assert last.status_code == 204, last.text
    assert last.headers["Upload-Offset"] == str(size)
    assert last.headers["Location"] == f"{EVIDENCE}/{upload_id}"

    evidence = read(victim, f"{EVIDENCE}/{upload_id}")
    assert evidence["id"] == upload_id
    assert evidence["size"] == size
    assert evidence["sha256"] == hashlib.sha256(content).hexdigest()
    assert evidence["media_type"] == "video/mp4"
    assert download(victim, upload_id).content == content
    ranged = download(victim, upload_id, Range=f"bytes={SEGMENT_SIZE - 3}-{MiB + 3}")
    assert ranged.status_code == 206
    assert ranged.content == content[SEGMENT_SIZE - 3 : MiB + 4]
    # Finished: the staging is gone, and the upload answers with where its evidence is.
    _assert_upload_finished(victim, app, url, size)
    again = tus_patch(victim, url, offset, content[offset:])
    assert again.status_code == 204, again.text
    assert again.headers["Upload-Offset"] == str(size)
    assert again.headers["Location"] == f"{EVIDENCE}/{upload_id}"
    assert tus_patch(victim, url, size, b"").headers["Location"] == f"{EVIDENCE}/{upload_id}"
    assert_problem(tus_patch(victim, url, 0, content[:10]), 409)
    assert _upload_rows(db_engine) == []
    assert _evidence_rows(db_engine) == 1


def test_a_file_larger_than_an_s3_part_in_3_mib_patches(app: FastAPI, victim: TestClient) -> None:
    size = 9 * MiB + 12_345  # more than one 8 MiB part, with a tail
    content = iso_media_of_size(size)
    evidence = upload_by_tus(victim, content, {"filename": "doorbell.mp4"}, [3 * MiB] * 3)
    assert evidence["size"] == size
    assert evidence["sha256"] == sha256_of(content)
    assert download(victim, evidence["id"]).content == content
    assert staged_data(app) == []
    assert len(stored_objects(app)) == 1


def test_a_whole_file_over_two_s3_parts_in_one_patch(app: FastAPI, victim: TestClient) -> None:
    size = 17 * MiB + 5  # S3 stores it as three parts, written from one PATCH
    content = iso_media_of_size(size)
    evidence = upload_by_tus(victim, content, {"filename": "dashcam.mp4"})
    assert evidence["sha256"] == sha256_of(content)
    assert download(victim, evidence["id"]).content == content
    assert staged_data(app) == []


# Bodies as a server hands them over: in many small chunks, or cut off by a dropped connection.


def _patch_as_served(
    app: FastAPI,
    client: TestClient,
    url: str,
    offset: int,
    chunks: list[bytes],
    *,
    cut_off: bool = False,
    checksum: str | None = None,
) -> int | None:
    """A PATCH sent straight to the ASGI app, its body handed over in exactly these chunks (the
    test client sends a body as one), and with `cut_off` the connection dropping after them.
    Returns the response's status, or None when nobody was left to answer."""
    headers = {
        **TUS,
        "Upload-Offset": str(offset),
        "Content-Type": OFFSET_STREAM,
        "Cookie": "; ".join(f"{name}={value}" for name, value in client.cookies.items()),
        "Host": "testserver",
    }
    if checksum is not None:
        headers["Upload-Checksum"] = checksum
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": chunk, "more_body": True} for chunk in chunks
    ]
    messages.append(
        {"type": "http.disconnect"}
        if cut_off
        else {"type": "http.request", "body": b"", "more_body": False}
    )
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "PATCH",
        "scheme": "http",
        "path": url,
        "raw_path": url.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(name.lower().encode(), value.encode()) for name, value in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }

    async def call() -> None:
        await app(scope, receive, send)

    anyio.run(call)
    return statuses[0] if statuses else None


def _chunked(data: bytes, sizes: list[int]) -> list[bytes]:
    """`data` cut into chunks of the given sizes, over and over."""
    chunks: list[bytes] = []
    start = 0
    while start < len(data):
        size = sizes[len(chunks) % len(sizes)]
        chunks.append(data[start : start + size])
        start += size
    return chunks


def test_a_body_in_many_odd_chunks_is_kept_byte_exact(app: FastAPI, victim: TestClient) -> None:
    size = 3 * MiB + 70_001
    content = iso_media_of_size(size)
    url = start_upload(victim, size, {"filename": "voicemail.mp4"})
    first = 100_000
    assert _patch_as_served(app, victim, url, 0, _chunked(content[:first], [4096, 1])) == 204
    rest = _chunked(content[first:], [SEGMENT_SIZE - 7, 1, 200_003, 4096])
    assert _patch_as_served(app, victim, url, first, rest) == 204
    evidence = read(victim, f"{EVIDENCE}/{_upload_id(url)}")
    assert evidence["sha256"] == sha256_of(content)
    assert download(victim, evidence["id"]).content == content


@pytest.mark.parametrize("arrived", [2 * MiB, 2 * MiB + 1000], ids=["at-an-append", "inside"])
def test_a_patch_cut_off_keeps_what_arrived(app: FastAPI, victim: TestClient, arrived: int) -> None:
    size = 3 * MiB + 5
    content = iso_media_of_size(size)
    url = start_upload(victim, size, {"filename": "doorbell.mp4"})
    sent = _chunked(content[:arrived], [100_000])
    assert _patch_as_served(app, victim, url, 0, sent, cut_off=True) is None
    # The client asks where to go on from, and sends the rest.
    assert upload_offset(victim, url) == arrived
    last = tus_patch(victim, url, arrived, content[arrived:])
    assert last.status_code == 204, last.text
    evidence = read(victim, last.headers["Location"])
    assert evidence["sha256"] == sha256_of(content)
    assert download(victim, evidence["id"]).content == content


def test_a_cut_off_patch_with_a_checksum_keeps_nothing(app: FastAPI, victim: TestClient) -> None:
    content = iso_media_of_size(MiB + 300_000)
    url = start_upload(victim, len(content))
    assert tus_patch(victim, url, 0, content[:1000]).status_code == 204
    piece = content[1000:]
    sent = _chunked(piece[:600_000], [100_000])
    checksum = tus_checksum("sha256", piece)
    assert _patch_as_served(app, victim, url, 1000, sent, cut_off=True, checksum=checksum) is None
    # Nothing vouches for the bytes that did arrive, so the offset has not moved.
    assert upload_offset(victim, url) == 1000
    last = tus_patch(victim, url, 1000, piece, checksum=checksum)
    assert last.status_code == 204, last.text
    assert download(victim, _upload_id(url)).content == content


def test_metadata_is_applied_to_the_evidence(victim: TestClient) -> None:
    first, second = log_incident(victim), log_incident(victim)
    content = call_log_csv(50)
    evidence = upload_by_tus(
        victim,
        content,
        {
            "filename": "../../Downloads/calls\u202etxt.csv",
            "filetype": "text/html",
            "description": "Withheld numbers, every night",
            "incident_ids": f"{second['id']}, {first['id']}",
            "sha256": sha256_of(content).upper(),
        },
        [1000],
    )
    assert evidence["original_filename"] == "callstxt.csv"
    assert evidence["media_type"] == "text/csv"  # sniffed, not the filetype sent
    assert evidence["description"] == "Withheld numbers, every night"
    assert evidence["incident_ids"] == sorted([first["id"], second["id"]])
    assert evidence["client_sha256_matches"] is True
    assert evidence["revision"] == 1
    for incident in (first, second):
        assert read(victim, f"{INCIDENTS}/{incident['id']}")["evidence_ids"] == [evidence["id"]]

    plain = upload_by_tus(victim, text_note())
    assert plain["client_sha256_matches"] is None
    assert plain["original_filename"] == "unnamed"
    assert plain["description"] == "" and plain["incident_ids"] == []


def test_a_sha256_in_the_metadata_that_does_not_match_keeps_nothing(
    app: FastAPI, victim: TestClient, db_engine: Engine
) -> None:
    content = call_log_csv(200)
    url = start_upload(victim, len(content), {"sha256": sha256_of(content + b"x")})
    assert tus_patch(victim, url, 0, content[:500]).status_code == 204
    last = tus_patch(victim, url, 500, content[500:])
    problem = assert_problem(last, 422)
    assert problem["type"].endswith("checksum-mismatch")
    assert_problem(victim.get(f"{EVIDENCE}/{_upload_id(url)}"), 404)
    _assert_no_evidence(victim, app, db_engine)
    _assert_upload_gone(victim, app, url)
    assert _upload_rows(db_engine) == []


# Termination and expiry


def test_termination_removes_the_upload_and_its_staging(
    app: FastAPI, victim: TestClient, db_engine: Engine
) -> None:
    content = iso_media_of_size(2 * MiB)
    url = start_upload(victim, len(content))
    assert tus_patch(victim, url, 0, content[: MiB + 5]).status_code == 204
    assert staged_data(app) != []
    response = victim.delete(url, headers=TUS)
    assert response.status_code == 204
    assert response.headers["Tus-Resumable"] == "1.0.0"
    _assert_upload_gone(victim, app, url)
    assert_problem(tus_patch(victim, url, MiB + 5, content[MiB + 5 :]), 404)
    assert_problem(victim.delete(url, headers=TUS), 404)
    assert _upload_rows(db_engine) == []
    _assert_no_evidence(victim, app, db_engine)


def _expire_now(engine: Engine, upload_id: str) -> None:
    with Session(engine) as db:
        db.exec(
            update(Upload)
            .where(col(Upload.id) == uuid.UUID(upload_id))
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
        db.commit()


@pytest.mark.parametrize("how", ["service", "cli"])
def test_expired_uploads_are_removed_with_their_staging(
    app: FastAPI,
    victim: TestClient,
    db_engine: Engine,
    data_dir: Path,
    database_url: str,
    storage_url: str | None,
    how: str,
) -> None:
    content = iso_media_of_size(MiB + 100)
    abandoned = start_upload(victim, len(content))
    assert tus_patch(victim, abandoned, 0, content[:700_000]).status_code == 204
    alive = start_upload(victim, len(content))
    assert tus_patch(victim, alive, 0, content[:1000]).status_code == 204
    _expire_now(db_engine, _upload_id(abandoned))

    # Past its expiry an upload is gone for the client at once.
    assert victim.head(abandoned, headers=TUS).status_code == 404
    assert_problem(tus_patch(victim, abandoned, 700_000, content[700_000:]), 404)

    if how == "service":
        with Session(db_engine) as db:
            assert uploads.expire(db, staging_for(app.state.runtime.blob_store)) == 1
            db.commit()
    else:
        env = {
            "WAYMARK_ENVIRONMENT": "development",
            "WAYMARK_DATA_DIR": str(data_dir),
            "WAYMARK_DATABASE_URL": database_url,
        }
        if storage_url is not None:
            env["WAYMARK_STORAGE_URL"] = storage_url
        result = CliRunner(env=env).invoke(main, ["uploads", "expire"])
        assert result.exit_code == 0, result.output
        assert "removed 1 expired upload" in result.output

    assert [str(row.id) for row in _upload_rows(db_engine)] == [_upload_id(alive)]
    assert all(_upload_id(abandoned).replace("-", "") not in name for name in staged_data(app))
    assert upload_offset(victim, alive) == 1000
    assert victim.delete(alive, headers=TUS).status_code == 204
    assert staged_data(app) == []


# What comes in


@pytest.mark.parametrize(
    ("content", "pieces"),
    [
        (windows_executable(200_000), [8192]),
        (windows_executable(200_000), [4096, 4096]),
        (linux_executable(200_000), [200_000]),
        (linux_executable(5000), [5000]),
        (b"<html><script>alert(1)</script>" + b" " * 20_000, [8192]),
    ],
    ids=["pe-first-8k", "pe-in-two-4k-pieces", "elf-whole", "small-elf", "html"],
)
def test_a_refused_type_is_415_as_soon_as_the_first_8_kib_are_in(
    app: FastAPI, victim: TestClient, db_engine: Engine, content: bytes, pieces: list[int]
) -> None:
    url = start_upload(victim, len(content), {"filename": "holiday.jpg", "filetype": "image/jpeg"})
    offset = 0
    for piece in pieces[:-1]:
        assert tus_patch(victim, url, offset, content[offset : offset + piece]).status_code == 204
        offset += piece
    response = tus_patch(victim, url, offset, content[offset : offset + pieces[-1]])
    assert_problem(response, 415)
    _assert_upload_gone(victim, app, url)
    assert _upload_rows(db_engine) == []
    _assert_no_evidence(victim, app, db_engine)


def test_a_whole_file_in_one_patch_with_tus_send(app: FastAPI, victim: TestClient) -> None:
    content = call_log_csv(30)
    url = start_upload(victim, len(content))
    last = tus_send(victim, url, content, [])
    assert last.status_code == 204
    assert read(victim, last.headers["Location"])["sha256"] == sha256_of(content)
    assert len(stored_objects(app)) == 1


# Crashes and failures while an upload finishes


def test_an_upload_stopped_short_of_evidence_is_finished_by_the_next_head(
    app: FastAPI, victim: TestClient, db_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every byte is in, but the disk fills as the file becomes evidence (or the server dies
    there): the client hears 507, the upload stays at its full length, and the next HEAD
    finishes it, so the client never sends the file again."""
    content = iso_media_of_size(MiB + 17)
    url = start_upload(victim, len(content))
    upload_id = _upload_id(url)
    real_examine = evidence_service.examine

    def disk_full(*_args: object, **_kwargs: object) -> object:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(evidence_service, "examine", disk_full)
    refused = tus_patch(victim, url, 0, content)
    problem = assert_problem(refused, 507)
    assert problem["type"] == "urn:waymark:problem:out-of-space"
    assert problem["title"] == "The server is out of space; nothing was saved"
    assert _evidence_rows(db_engine) == 0
    assert [row.offset for row in _upload_rows(db_engine)] == [len(content)]

    monkeypatch.setattr(evidence_service, "examine", real_examine)
    _assert_upload_finished(victim, app, url, len(content))
    assert _evidence_rows(db_engine) == 1
    assert _upload_rows(db_engine) == []
    assert download(victim, upload_id).content == content
    # And again: the same answer, still one evidence.
    _assert_upload_finished(victim, app, url, len(content))
    assert _evidence_rows(db_engine) == 1


def test_a_repeated_last_patch_finishes_an_upload_stopped_short_of_evidence(
    app: FastAPI, victim: TestClient, db_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = call_log_csv(300)
    url = start_upload(victim, len(content))
    assert tus_patch(victim, url, 0, content[:1000]).status_code == 204
    real_examine = evidence_service.examine

    def database_gone(*_args: object, **_kwargs: object) -> object:
        raise ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")

    monkeypatch.setattr(evidence_service, "examine", database_gone)
    refused = tus_patch(victim, url, 1000, content[1000:])
    assert_problem(refused, 503)
    assert refused.headers["Retry-After"].isdigit()
    monkeypatch.setattr(evidence_service, "examine", real_examine)
    # The client never heard the answer to its last PATCH, so it sends it again.
    again = tus_patch(victim, url, 1000, content[1000:])
    assert again.status_code == 204, again.text
    assert again.headers["Location"] == f"{EVIDENCE}/{_upload_id(url)}"
    assert _evidence_rows(db_engine) == 1
    assert staged_data(app) == []


# The orphan sweep


def _orphans(app: FastAPI) -> tuple[str, str]:
    """What a crash leaves: a finished blob (and its thumbnail) nothing records, and staged
    data of an upload whose row is gone. Returns the two ids."""
    store = app.state.runtime.blob_store
    blob = uuid.uuid4().hex
    write_blob(store, blob, [b"ciphertext nobody recorded"])
    write_blob(store, f"{blob}.thumb", [b"its thumbnail"])
    staged = uuid.uuid4().hex
    staging = staging_for(store)
    staging.start(staged, b"WMB1" + b"\x00" * 32, 1000)
    staging.put_tail(staged, 10, b"a tail")
    return blob, staged


@pytest.mark.parametrize("how", ["service", "command"])
def test_the_sweep_removes_only_what_nothing_points_at(
    app: FastAPI,
    victim: TestClient,
    db_engine: Engine,
    data_dir: Path,
    database_url: str,
    storage_url: str | None,
    how: str,
) -> None:
    kept = upload_by_tus(victim, iso_media_of_size(2 * MiB), {"filename": "kept.mp4"})
    content = iso_media_of_size(2 * MiB)
    in_progress = start_upload(victim, len(content))
    assert tus_patch(victim, in_progress, 0, content[: MiB + 5]).status_code == 204
    orphan_blob, orphan_staged = _orphans(app)
    objects_before, staged_before = stored_objects(app), staged_data(app)
    assert any(orphan_blob in name for name in objects_before)
    assert any(orphan_staged in name for name in staged_before)

    def sweep(hours: float) -> str:
        if how == "service":
            swept = orphans.sweep(
                db_engine, app.state.runtime.blob_store, grace=timedelta(hours=hours)
            )
            return f"{swept.blobs} {swept.staged}"
        env = {
            "WAYMARK_ENVIRONMENT": "development",
            "WAYMARK_DATA_DIR": str(data_dir),
            "WAYMARK_DATABASE_URL": database_url,
            **({"WAYMARK_STORAGE_URL": storage_url} if storage_url else {}),
        }
        result = CliRunner(env=env).invoke(
            main, ["blobs", "sweep", "--older-than-hours", str(hours)]
        )
        assert result.exit_code == 0, result.output
        found = re.match(r"removed (\d+) orphaned blob\(s\) and (\d+) staged", result.output)
        assert found, result.output
        return " ".join(found.groups())

    # Within the grace period nothing goes: it may be a write whose record is on its way.
    assert sweep(24) == "0 0"
    assert stored_objects(app) == objects_before
    assert staged_data(app) == staged_before

    # Past it, only the orphans go.
    removed_blobs, removed_staged = (int(n) for n in sweep(0).split())
    assert removed_blobs == 2
    assert removed_staged >= 2
    assert not any(orphan_blob in name for name in stored_objects(app))
    assert not any(orphan_staged in name for name in staged_data(app))
    assert download(victim, kept["id"]).status_code == 200
    # The upload in progress keeps its staged data and finishes.
    assert upload_offset(victim, in_progress) == MiB + 5
    assert tus_patch(victim, in_progress, MiB + 5, content[MiB + 5 :]).status_code == 204
    assert download(victim, _upload_id(in_progress)).content == content
    assert sweep(0) == "0 0"
