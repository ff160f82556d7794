"""HTTP details of handing a file back: byte ranges and a safe Content-Disposition."""

import re
import unicodedata
from urllib.parse import quote

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class RangeNotSatisfiable(Exception):
    pass


def parse_range(header: str | None, size: int) -> tuple[int, int]:
    """[start, end) for a single-range Range header; the whole file when there is none or it
    is not one we serve (multiple ranges), as RFC 9110 allows."""
    if not header:
        return 0, size
    match = _RANGE.match(header.strip())
    if match is None:
        return 0, size
    first, last = match.groups()
    if first == "" and last == "":
        return 0, size
    if first == "":
        suffix = int(last)
        if suffix == 0:
            raise RangeNotSatisfiable()
        return max(0, size - suffix), size
    start = int(first)
    end = min(int(last) + 1, size) if last else size
    if start >= size or end <= start:
        raise RangeNotSatisfiable()
    return start, end


def content_disposition(filename: str) -> str:
    """attachment, with an ASCII fallback and the real name in RFC 6266/8187 form."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    ascii_name = re.sub(r"[^A-Za-z0-9._ -]", "_", ascii_name).strip() or "evidence"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
