"""Small typed helpers for evidence: valid files made in memory, uploads by multipart and by
tus as a phone would send them, and a look at what the blob store holds afterwards."""

import base64
import hashlib
import io
import secrets
import struct
import uuid
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import ExifTags, Image, TiffImagePlugin

from app.config import Settings
from app.services import passwords
from app.storage.local import LocalBlobStore
from app.storage.s3 import S3BlobStore

API = "/api/v1"
EVIDENCE = f"{API}/evidence"
UPLOADS = f"{API}/uploads"
TUS = {"Tus-Resumable": "1.0.0"}
OFFSET_STREAM = "application/offset+octet-stream"

MiB = 1024 * 1024


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def evidence_settings(
    data_dir: Path, database_url: str, storage_url: str | None, **overrides: Any
) -> Settings:
    """Settings like tests/conftest.py's, on the given blob store (None: the data folder)."""
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": database_url,
        "environment": "development",
        "static_dir": data_dir.parent / "no-pwa",
        "storage_url": storage_url,
        "password_hashing": passwords.in_use(),  # the test's cost (tests/conftest.py)
    }
    return Settings(**(values | overrides))


# Files a victim keeps, made in memory.


@dataclass(frozen=True)
class PhotoClaims:
    """What a phone writes into a photo's EXIF."""

    taken: str = "2026:09:30 18:45:12"  # local time, as EXIF writes it
    offset: str | None = "+01:00"
    make: str = "Google"
    model: str = "Pixel 8"
    # Degrees, minutes, seconds and hemisphere: 52°12'18"N 0°7'30"E is 52.205, 0.125.
    latitude: tuple[int, int, int, str] | None = (52, 12, 18, "N")
    longitude: tuple[int, int, int, str] | None = (0, 7, 30, "E")


def photo_exif(claims: PhotoClaims) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = claims.make
    exif[ExifTags.Base.Model] = claims.model
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    sub[ExifTags.Base.DateTimeOriginal] = claims.taken
    if claims.offset is not None:
        sub[ExifTags.Base.OffsetTimeOriginal] = claims.offset
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    for value, reference_tag, value_tag in (
        (claims.latitude, ExifTags.GPS.GPSLatitudeRef, ExifTags.GPS.GPSLatitude),
        (claims.longitude, ExifTags.GPS.GPSLongitudeRef, ExifTags.GPS.GPSLongitude),
    ):
        if value is not None:
            degrees, minutes, seconds, hemisphere = value
            gps[reference_tag] = hemisphere
            gps[value_tag] = tuple(
                TiffImagePlugin.IFDRational(part) for part in (degrees, minutes, seconds)
            )
    return exif


def jpeg_photo(
    claims: PhotoClaims | None = PhotoClaims(), size: tuple[int, int] = (64, 48)
) -> bytes:
    """A small JPEG; with claims, EXIF capture time and zone, device and GPS."""
    out = io.BytesIO()
    image = Image.new("RGB", size, (200, 30, 30))
    if claims is None:
        image.save(out, "JPEG")
    else:
        image.save(out, "JPEG", exif=photo_exif(claims))
    return out.getvalue()


def png_screenshot(size: tuple[int, int] = (40, 80)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 240)).save(out, "PNG")
    return out.getvalue()


def heic_photo(claims: PhotoClaims | None = None, size: tuple[int, int] = (32, 32)) -> bytes:
    """An iPhone's kind of photo (HEIC), with EXIF when claims are given."""
    from pillow_heif import register_heif_opener

    register_heif_opener()
    out = io.BytesIO()
    image = Image.new("RGB", size, (30, 160, 60))
    if claims is None:
        image.save(out, "HEIF")
    else:
        image.save(out, "HEIF", exif=photo_exif(claims))
    return out.getvalue()


