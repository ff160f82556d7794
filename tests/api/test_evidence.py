"""/api/v1/evidence: files kept byte-exact, hashed and encrypted, on the local store and on a
real S3 server (SeaweedFS). Every test runs on both."""

import hashlib
import io
import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine
from sqlmodel import Session, func, select

from app.migrations.runner import upgrade_to_head
from app.models.evidence import Evidence
from app.storage.crypto import SEGMENT_SIZE
from tests.conftest import AppFactory, ClientFactory
from tests.factories.accounts import assert_problem, register
from tests.factories.advocates import sign_in_advocate
from tests.factories.evidence import (
    EVIDENCE,
    MiB,
    PhotoClaims,
    call_log_csv,
    download,
    evidence_settings,
    heic_photo,
    iso_media,
    iso_media_of_size,
    jpeg_photo,
    linux_executable,
    marker_text,
    mp4_with_movie_header,
    new_id,
    png_bomb,
    png_screenshot,
    s3_object_bodies,
    saved_email,
    send_evidence,
    sha256_of,
    staged_data,
    start_upload,
    stored_objects,
    text_note,
    tus_patch,
    upload_evidence,
    windows_executable,
)
from tests.factories.records import (
    INCIDENTS,
    TIMELINE,
    instant,
    log_incident,
    read,
    revisions,
    timeline,
    withdraw,
)

BuildApp = Callable[..., FastAPI]


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
    """Apps on this test's store and data folder, with settings of the test's own."""

    def build(**overrides: Any) -> FastAPI:
        url = overrides.pop("database_url", database_url)
        return make_app(evidence_settings(data_dir, url, storage_url, **overrides))

    return build


@pytest.fixture
def app(build_app: BuildApp) -> FastAPI:
    """Replaces conftest's app, so `client` and `make_client` run on both stores."""
    return build_app()


@pytest.fixture
def victim(client: TestClient) -> TestClient:
    register(client)
    return client


def _url(record: dict[str, Any], suffix: str = "") -> str:
    return f"{EVIDENCE}/{record['id']}{suffix}"


def _all_evidence(client: TestClient) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = read(client, EVIDENCE, include_withdrawn="true")["items"]
    return items


def _evidence_rows(engine: Engine) -> int:
    with Session(engine) as db:
        return db.exec(select(func.count()).select_from(Evidence)).one()


def _assert_nothing_kept(client: TestClient, app: FastAPI, engine: Engine) -> None:
    assert _all_evidence(client) == []
    assert stored_objects(app) == []
    assert _evidence_rows(engine) == 0
    assert timeline(client, kinds="evidence") == []


# Who may ask


