"""Hostile files: each is refused with a clear 4xx or kept byte-exact under a safe name, the
server stays healthy, and nothing lands outside the blob store."""

import hashlib
import io
import struct
import zipfile
import zlib
from pathlib import Path

import httpx2
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app.config import Settings
from tests.factories.accounts import register

EVIDENCE = "/api/v1/evidence"


def _jpeg(size: tuple[int, int] = (40, 30), exif: bytes | None = None) -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", size, (90, 20, 20))
    if exif is None:
        image.save(buffer, "JPEG")
    else:
        image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims an enormous image (a decompression bomb's shape)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def _polyglot() -> bytes:
    """A JPEG with a ZIP appended: image viewers show the photo, unzip finds a file."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("payload.txt", "hidden")
    return _jpeg() + archive.getvalue()


def _big_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010E] = "x" * 60_000  # ImageDescription: as much as one JPEG segment holds
    return exif.tobytes()


def _jpeg_with_many_app_segments() -> bytes:
    """Megabytes of metadata: one full EXIF segment and 60 more 60 KB application segments."""
    base = _jpeg(exif=_big_exif())
    filler = b"".join(b"\xff\xe9" + struct.pack(">H", 60_002) + b"m" * 60_000 for _ in range(60))
    return base[:2] + filler + base[2:]


def _upload(client: TestClient, name: str, data: bytes) -> httpx2.Response:
    return client.post(EVIDENCE, files={"file": (name, data, "image/jpeg")})


def _files_outside_store(settings: Settings) -> list[Path]:
    blobs = settings.data_dir / "blobs"
    return [
        path
        for path in settings.data_dir.rglob("*")
        if path.is_file()
        and blobs not in path.parents
        and path.parent.name != "keys"
        and not path.name.startswith("waymark.db")
    ]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("holiday.jpg", b"MZ\x90\x00\x03" + b"\x00" * 5000),
        ("photo.jpg", b"\x7fELF\x02\x01\x01" + b"\x00" * 5000),
        ("page.jpg", b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>"),
        ("drawing.jpg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        ("archive.jpg", b"PK\x03\x04" + b"\x00" * 5000),
    ],
    ids=["windows-executable", "linux-executable", "html", "svg", "zip"],
)
def test_dangerous_kinds_are_refused_and_nothing_is_kept(
    client: TestClient, settings: Settings, name: str, data: bytes
) -> None:
    register(client)
    response = client.post(EVIDENCE, files={"file": (name, data, "image/jpeg")})
    assert response.status_code == 415
    assert response.headers["content-type"].startswith("application/problem+json")
    assert client.get(EVIDENCE).json()["items"] == []
    assert not [p for p in (settings.data_dir / "blobs").rglob("*") if p.is_file()]


@pytest.mark.parametrize(
    ("name", "data", "media_type"),
    [
        ("polyglot.jpg", _polyglot(), "image/jpeg"),
        ("huge.png", _png_claiming(50_000, 50_000), "image/png"),
        ("exif.jpg", _jpeg_with_many_app_segments(), "image/jpeg"),
        (
            "clip.mp4",
            b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"
            + b"\x00\x00\x10\x00moov"
            + b"\x01" * 100,
            "video/mp4",
        ),
    ],
    ids=["jpeg-zip-polyglot", "50000x50000-png", "megabytes-of-exif", "truncated-mp4"],
)
def test_odd_files_are_kept_byte_exact_and_served_safely(
    client: TestClient, settings: Settings, name: str, data: bytes, media_type: str
) -> None:
    register(client)
    response = _upload(client, name, data)
    assert response.status_code == 201, response.text
    record = response.json()
    assert record["media_type"] == media_type
    assert record["sha256"] == hashlib.sha256(data).hexdigest()
    # Whatever the file claims about itself stays small.
    assert len(str(record["metadata"])) < 4096
    content = client.get(f"{EVIDENCE}/{record['id']}/content")
    assert content.content == data
    assert content.headers["content-type"] == media_type
    assert content.headers["x-content-type-options"] == "nosniff"
    assert content.headers["content-disposition"].startswith("attachment;")
    if name == "huge.png":
        assert record["has_thumbnail"] is False  # never decoded
    assert client.get("/api/v1/health").json()["status"] == "ok"
    assert _files_outside_store(settings) == []


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("../../../etc/passwd.jpg", "passwd.jpg"),
        ("..\\..\\windows\\photo.jpg", "photo.jpg"),
        ("door\x00.jpg.exe", None),  # the client percent-encodes the NUL; either way, none stored
        ("invoice\u202egpj.exe", "invoicegpj.exe"),
        ("a" * 10_000 + ".jpg", None),
    ],
    ids=[
        "dot-dot-slash",
        "backslashes",
        "nul",
        "right-to-left-override",
        "ten-thousand-characters",
    ],
)
def test_filenames_are_cleaned_for_display(
    client: TestClient, settings: Settings, name: str, shown: str | None
) -> None:
    register(client)
    response = client.post(EVIDENCE, files={"file": (name, _jpeg(), "image/jpeg")})
    assert response.status_code == 201, response.text
    display = response.json()["original_filename"]
    if shown is not None:
        assert display == shown
    assert len(display) <= 255
    assert display.endswith(".jpg") or display.endswith(".exe")
    assert not any(c in display for c in "/\\\x00\u202e")
    disposition = client.get(f"{EVIDENCE}/{response.json()['id']}/content").headers[
        "content-disposition"
    ]
    assert "/" not in disposition.split("filename*=")[0]
    assert _files_outside_store(settings) == []