def png_bomb(width: int = 9000, height: int = 9000) -> bytes:
    """A small, valid PNG of far more pixels than any phone takes (81 million by default,
    all black): a decompression bomb, tens of kilobytes that decode to tens of megabytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    compressor = zlib.compressobj(9)
    row = b"\x00" * (width + 1)  # filter byte, then the row
    rows = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


def iso_media(payload: bytes | int = 4096, brand: bytes = b"isom") -> bytes:
    """An MP4-like file (MOV, 3GP, M4A… by brand): a real ftyp box, then an mdat box holding
    `payload` (or that many random bytes)."""
    assert len(brand) == 4
    body = secrets.token_bytes(payload) if isinstance(payload, int) else payload
    ftyp = struct.pack(">I", 24) + b"ftyp" + brand + b"\x00\x00\x02\x00" + brand + b"mp41"
    return ftyp + struct.pack(">I", 8 + len(body)) + b"mdat" + body


def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body


def mp4_with_movie_header(created: datetime, duration_ms: int, payload: int = 2000) -> bytes:
    """An MP4 whose moov/mvhd box says when it was made (UTC, from 1904) and how long it is."""
    seconds = int((created - datetime(1904, 1, 1, tzinfo=UTC)).total_seconds())
    matrix = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    mvhd = _box(
        b"mvhd",
        b"\x00\x00\x00\x00"  # version 0, no flags
        + struct.pack(">IIII", seconds, seconds, 1000, duration_ms)  # timescale: ms
        + struct.pack(">IH", 0x00010000, 0x0100)  # rate 1.0, volume 1.0
        + b"\x00" * 10
        + matrix
        + b"\x00" * 24
        + struct.pack(">I", 2),  # next track id
    )
    ftyp = _box(b"ftyp", b"isom\x00\x00\x02\x00isommp41")
    return ftyp + _box(b"moov", mvhd) + _box(b"mdat", secrets.token_bytes(payload))


def iso_media_of_size(total: int, brand: bytes = b"isom") -> bytes:
    """An MP4-like file of exactly `total` bytes."""
    return iso_media(total - 32, brand)


def call_log_csv(rows: int = 12) -> bytes:
    lines = ["date,time,number,direction,duration_seconds"]
    for n in range(rows):
        lines.append(f"2026-09-{1 + n % 28:02d},21:{n % 60:02d},07700900{n:03d},incoming,{n * 3}")
    return ("\n".join(lines) + "\n").encode()


def saved_email() -> bytes:
    return (
        b"Received: from mail.example.net by mx.example.org; Tue, 30 Sep 2026 21:04:00 +0100\r\n"
        b"From: Someone <someone@example.net>\r\n"
        b"To: Alex <alex@example.org>\r\n"
        b"Subject: I saw you today\r\n"
        b"Date: Tue, 30 Sep 2026 21:03:00 +0100\r\n"
        b"Message-ID: <1@example.net>\r\n"
        b"\r\n"
        b"You were wearing the blue coat.\r\n"
    )


def text_note(text: str = "He called fourteen times last night. I did not answer.\n") -> bytes:
    return text.encode()


def windows_executable(size: int = 20_000) -> bytes:
    """A PE file's opening (DOS stub, then PE header), padded."""
    head = (
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 46 + b"\x80\x00\x00\x00"
    )
    head += b"\x00" * (0x80 - len(head)) + b"PE\x00\x00\x4c\x01"
    return head + b"\x00" * (size - len(head))


def linux_executable(size: int = 20_000) -> bytes:
    head = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00"
    return head + b"\x00" * (size - len(head))