ROUTES = [
    ("GET", ""),
    ("POST", ""),
    ("GET", "/{id}"),
    ("PATCH", "/{id}"),
    ("DELETE", "/{id}"),
    ("GET", "/{id}/content"),
    ("GET", "/{id}/thumbnail"),
    ("GET", "/{id}/revisions"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_anonymous_requests_get_401(client: TestClient, method: str, path: str) -> None:
    url = EVIDENCE + path.format(id=new_id())
    if method == "POST":
        response = send_evidence(client, text_note())
    else:
        body = {"PATCH": {"description": "x"}, "DELETE": {"reason": "x"}}.get(method)
        response = client.request(method, url, json=body)
    assert_problem(response, 401)


def test_another_victim_gets_404_everywhere_and_nothing_changes(
    make_client: ClientFactory,
) -> None:
    owner, stranger = make_client(), make_client()
    register(owner)
    register(stranger)
    photo = jpeg_photo()
    record = upload_evidence(owner, photo, filename="door.jpg", description="Front door")

    for method, suffix, body in [
        ("GET", "", None),
        ("PATCH", "", {"description": "Nothing to see"}),
        ("DELETE", "", {"reason": "Not mine"}),
        ("GET", "/content", None),
        ("GET", "/thumbnail", None),
        ("GET", "/revisions", None),
    ]:
        response = stranger.request(method, _url(record, suffix), json=body)
        problem = assert_problem(response, 404)
        assert "door" not in str(problem) and "Front door" not in str(problem)

    assert _all_evidence(stranger) == []
    assert timeline(stranger) == []
    # Reusing the owner's id says nothing about it and changes nothing.
    assert_problem(send_evidence(stranger, text_note(), evidence_id=record["id"]), 409)
    after = read(owner, _url(record))
    assert after["revision"] == 1 and after["description"] == "Front door"
    assert not after["withdrawn"]
    assert download(owner, record["id"]).content == photo


def test_an_advocate_gets_403_whether_or_not_the_file_exists(
    app: FastAPI, make_client: ClientFactory
) -> None:
    owner, advocate = make_client(), make_client()
    register(owner)
    record = upload_evidence(owner, text_note())
    sign_in_advocate(app, advocate)
    for evidence_id in (record["id"], new_id()):
        for method, suffix in [("GET", ""), ("GET", "/content"), ("GET", "/thumbnail")]:
            response = advocate.request(method, f"{EVIDENCE}/{evidence_id}{suffix}")
            assert_problem(response, 403)
    assert_problem(advocate.get(EVIDENCE), 403)
    assert_problem(send_evidence(advocate, text_note()), 403)


# Uploading by multipart


def test_a_photo_is_kept_with_what_its_exif_claims(victim: TestClient) -> None:
    photo = jpeg_photo(PhotoClaims())
    response = send_evidence(
        victim,
        photo,
        filename="IMG_0042.jpg",
        content_type="application/octet-stream",
        description="Him outside the house",
        sha256=sha256_of(photo).upper(),
    )
    assert response.status_code == 201, response.text
    record = response.json()
    assert record["size"] == len(photo)
    assert record["sha256"] == hashlib.sha256(photo).hexdigest()
    assert record["media_type"] == "image/jpeg"
    assert record["client_sha256_matches"] is True
    assert record["original_filename"] == "IMG_0042.jpg"
    assert record["description"] == "Him outside the house"
    assert record["revision"] == 1 and record["withdrawn"] is False
    assert record["incident_ids"] == []
    # 18:45:12 at +01:00, as the phone wrote it.
    assert instant(record["captured_at"]) == datetime(2026, 9, 30, 17, 45, 12, tzinfo=UTC)
    metadata = record["metadata"]
    assert metadata["device_make"] == "Google"
    assert metadata["device_model"] == "Pixel 8"
    assert metadata["capture_time_zone_known"] is True
    assert metadata["gps"] == {"latitude": 52.205, "longitude": 0.125}
    assert (metadata["width"], metadata["height"]) == (64, 48)
    assert record["has_thumbnail"] is True
    assert read(victim, _url(record)) == record

    thumbnail = victim.get(_url(record, "/thumbnail"))
    assert thumbnail.status_code == 200
    assert thumbnail.headers["content-type"] == "image/jpeg"
    assert thumbnail.content.startswith(b"\xff\xd8\xff")
    with Image.open(io.BytesIO(thumbnail.content)) as preview:
        assert preview.format == "JPEG"
        assert max(preview.size) <= 320
        assert not preview.getexif()  # the preview carries no GPS


def test_a_photo_southwest_of_greenwich_without_a_zone(victim: TestClient) -> None:
    claims = PhotoClaims(offset=None, latitude=(33, 51, 54, "S"), longitude=(151, 12, 36, "W"))
    record = upload_evidence(victim, jpeg_photo(claims), filename="x.jpg")
    assert record["metadata"]["gps"] == {"latitude": -33.865, "longitude": -151.21}
    # No zone in the file: read as UK time (BST on 30 September), and labelled as assumed.
    assert instant(record["captured_at"]) == datetime(2026, 9, 30, 17, 45, 12, tzinfo=UTC)
    assert record["metadata"]["capture_time_zone_known"] is False
    assert record["metadata"]["capture_time_zone_assumed"] == "Europe/London"


def test_a_winter_photo_without_a_zone_is_read_as_gmt(victim: TestClient) -> None:
    """The app's timeline shows a zoneless photo at the time its clock said, in UK time: 07:05
    in August is 06:05Z, and 07:05 in January is 07:05Z."""
    summer = upload_evidence(
        victim, jpeg_photo(PhotoClaims(taken="2026:08:03 07:05:00", offset=None)), filename="a.jpg"
    )
    winter = upload_evidence(
        victim, jpeg_photo(PhotoClaims(taken="2026:01:12 07:05:00", offset=None)), filename="b.jpg"
    )
    assert instant(summer["captured_at"]) == datetime(2026, 8, 3, 6, 5, tzinfo=UTC)
    assert instant(winter["captured_at"]) == datetime(2026, 1, 12, 7, 5, tzinfo=UTC)


def test_the_type_comes_from_the_bytes_not_from_the_name_or_the_claim(
    victim: TestClient,
) -> None:
    screenshot = png_screenshot()
    record = upload_evidence(
        victim, screenshot, filename="screenshot.jpg", content_type="image/jpeg"
    )
    assert record["media_type"] == "image/png"
    assert record["client_sha256_matches"] is None  # none was sent
    assert record["captured_at"] is None
    assert record["has_thumbnail"] is True
    response = download(victim, record["id"])
    assert response.headers["content-type"] == "image/png"
    assert response.content == screenshot


@pytest.mark.parametrize(
    ("make", "media_type"),
    [
        (call_log_csv, "text/csv"),
        (saved_email, "message/rfc822"),
        (text_note, "text/plain"),
        (lambda: iso_media(5000), "video/mp4"),
        (lambda: iso_media(5000, b"qt  "), "video/quicktime"),
        (lambda: iso_media(5000, b"M4A "), "audio/mp4"),
    ],
)
def test_other_kinds_of_evidence_are_kept_without_a_preview(
    victim: TestClient, make: Callable[[], bytes], media_type: str
) -> None:
    content = make()
    record = upload_evidence(victim, content, filename="file", content_type="text/html")
    assert record["media_type"] == media_type
    assert record["has_thumbnail"] is False
    assert_problem(victim.get(_url(record, "/thumbnail")), 404)
    assert download(victim, record["id"]).content == content


def test_a_heic_photo_is_kept_with_what_its_exif_claims(victim: TestClient) -> None:
    claims = PhotoClaims(make="Apple", model="iPhone 15", longitude=(1, 7, 30, "W"))
    photo = heic_photo(claims, size=(48, 64))
    record = upload_evidence(victim, photo, filename="IMG_0001.HEIC")
    assert record["media_type"] == "image/heic"
    assert instant(record["captured_at"]) == datetime(2026, 9, 30, 17, 45, 12, tzinfo=UTC)
    assert record["metadata"]["device_make"] == "Apple"
    assert record["metadata"]["device_model"] == "iPhone 15"
    assert record["metadata"]["gps"] == {"latitude": 52.205, "longitude": -1.125}
    assert record["has_thumbnail"] is True
    thumbnail = victim.get(_url(record, "/thumbnail"))
    assert thumbnail.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(thumbnail.content)) as preview:
        assert preview.format == "JPEG" and preview.size == (48, 64)
    assert download(victim, record["id"]).content == photo


def test_a_decompression_bomb_is_kept_but_never_decoded(victim: TestClient) -> None:
    bomb = png_bomb()
    record = upload_evidence(victim, bomb, filename="huge.png")
    assert record["media_type"] == "image/png"
    assert record["has_thumbnail"] is False
    assert "width" not in record["metadata"]
    assert_problem(victim.get(_url(record, "/thumbnail")), 404)
    assert download(victim, record["id"]).content == bomb


def test_a_video_is_kept_with_what_its_container_claims(victim: TestClient) -> None:
    made = datetime(2026, 9, 30, 17, 45, 12, tzinfo=UTC)
    record = upload_evidence(victim, mp4_with_movie_header(made, 12_500), filename="dash.mp4")
    assert record["media_type"] == "video/mp4"
    assert instant(record["captured_at"]) == made
    assert record["metadata"]["duration_seconds"] == 12.5
    (item,) = timeline(victim, kinds="evidence")
    assert instant(item["at"]) == made


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("../../etc/passwd.jpg", "passwd.jpg"),
        ("..\\..\\Users\\me\\Pictures\\door.jpg", "door.jpg"),
        ("/var/www/html/index.jpg", "index.jpg"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),
        ("bell\x07and\x1bescape\x7f.jpg", "bellandescape.jpg"),
        ("zero\u200bwidth\u2066isolate\u2069.jpg", "zerowidthisolate.jpg"),
        ("..", "unnamed"),
        ("", "unnamed"),
        ("Überwachung 📷.jpg", "Überwachung 📷.jpg"),
    ],
)
def test_filenames_are_kept_for_display_only_and_cleaned(
    victim: TestClient, sent: str, kept: str
) -> None:
    record = upload_evidence(victim, jpeg_photo(None), filename=sent)
    assert record["original_filename"] == kept


