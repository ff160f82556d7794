"""What kind of file this is, from its first bytes alone: the allowlist in docs/architecture.md
("What kinds of file are kept")."""

import io
import secrets
import struct
import wave
import zipfile
from collections.abc import Callable

import pytest
from PIL import Image

from app.services.media_types import SNIFF_BYTES, accepted, sniff
from tests.factories.evidence import (
    call_log_csv,
    heic_photo,
    iso_media,
    jpeg_photo,
    linux_executable,
    png_screenshot,
    saved_email,
    text_note,
    windows_executable,
)


def _head(content: bytes) -> bytes:
    """What the upload paths hand to sniff(): at most the first SNIFF_BYTES."""
    return content[:SNIFF_BYTES]


def _image(kind: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(out, kind)
    return out.getvalue()


def _wav() -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(8000)
        audio.writeframes(b"\x00\x01" * 4000)
    return out.getvalue()


def _zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


# An MPEG audio frame header: MPEG-1 layer III, 128 kbit/s, 44.1 kHz (417-byte frames).
_MP3_FRAME = b"\xff\xfb\x90\x64" + b"\x00" * 413


ACCEPTED: list[tuple[str, Callable[[], bytes], str]] = [
    ("jpeg", jpeg_photo, "image/jpeg"),
    ("png", png_screenshot, "image/png"),
    ("heic", heic_photo, "image/heic"),
    ("gif", lambda: _image("GIF"), "image/gif"),
    ("webp", lambda: _image("WEBP"), "image/webp"),
    ("mp4", lambda: iso_media(2000, b"isom"), "video/mp4"),
    ("mp4-mp42", lambda: iso_media(2000, b"mp42"), "video/mp4"),
    ("mov", lambda: iso_media(2000, b"qt  "), "video/quicktime"),
    ("3gp", lambda: iso_media(2000, b"3gp4"), "video/3gpp"),
    ("m4a", lambda: iso_media(2000, b"M4A "), "audio/mp4"),
    ("amr", lambda: b"#!AMR\n" + b"\x3c" + secrets.token_bytes(31) * 20, "audio/amr"),
    ("mp3-id3", lambda: b"ID3\x04\x00\x00\x00\x00\x00\x00" + _MP3_FRAME * 3, "audio/mpeg"),
    ("mp3-frames", lambda: _MP3_FRAME * 4, "audio/mpeg"),
    ("wav", _wav, "audio/wav"),
    (
        "ogg",
        lambda: b"OggS\x00\x02" + b"\x00" * 20 + b"\x01\x1e\x01vorbis" + b"\x00" * 40,
        "audio/ogg",
    ),
    ("pdf", lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< >>\nendobj\n", "application/pdf"),
    ("text", text_note, "text/plain"),
    ("text-utf8", lambda: "Il m'a suivi jusqu'à la gare. 🚉\n".encode(), "text/plain"),
    ("text-cp1252", lambda: "He said “I know where you are”\n".encode("cp1252"), "text/plain"),
    (
        "text-utf16",
        lambda: b"\xff\xfe" + "He sent 40 messages overnight.\r\n".encode("utf-16-le"),
        "text/plain",
    ),
    ("csv", call_log_csv, "text/csv"),
    ("csv-semicolons", lambda: call_log_csv().replace(b",", b";"), "text/csv"),
    ("eml", saved_email, "message/rfc822"),
]


@pytest.mark.parametrize(
    ("make", "media_type"), [(m, t) for _, m, t in ACCEPTED], ids=[n for n, _, _ in ACCEPTED]
)
def test_the_kinds_of_evidence_victims_keep_are_accepted(
    make: Callable[[], bytes], media_type: str
) -> None:
    found = sniff(_head(make()))
    assert found is not None
    assert found.mime == media_type
    assert accepted(media_type) == found


REFUSED: list[tuple[str, bytes]] = [
    ("pe", windows_executable()),
    ("elf", linux_executable()),
    ("mach-o", b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + b"\x00" * 200),
    ("zip", _zip()),
    ("random-binary", b"\x00" + secrets.token_bytes(4000)),
    ("html", b"<!doctype html><html><body><script>alert(1)</script></body></html>"),
    ("html-after-whitespace", b"\r\n\t   <html><script>alert(1)</script></html>"),
    ("html-after-utf8-bom", b"\xef\xbb\xbf<html><script>alert(1)</script></html>"),
    ("html-utf16", b"\xff\xfe" + "<html><script>alert(1)</script></html>".encode("utf-16-le")),
    ("svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
    ("xml", b'<?xml version="1.0" encoding="UTF-8"?>\n<note>hello</note>'),
    ("unknown-ftyp-brand", iso_media(2000, b"crx ")),
    ("pe-behind-a-utf16-bom", b"\xff\xfe" + windows_executable()),
]


@pytest.mark.parametrize("content", [c for _, c in REFUSED], ids=[n for n, _ in REFUSED])
def test_everything_else_is_refused(content: bytes) -> None:
    assert sniff(_head(content)) is None


def test_no_type_a_browser_would_run_is_on_the_allowlist() -> None:
    for mime in (
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/xml",
        "application/xml",
        "application/javascript",
        "text/javascript",
        "application/x-msdownload",
        "application/zip",
        "application/octet-stream",
    ):
        assert accepted(mime) is None, mime


def test_a_jpeg_zip_polyglot_is_a_jpeg() -> None:
    """A photo with an archive appended (a trick to smuggle files) is taken as what it starts
    as: kept byte-exact, served as image/jpeg, as an attachment, with nosniff (see the API
    tests), so neither a browser nor the phone opens it as an archive."""
    found = sniff(_head(jpeg_photo() + _zip()))
    assert found is not None and found.mime == "image/jpeg"


def test_a_script_is_plain_text() -> None:
    """Text is text: a shell script or JavaScript is kept as text/plain, which a browser shows
    and never runs (served as an attachment with nosniff)."""
    for content in (b"#!/bin/sh\nrm -rf ~\n", b"alert(document.cookie)\n"):
        found = sniff(content)
        assert found is not None and found.mime == "text/plain"


def test_text_cut_in_the_middle_of_a_character_is_still_text() -> None:
    content = ("a" + "é" * SNIFF_BYTES).encode()
    head = _head(content)
    assert len(head) == SNIFF_BYTES
    with pytest.raises(UnicodeDecodeError):
        head.decode("utf-8")
    found = sniff(head)
    assert found is not None and found.mime == "text/plain"


def test_only_the_opening_bytes_decide() -> None:
    """An executable appended to a text file cannot change what the file is taken for, and
    one placed first is refused however the file goes on."""
    text_first = text_note("a" * SNIFF_BYTES) + windows_executable()
    found = sniff(_head(text_first))
    assert found is not None and found.mime == "text/plain"
    assert sniff(_head(windows_executable(100) + text_note("a" * SNIFF_BYTES))) is None


def test_an_ftyp_box_decides_by_its_major_brand() -> None:
    ftyp = struct.pack(">I", 20) + b"ftyp" + b"qt  " + b"\x00" * 8
    found = sniff(ftyp)
    assert found is not None and found.mime == "video/quicktime"
    assert sniff(struct.pack(">I", 20) + b"ftyp" + b"zzzz" + b"\x00" * 8) is None