def marker_text(marker: str, size: int) -> bytes:
    """Plain text made of `marker` repeated, to look for in the store afterwards."""
    line = (marker + "\n").encode()
    return (line * (size // len(line) + 1))[:size]


# Uploads, as a phone sends them.


def multipart_body(
    fields: Sequence[tuple[str, str]],
    content: bytes,
    *,
    filename: str = "evidence.bin",
    content_type: str = "application/octet-stream",
    fields_after: Sequence[tuple[str, str]] = (),
) -> tuple[bytes, str]:
    """A multipart/form-data body written byte for byte (so a filename can carry what a
    hostile client would put in it), fields first, then the file. Returns body and type."""
    boundary = "waymark" + secrets.token_hex(12)
    parts: list[bytes] = []

    def field(name: str, value: str) -> bytes:
        return (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        ).encode()

    parts.extend(field(name, value) for name, value in fields)
    parts.append(
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    parts.extend(field(name, value) for name, value in fields_after)
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def send_evidence(
    client: TestClient,
    content: bytes,
    *,
    filename: str = "evidence.bin",
    content_type: str = "application/octet-stream",
    description: str | None = None,
    incident_ids: Iterable[str] | None = None,
    sha256: str | None = None,
    evidence_id: str | None = None,
) -> Any:
    """POST /evidence (multipart); the test inspects the response. A client id goes first."""
    fields: list[tuple[str, str]] = []
    if evidence_id is not None:
        fields.append(("id", evidence_id))
    if description is not None:
        fields.append(("description", description))
    if incident_ids is not None:
        fields.append(("incident_ids", ",".join(incident_ids)))
    if sha256 is not None:
        fields.append(("sha256", sha256))
    body, content_type_header = multipart_body(
        fields, content, filename=filename, content_type=content_type
    )
    return client.post(EVIDENCE, content=body, headers={"Content-Type": content_type_header})


def upload_evidence(client: TestClient, content: bytes, **options: Any) -> dict[str, Any]:
    """POST /evidence and expect it kept (201). Returns the evidence."""
    response = send_evidence(client, content, **options)
    assert response.status_code == 201, response.text
    record: dict[str, Any] = response.json()
    return record


def tus_metadata(values: Mapping[str, str]) -> str:
    return ",".join(
        f"{key} {base64.b64encode(value.encode()).decode()}" if value else key
        for key, value in values.items()
    )


def tus_create(
    client: TestClient, length: int, metadata: Mapping[str, str] | None = None, **headers: str
) -> Any:
    """POST /uploads; the test inspects the response."""
    sent = {**TUS, "Upload-Length": str(length)}
    if metadata:
        sent["Upload-Metadata"] = tus_metadata(metadata)
    sent.update({name.replace("_", "-"): value for name, value in headers.items()})
    return client.post(UPLOADS, headers=sent)


def start_upload(client: TestClient, length: int, metadata: Mapping[str, str] | None = None) -> str:
    """Create a tus upload and return its URL."""
    response = tus_create(client, length, metadata)
    assert response.status_code == 201, response.text
    location: str = response.headers["Location"]
    return location


def tus_patch(
    client: TestClient,
    url: str,
    offset: int,
    data: bytes,
    *,
    checksum: str | None = None,
    content_type: str = OFFSET_STREAM,
) -> Any:
    """PATCH a piece of an upload; the test inspects the response."""
    headers = {**TUS, "Upload-Offset": str(offset), "Content-Type": content_type}
    if checksum is not None:
        headers["Upload-Checksum"] = checksum
    return client.patch(url, content=data, headers=headers)


def tus_checksum(algorithm: str, data: bytes) -> str:
    digest = hashlib.new(algorithm, data).digest()
    return f"{algorithm} {base64.b64encode(digest).decode()}"


def upload_offset(client: TestClient, url: str) -> int:
    response = client.head(url, headers=TUS)
    assert response.status_code == 200, response.status_code
    return int(response.headers["Upload-Offset"])


def tus_send(
    client: TestClient, url: str, content: bytes, chunk_sizes: Iterable[int], start: int = 0
) -> Any:
    """Send `content` from `start` in PATCHes of the given sizes (the last takes the rest);
    every PATCH but the last must be 204. Returns the last response."""
    offset = start
    sizes = list(chunk_sizes)
    response: Any = None
    while offset < len(content):
        size = sizes.pop(0) if sizes else len(content) - offset
        response = tus_patch(client, url, offset, content[offset : offset + size])
        if offset + size < len(content):
            assert response.status_code == 204, response.text
            assert int(response.headers["Upload-Offset"]) == offset + size
        offset += size
    return response


def upload_by_tus(
    client: TestClient,
    content: bytes,
    metadata: Mapping[str, str] | None = None,
    chunk_sizes: Iterable[int] = (),
) -> dict[str, Any]:
    """A whole file by tus; returns the evidence it became."""
    url = start_upload(client, len(content), metadata)
    last = tus_send(client, url, content, chunk_sizes)
    assert last.status_code == 204, last.text
    assert int(last.headers["Upload-Offset"]) == len(content)
    evidence_url = last.headers["Location"]
    assert evidence_url == f"{EVIDENCE}/{url.rsplit('/', 1)[1]}"
    response = client.get(evidence_url)
    assert response.status_code == 200, response.text
    record: dict[str, Any] = response.json()
    return record


def download(client: TestClient, evidence_id: str, **headers: str) -> Any:
    return client.get(f"{EVIDENCE}/{evidence_id}/content", headers=headers)


# What the blob store holds.


def stored_objects(app: FastAPI) -> list[str]:
    """Every finished blob (originals and thumbnails) in the app's store."""
    store = app.state.runtime.blob_store
    if isinstance(store, LocalBlobStore):
        return sorted(p.name for p in store.objects.rglob("*") if p.is_file())
    assert isinstance(store, S3BlobStore)
    return [key for key in _s3_keys(store) if not key.startswith(store.prefix + "staging/")]


def staged_data(app: FastAPI) -> list[str]:
    """Everything of unfinished uploads: staging files, S3 tails and multipart uploads."""
    store = app.state.runtime.blob_store
    if isinstance(store, LocalBlobStore):
        return sorted(p.name for p in store.staging.iterdir())
    assert isinstance(store, S3BlobStore)
    prefix = store.prefix + "staging/"
    keys = [key for key in _s3_keys(store) if key.startswith(prefix)]
    pending = store.client.list_multipart_uploads(Bucket=store.bucket, Prefix=prefix)
    return keys + [f"multipart:{u['Key']}" for u in pending.get("Uploads", [])]


def _s3_keys(store: S3BlobStore) -> list[str]:
    keys: list[str] = []
    paginator = store.client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=store.bucket, Prefix=store.prefix):
        keys.extend(item["Key"] for item in page.get("Contents", []))
    return sorted(keys)


def s3_object_bodies(app: FastAPI) -> dict[str, bytes]:
    """Every object under the app's S3 prefix, read whole (the tests' files are small)."""
    store = app.state.runtime.blob_store
    assert isinstance(store, S3BlobStore)
    return {
        key: store.client.get_object(Bucket=store.bucket, Key=key)["Body"].read()
        for key in _s3_keys(store)
    }


def new_id() -> str:
    return str(uuid.uuid4())