def test_a_client_hash_that_does_not_match_keeps_nothing(
    app: FastAPI, victim: TestClient, db_engine: Engine
) -> None:
    photo = jpeg_photo()
    response = send_evidence(victim, photo, filename="a.jpg", sha256=sha256_of(photo + b"x"))
    problem = assert_problem(response, 422)
    assert problem["type"].endswith("checksum-mismatch")
    _assert_nothing_kept(victim, app, db_engine)


def test_a_malformed_client_hash_is_invalid_and_keeps_nothing(
    app: FastAPI, victim: TestClient, db_engine: Engine
) -> None:
    assert_problem(send_evidence(victim, text_note(), sha256="not-a-hash"), 422)
    _assert_nothing_kept(victim, app, db_engine)


def test_a_link_to_someone_elses_incident_keeps_nothing(
    app: FastAPI, make_client: ClientFactory, db_engine: Engine
) -> None:
    owner, stranger = make_client(), make_client()
    register(owner)
    register(stranger)
    theirs = log_incident(stranger)
    response = send_evidence(owner, jpeg_photo(), incident_ids=[theirs["id"]])
    assert_problem(response, 422)
    _assert_nothing_kept(owner, app, db_engine)


@pytest.mark.parametrize(
    "content",
    [
        windows_executable(2_000),  # refused when the file ends
        windows_executable(200_000),  # refused as soon as the first 8 KiB are in
        linux_executable(3_000),
        linux_executable(300_000),
    ],
    ids=["small-pe", "large-pe", "small-elf", "large-elf"],
)
def test_a_renamed_executable_is_refused_and_nothing_kept(
    app: FastAPI, victim: TestClient, db_engine: Engine, content: bytes
) -> None:
    response = send_evidence(
        victim, content, filename="holiday.jpg", content_type="image/jpeg", sha256=None
    )
    assert_problem(response, 415)
    _assert_nothing_kept(victim, app, db_engine)


