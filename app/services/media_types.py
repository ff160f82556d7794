"""What kind of file this is, from its bytes alone (docs/architecture.md, "What kinds of file
are kept"). The name and the type a phone claims are never trusted: a renamed executable stays
an executable.

Only the kinds of evidence victims keep are accepted: photos (HEIC included), video (MP4, MOV,
WebM, 3GP), audio and voicemail (AMR, M4A, MP3, WAV, OGG), PDF, plain text, CSV call logs and
saved emails. Everything else, HTML and SVG included (they can carry script), is refused.
"""

import csv
import io
from dataclasses import dataclass

import puremagic

# Enough for every signature below (ISO-BMFF brands, RIFF, Matroska, text heuristics).
SNIFF_BYTES = 8192


@dataclass(frozen=True)
class MediaType:
    mime: str
    extension: str  # for naming the file in an evidence pack


_ACCEPTED: dict[str, MediaType] = {
    mime: MediaType(mime, extension)
    for mime, extension in [
        ("image/jpeg", "jpg"),
        ("image/png", "png"),
        ("image/gif", "gif"),
        ("image/webp", "webp"),
        ("image/heic", "heic"),
        ("image/tiff", "tif"),
        ("image/bmp", "bmp"),
        ("video/mp4", "mp4"),
        ("video/quicktime", "mov"),
        ("video/webm", "webm"),
        ("video/3gpp", "3gp"),
        ("video/x-matroska", "mkv"),
        ("video/x-msvideo", "avi"),
        ("audio/mp4", "m4a"),
        ("audio/amr", "amr"),
        ("audio/mpeg", "mp3"),
        ("audio/wav", "wav"),
        ("audio/ogg", "ogg"),
        ("audio/aac", "aac"),
        ("audio/flac", "flac"),
        ("application/pdf", "pdf"),
        ("text/plain", "txt"),
        ("text/csv", "csv"),
        ("message/rfc822", "eml"),
    ]
}

# ISO base media files (MP4 and relatives) name their kind in the ftyp box's major brand.
_BRANDS = {
    "video/mp4": (
        "isom",
        "iso2",
        "iso4",
        "iso5",
        "iso6",
        "mp41",
        "mp42",
        "avc1",
        "dash",
        "m4v ",
        "mmp4",
        "msnv",
        "ndas",
        "f4v ",
    ),
    "video/quicktime": ("qt  ",),
    "video/3gpp": ("3gp4", "3gp5", "3gp6", "3gp7", "3ge6", "3ge7", "3gg6", "3g2a", "3g2b", "3g2c"),
    "audio/mp4": ("m4a ", "m4b ", "m4p "),
    "image/heic": ("heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1", "avif"),
}

# puremagic's names for what we accept, where they differ from ours.
_ALIASES = {
    "audio/wave": "audio/wav",
    "audio/x-wav": "audio/wav",
    "application/ogg": "audio/ogg",
    "image/heif": "image/heic",
    "audio/x-flac": "audio/flac",
    "image/x-ms-bmp": "image/bmp",
    "application/x-matroska": "video/x-matroska",
    "video/avi": "video/x-msvideo",
}
_EXTENSIONS = {".amr": "audio/amr", ".m4a": "audio/mp4", ".aac": "audio/aac", ".3gp": "video/3gpp"}

_EMAIL_HEADERS = (
    b"received:",
    b"from:",
    b"return-path:",
    b"date:",
    b"subject:",
    b"to:",
    b"mime-version:",
    b"message-id:",
    b"delivered-to:",
    b"x-",
)


def sniff(head: bytes) -> MediaType | None:
    """The accepted type these first bytes show, or None if the file is not accepted."""
    if head[4:8] == b"ftyp":
        brand = head[8:12].decode("latin-1").lower()
        for mime, brands in _BRANDS.items():
            if brand in brands:
                return _ACCEPTED[mime]
        return None
    binary = _binary_type(head)
    if binary is not None:
        return binary
    return _text_type(head)


def _binary_type(head: bytes) -> MediaType | None:
    try:
        matches = puremagic.magic_string(head)
    except (puremagic.PureError, ValueError):
        return None
    for match in sorted(matches, key=lambda m: -m.confidence):
        mime = _ALIASES.get(match.mime_type, match.mime_type) or _EXTENSIONS.get(
            match.extension, ""
        )
        if mime in _ACCEPTED and not mime.startswith(("text/", "message/")):
            return _ACCEPTED[mime]
    return None


def _text_type(head: bytes) -> MediaType | None:
    text = _decode(head)
    # Checked after decoding: UTF-16 text (with its BOM) is full of zero bytes, but no NULs.
    if text is None or "\x00" in text:
        return None  # binary, and of no kind we accept
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("<"):
        return None  # HTML, SVG or XML: markup can run script in a browser
    first = stripped.split("\n", 1)[0].lower().encode()
    if first.startswith(_EMAIL_HEADERS) and b":" in first:
        return _ACCEPTED["message/rfc822"]
    if _looks_like_csv(stripped):
        return _ACCEPTED["text/csv"]
    return _ACCEPTED["text/plain"]


def _decode(head: bytes) -> str | None:
    for encoding in (
        ("utf-8", "utf-16") if head[:2] in (b"\xff\xfe", b"\xfe\xff") else ("utf-8", "cp1252")
    ):
        try:
            # The sample may end in the middle of a character.
            return head.decode(encoding) if len(head) < SNIFF_BYTES else head[:-4].decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _looks_like_csv(text: str) -> bool:
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if len(lines) < 2:
        return False
    try:
        dialect = csv.Sniffer().sniff("\n".join(lines[:10]), delimiters=",;\t")
    except csv.Error:
        return False
    rows = list(csv.reader(io.StringIO("\n".join(lines[:-1] or lines)), dialect))
    widths = {len(row) for row in rows}
    return len(widths) == 1 and widths.pop() >= 2


def accepted(mime: str) -> MediaType | None:
    return _ACCEPTED.get(mime)
