"""What a file says about itself: capture time, device, place, duration, size in pixels.

All of it is a claim made by the file (and so by whoever made the file), labelled as such in
the API and the pack. Parsing runs on a seekable plaintext view of the blob with limits, and
any failure simply means "the file says nothing".
"""

import contextlib
import io
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from typing import TYPE_CHECKING, Any

from app.models.types import LOCAL_ZONE, LOCAL_ZONE_NAME

if TYPE_CHECKING:
    from PIL.Image import Image as PillowImage

# Pillow (with libheif) and hachoir are imported on first use, not with the server: together
# they hold some 20 MiB that a process only needs once a photo, or a video or recording,
# arrives.

# A photo from any phone is under 50 megapixels; a file claiming far more is a decompression
# bomb (a tiny file that expands to gigabytes) and is not decoded.
MAX_IMAGE_PIXELS = 60_000_000
THUMBNAIL_SIZE = (320, 320)


@cache
def _set_up_pillow() -> None:
    from PIL import Image
    from pillow_heif import register_heif_opener

    register_heif_opener()
    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS


@contextlib.contextmanager
def _decoding_untrusted_images() -> Iterator[None]:
    """Pillow, ready for HEIC, with a decompression bomb an error rather than a warning."""
    _set_up_pillow()
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        yield


@cache
def _set_up_hachoir() -> None:
    from hachoir.core import config

    # hachoir prints its warnings to standard output, outside the structured logs.
    config.quiet = True


@dataclass
class FileClaims:
    captured_at: datetime | None = None
    details: dict[str, Any] = field(default_factory=dict)


def read_claims(plaintext: io.RawIOBase, media_type: str) -> FileClaims:
    """What a video or audio file says about itself (photos: examine_image)."""
    with contextlib.suppress(Exception):
        if media_type.startswith(("video/", "audio/")):
            return _media_claims(plaintext)
    return FileClaims()


def _exif_time(text: Any, offset: Any) -> tuple[datetime | None, bool]:
    if not isinstance(text, str):
        return None, False
    try:
        moment = datetime.strptime(text.strip("\x00 "), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None, False
    if isinstance(offset, str) and len(offset) == 6 and offset[0] in "+-":
        sign = 1 if offset[0] == "+" else -1
        hours, minutes = int(offset[1:3]), int(offset[4:6])
        zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
        return moment.replace(tzinfo=zone), True
    # No zone in the file: the phone's clock was UK time (LOCAL_ZONE), and the record says it
    # was assumed. Read as UTC it would show an hour out all summer.
    return moment.replace(tzinfo=LOCAL_ZONE), False


def _gps(gps: dict[int, Any]) -> dict[str, float] | None:
    def degrees(values: Any, reference: Any, negative: str) -> float:
        d, m, s = (float(v) for v in values)
        result = d + m / 60 + s / 3600
        return -result if reference == negative else result

    try:
        return {
            "latitude": round(degrees(gps[2], gps[1], "S"), 6),
            "longitude": round(degrees(gps[4], gps[3], "W"), 6),
        }
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None


def _exif_claims(image: "PillowImage") -> FileClaims:
    from PIL import ExifTags

    details: dict[str, Any] = {"width": image.width, "height": image.height}
    exif = image.getexif()
    claims = FileClaims(details=details)
    if not exif:
        return claims
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    for tag, name in (
        (ExifTags.Base.Make, "device_make"),
        (ExifTags.Base.Model, "device_model"),
        (ExifTags.Base.Software, "software"),
    ):
        if isinstance(exif.get(tag), str):
            details[name] = exif[tag].strip("\x00 ")[:100]
    moment, zone_known = _exif_time(
        sub.get(ExifTags.Base.DateTimeOriginal) or exif.get(ExifTags.Base.DateTime),
        sub.get(ExifTags.Base.OffsetTimeOriginal),
    )
    if moment is not None:
        claims.captured_at = moment
        details["capture_time_zone_known"] = zone_known
        if not zone_known:
            details["capture_time_zone_assumed"] = LOCAL_ZONE_NAME
    gps = _gps(exif.get_ifd(ExifTags.IFD.GPSInfo))
    if gps:
        details["gps"] = gps
    return claims


def _media_claims(plaintext: io.RawIOBase) -> FileClaims:
    _set_up_hachoir()
    from hachoir.metadata import extractMetadata
    from hachoir.parser import createParser

    plaintext.seek(0)
    # createParser takes a file object (it wraps it in a hachoir stream itself).
    parser = createParser(io.BufferedReader(plaintext))
    if parser is None:
        return FileClaims()
    with parser:
        metadata = extractMetadata(parser)
    if metadata is None:
        return FileClaims()
    details: dict[str, Any] = {}
    claims = FileClaims(details=details)
    if metadata.has("duration"):
        details["duration_seconds"] = round(metadata.get("duration").total_seconds(), 3)
    for key, name in (("width", "width"), ("height", "height")):
        if metadata.has(key):
            details[name] = int(metadata.get(key))
    if metadata.has("creation_date"):
        created = metadata.get("creation_date")
        # MP4 and QuickTime store creation time in UTC; 1904/1970 epochs mean "not set".
        if isinstance(created, datetime) and created.year > 1971:
            claims.captured_at = created.replace(tzinfo=UTC) if created.tzinfo is None else created
            details["capture_time_zone_known"] = True
    return claims


def examine_image(plaintext: io.RawIOBase) -> tuple[FileClaims, bytes | None]:
    """A photo's claims and a small JPEG preview (None if one cannot be made safely), from one
    opening of the file. A PNG's EXIF may follow its pixels, so Pillow decodes the whole image
    to find it; the preview then reuses that decode instead of making a second."""
    claims, preview = FileClaims(), None
    with contextlib.suppress(Exception), _decoding_untrusted_images():
        from PIL import Image

        plaintext.seek(0)
        with Image.open(io.BufferedReader(plaintext)) as image:
            with contextlib.suppress(Exception):
                claims = _exif_claims(image)  # before draft(), which changes the size
            preview = _preview(image)
    return claims, preview


def _preview(image: "PillowImage") -> bytes:
    from PIL import ImageOps

    image.draft("RGB", THUMBNAIL_SIZE)  # JPEG not yet decoded: decode at reduced size
    preview = ImageOps.exif_transpose(image).convert("RGB")
    preview.thumbnail(THUMBNAIL_SIZE)
    out = io.BytesIO()
    preview.save(out, "JPEG", quality=80)  # no EXIF: the preview carries no GPS
    return out.getvalue()