@pytest.mark.parametrize(
    "content",
    [
        b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>",
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b"\xef\xbb\xbf\n  <html><script>alert(1)</script></html>",
        b"PK\x03\x04" + b"\x00" * 200,
    ],
    ids=["html", "svg-with-xml-declaration", "svg", "html-after-bom", "zip"],
)
def test_markup_and_archives_are_refused(
    app: FastAPI, victim: TestClient, db_engine: Engine, content: bytes
) -> None:
    assert_problem(send_evidence(victim, content, filename="note.txt"), 415)
    _assert_nothing_kept(victim, app, db_engine)


def test_an_empty_file_is_refused(app: FastAPI, victim: TestClient, db_engine: Engine) -> None:
    assert_problem(send_evidence(victim, b""), 422)
    _assert_nothing_kept(victim, app, db_engine)


def test_a_file_over_the_size_limit_is_413_and_nothing_kept(
    build_app: BuildApp, db_engine: Engine
) -> None:
    app = build_app(max_upload_bytes=50_000)
    with TestClient(app) as client:
        register(client)
        assert_problem(send_evidence(client, marker_text("x" * 40, 50_001)), 413)
        _assert_nothing_kept(client, app, db_engine)
        record = upload_evidence(client, marker_text("y" * 40, 50_000))
        assert record["size"] == 50_000


