"""HTTP details of handing a file back: byte ranges and a safe Content-Disposition."""

import re
import unicodedata
from urllib.parse import quote

# Twenty digits hold any size a file can have; longer numbers are not worth converting.
_RANGE = re.compile(r"^bytes=(\d{0,20})-(\d{0,20})$", re.IGNORECASE)


class RangeNotSatisfiable(Exception):
    pass


def parse_range(header: str | None, size: int) -> tuple[int, int]:
    """[start, end) for a Range header; the whole file when there is none or it is in a unit
    other than bytes (RFC 9110 lets a server ignore those).

    A bytes range we cannot serve (malformed, backwards, past the end, or several ranges, which
    we do not send as multipart) is RangeNotSatisfiable: a 416 tells the client plainly rather
    than handing it a whole file it did not ask for.
    """
    if not header or not header.strip().lower().startswith("bytes="):
        return 0, size
    match = _RANGE.match(header.strip())
    if match is None:
        raise RangeNotSatisfiable()
    first, last = match.groups()
    if first == "" and last == "":
        raise RangeNotSatisfiable()
    if first == "":
        suffix = int(last)
        if suffix == 0:
            raise RangeNotSatisfiable()
        return max(0, size - suffix), size
    start = int(first)
    if last and int(last) < start:
        raise RangeNotSatisfiable()
    end = min(int(last) + 1, size) if last else size
    if start >= size or end <= start:
        raise RangeNotSatisfiable()
    return start, end


def content_disposition(filename: str) -> str:
    """attachment, with an ASCII fallback and the real name in RFC 6266/8187 form."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    ascii_name = re.sub(r"[^A-Za-z0-9._ -]", "_", ascii_name).strip() or "evidence"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