def test_the_quota_is_413_once_full(build_app: BuildApp) -> None:
    app = build_app(max_upload_bytes=80_000, user_quota_bytes=100_000)
    with TestClient(app) as client:
        register(client)
        first = upload_evidence(client, marker_text("first", 60_000))
        assert_problem(send_evidence(client, marker_text("second", 60_000)), 413)
        assert [e["id"] for e in _all_evidence(client)] == [first["id"]]
        assert len(stored_objects(app)) == 1
        upload_evidence(client, marker_text("third", 40_000))  # exactly fills it
        assert_problem(send_evidence(client, b"x"), 413)
        # Withdrawn files still count: they are kept.
        assert withdraw(client, _url(first)).status_code == 200
        assert_problem(send_evidence(client, b"x"), 413)


def test_a_file_larger_than_an_s3_part_by_multipart(
    app: FastAPI, victim: TestClient, db_engine: Engine
) -> None:
    size = 9 * MiB + 4321  # the S3 writer sends 8 MiB parts
    content = iso_media_of_size(size)
    wrong = send_evidence(victim, content, sha256=sha256_of(b"something else"))
    assert_problem(wrong, 422)
    _assert_nothing_kept(victim, app, db_engine)

    record = upload_evidence(victim, content, filename="dashcam.mp4", sha256=sha256_of(content))
    assert record["size"] == size and record["client_sha256_matches"] is True
    assert download(victim, record["id"]).content == content
    boundary = 8 * MiB
    ranged = download(victim, record["id"], Range=f"bytes={boundary - 100}-{boundary + 100}")
    assert ranged.status_code == 206
    assert ranged.content == content[boundary - 100 : boundary + 101]
    assert len(stored_objects(app)) == 1


# Reading back


def test_the_download_is_byte_exact_with_safe_headers(victim: TestClient) -> None:
    content = iso_media(300_000)
    name = 'Doorbell "front" \u2013 30 Sept\u202e.mp4'
    record = upload_evidence(victim, content, filename=name, content_type="video/mp4")
    assert record["original_filename"] == 'Doorbell "front" \u2013 30 Sept.mp4'
    response = download(victim, record["id"])
    assert response.status_code == 200
    assert response.content == content
    assert hashlib.sha256(response.content).hexdigest() == record["sha256"]
    assert response.headers["content-type"] == "video/mp4"
    assert response.headers["content-length"] == str(len(content))
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["cache-control"] == "no-store"
    assert "content-range" not in response.headers
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    fallback = re.search(r'filename="([^"]*)"', disposition)
    encoded = re.search(r"filename\*=UTF-8''(\S+)", disposition)
    assert fallback is not None and encoded is not None
    assert re.fullmatch(r"[A-Za-z0-9._ -]+", fallback.group(1)), fallback.group(1)
    assert fallback.group(1).endswith(".mp4")
    assert unquote(encoded.group(1)) == record["original_filename"]
    assert re.fullmatch(r"[A-Za-z0-9%._~-]+", encoded.group(1))


def test_range_requests_at_segment_boundaries(victim: TestClient) -> None:
    size = 3 * SEGMENT_SIZE + 1234
    content = iso_media_of_size(size)
    record = upload_evidence(victim, content, filename="clip.mp4")
    s = SEGMENT_SIZE
    for header, first, last in [
        (f"bytes={s - 1}-{s}", s - 1, s),
        ("bytes=0-65535", 0, s - 1),
        ("bytes=65536-131071", s, 2 * s - 1),
        (f"bytes={2 * s - 1}-{3 * s}", 2 * s - 1, 3 * s),
        (f"bytes={3 * s}-{size - 1}", 3 * s, size - 1),
        ("bytes=0-0", 0, 0),
        (f"bytes={size - 1}-{size - 1}", size - 1, size - 1),
        ("bytes=-10", size - 10, size - 1),
        (f"bytes=-{size - 5}", 5, size - 1),
        ("bytes=100-", 100, size - 1),
        (f"bytes={s}-", s, size - 1),
        (f"bytes={size - 20}-{size + 5000}", size - 20, size - 1),
    ]:
        response = download(victim, record["id"], Range=header)
        assert response.status_code == 206, header
        assert response.headers["content-range"] == f"bytes {first}-{last}/{size}", header
        assert response.headers["content-length"] == str(last - first + 1), header
        assert response.content == content[first : last + 1], header
        assert response.headers["content-type"] == "video/mp4"

    for header in (f"bytes={size}-", f"bytes={size + 10}-{size + 20}", "bytes=-0"):
        response = download(victim, record["id"], Range=header)
        assert response.status_code == 416, header
        assert response.headers["content-range"] == f"bytes */{size}"

    # Several ranges at once are not served (no multipart answers): said plainly with a 416
    # (tests/api/test_request_limits.py has the malformed and absurd ones).
    several = download(victim, record["id"], Range="bytes=0-1,5-6")
    assert several.status_code == 416


def test_amending_the_description_and_incidents_makes_a_revision(victim: TestClient) -> None:
    first, second = log_incident(victim), log_incident(victim)
    record = upload_evidence(victim, jpeg_photo(), description="Outside", filename="a.jpg")
    response = victim.patch(
        _url(record), json={"description": "Outside, again", "incident_ids": [first["id"]]}
    )
    assert response.status_code == 200, response.text
    amended = response.json()
    assert amended["revision"] == 2
    assert amended["description"] == "Outside, again"
    assert amended["incident_ids"] == [first["id"]]
    assert amended["sha256"] == record["sha256"]  # the file never changes
    assert read(victim, f"{INCIDENTS}/{first['id']}")["evidence_ids"] == [record["id"]]

    moved = victim.patch(_url(record), json={"incident_ids": [second["id"]]}).json()
    assert moved["revision"] == 3 and moved["description"] == "Outside, again"
    assert read(victim, f"{INCIDENTS}/{first['id']}")["evidence_ids"] == []
    assert read(victim, f"{INCIDENTS}/{second['id']}")["evidence_ids"] == [record["id"]]

    history = revisions(victim, _url(record))
    assert [r["revision"] for r in history] == [1, 2, 3]
    assert [r["description"] for r in history] == ["Outside", "Outside, again", "Outside, again"]
    assert [r["incident_ids"] for r in history] == [[], [first["id"]], [second["id"]]]
    # Nothing else about the file may be changed.
    assert_problem(victim.patch(_url(record), json={"sha256": "0" * 64}), 422)


def test_withdrawing_keeps_the_file_but_takes_it_off_the_timeline(victim: TestClient) -> None:
    incident = log_incident(victim)
    record = upload_evidence(victim, text_note(), incident_ids=[incident["id"]])
    assert read(victim, f"{INCIDENTS}/{incident['id']}")["evidence_ids"] == [record["id"]]
    assert_problem(withdraw(victim, _url(record), reason=None), 422)

    response = withdraw(victim, _url(record), reason="Wrong file")
    assert response.status_code == 200, response.text
    assert response.json()["withdrawn"] is True
    assert response.json()["withdrawn_reason"] == "Wrong file"
    assert read(victim, EVIDENCE)["items"] == []
    assert [e["id"] for e in _all_evidence(victim)] == [record["id"]]
    assert timeline(victim, kinds="evidence") == []
    assert all(item["id"] != record["id"] for item in timeline(victim))
    assert read(victim, f"{INCIDENTS}/{incident['id']}")["evidence_ids"] == []
    assert_problem(withdraw(victim, _url(record)), 409)
    assert_problem(victim.patch(_url(record), json={"description": "x"}), 409)
    # Kept: the owner can still read it back.
    assert download(victim, record["id"]).content == text_note()


def test_evidence_is_on_the_timeline_at_its_capture_time_and_on_its_incidents(
    victim: TestClient,
) -> None:
    incident = log_incident(victim, occurred_at="2026-09-30T18:40:00+01:00")
    photo = upload_evidence(
        victim, jpeg_photo(), filename="door.jpg", incident_ids=[incident["id"]]
    )
    note = upload_evidence(victim, call_log_csv(), filename="calls.csv")

    items = {item["id"]: item for item in timeline(victim, kinds="evidence")}
    assert set(items) == {photo["id"], note["id"]}
    assert items[photo["id"]]["kind"] == "evidence"
    assert instant(items[photo["id"]]["at"]) == datetime(2026, 9, 30, 17, 45, 12, tzinfo=UTC)
    assert "door.jpg" in items[photo["id"]]["summary"]
    # No capture time in a CSV: it sits at its upload time.
    assert instant(items[note["id"]]["at"]) == instant(note["uploaded_at"])

    ordered = [item["id"] for item in timeline(victim, order="asc")]
    assert ordered.index(incident["id"]) < ordered.index(photo["id"])
    assert read(victim, f"{INCIDENTS}/{incident['id']}")["evidence_ids"] == [photo["id"]]
    assert photo["incident_ids"] == [incident["id"]]
    window = read(
        victim, TIMELINE, **{"from": "2026-09-30T17:00:00Z", "to": "2026-09-30T18:00:00Z"}
    )
    assert {item["id"] for item in window["items"]} == {incident["id"], photo["id"]}


# Offline-safe creates


def test_repeating_an_upload_with_its_id_is_answered_with_the_record(
    app: FastAPI, victim: TestClient
) -> None:
    evidence_id = new_id()
    content = call_log_csv()
    first = send_evidence(victim, content, evidence_id=evidence_id, filename="calls.csv")
    assert first.status_code == 201, first.text
    assert first.json()["id"] == evidence_id
    again = send_evidence(victim, content, evidence_id=evidence_id, filename="calls.csv")
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert len(stored_objects(app)) == 1  # the copy that arrived again is not kept

    different = send_evidence(victim, call_log_csv(rows=3), evidence_id=evidence_id)
    assert_problem(different, 409)
    assert len(stored_objects(app)) == 1
    assert [e["id"] for e in _all_evidence(victim)] == [evidence_id]
    assert download(victim, evidence_id).content == content
    assert read(victim, f"{EVIDENCE}/{evidence_id}")["sha256"] == sha256_of(content)


# Encryption at rest


def _files_under(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file())


def test_no_plaintext_of_an_uploaded_file_is_stored_anywhere(
    request: pytest.FixtureRequest,
    build_app: BuildApp,
    data_dir: Path,
    storage_url: str | None,
) -> None:
    """On SQLite the database lives in the data folder too (the single-machine default), so
    the records are searched with everything else."""
    sqlite = request.config.getoption("--db") == "sqlite"
    database = data_dir / "waymark.db"
    if sqlite:
        data_dir.mkdir(parents=True)
        upgrade_to_head(f"sqlite:///{database}")
    app = build_app(**({"database_url": f"sqlite:///{database}"} if sqlite else {}))
    marker = secrets.token_hex(32).encode()  # 64 bytes nobody else will ever write
    assert len(marker) == 64
    content = marker_text(marker.decode(), 3 * SEGMENT_SIZE + 999)
    with TestClient(app) as victim:
        register(victim)
        kept = upload_evidence(victim, content, filename="messages.txt", description="Texts")
        # A large upload still arriving, with a part staged and a tail waiting for more.
        unfinished = marker_text(marker.decode(), 3 * MiB)
        url = start_upload(victim, len(unfinished), {"filename": "later.txt"})
        assert tus_patch(victim, url, 0, unfinished[:1_300_001]).status_code == 204
        assert staged_data(app) != []
        # Positive control: the bytes are there to find when decrypted.
        assert marker in download(victim, kept["id"]).content
        if storage_url is not None:
            bodies = s3_object_bodies(app)
            assert bodies
            for key, body in bodies.items():
                assert marker not in body, key
        # SQLite keeps no lock on its write-ahead log, so it can be read while in use.
        wal = Path(f"{database}-wal")
        if wal.exists():
            assert marker not in wal.read_bytes()
    # Every connection closed before the database file itself is opened: closing another
    # handle on a file drops the POSIX locks SQLite holds on it.
    app.state.runtime.engine.dispose()

    searched = _files_under(data_dir)
    for path in searched:
        assert marker not in path.read_bytes(), path
    if sqlite:
        assert database in searched
    if storage_url is None:
        assert any(p.is_relative_to(data_dir / "blobs" / "objects") for p in searched)
        assert any(p.is_relative_to(data_dir / "blobs" / "staging") for p in searched)
