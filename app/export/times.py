"""Times as the pack shows them: one zone throughout, the victim's, named at every time.

An officer reads "22:15 BST" without doing sums; "22:15 (UTC+01:00)" beside "07:12 (UTC)" makes
them. So every time a person reads in the pack (the PDF, README.txt, the CSV's text columns) is
in the pack's zone with its abbreviation, BST or GMT for Europe/London. The files meant for
software (timeline.json, the CSV's `*_utc` columns, manifest.json) carry the UTC instant.

When the clocks go back, 01:00 to 01:59 happen twice; the abbreviation already tells the two
apart, and the text says so, because an officer comparing with a phone's call log needs to know.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

# The zone the pack is shown in. Waymark keeps no zone per person yet, so every pack uses this.
PACK_ZONE = ZoneInfo("Europe/London")


def in_zone(moment: datetime, zone: ZoneInfo = PACK_ZONE) -> datetime:
    return moment.astimezone(zone)


def _repeated_hour(local: datetime) -> bool:
    """Whether this wall-clock time happens twice in its zone (the hour the clocks go back)."""
    other = local.replace(fold=1 - local.fold)
    return other.utcoffset() != local.utcoffset()


def clock_note(local: datetime) -> str:
    """Words for a time in the hour the clocks go back, saying which of its two it is."""
    if not _repeated_hour(local):
        return ""
    offset = local.utcoffset() or timedelta(0)
    other = local.replace(fold=1 - local.fold).utcoffset() or timedelta(0)
    return (
        ", the first time that hour, before the clocks went back"
        if offset > other
        else ", the second time that hour, after the clocks went back"
    )


def zone_time(moment: datetime, zone: ZoneInfo = PACK_ZONE) -> str:
    """'Mon 03 Aug 2026, 22:15 BST': the day, date and time in the pack's zone, named."""
    local = in_zone(moment, zone)
    return f"{local:%a %d %b %Y, %H:%M} {local.tzname()}{clock_note(local)}"


def short_zone_time(moment: datetime, zone: ZoneInfo = PACK_ZONE) -> str:
    """'03 Aug 2026 22:15 BST', for tables and the CSV."""
    local = in_zone(moment, zone)
    return f"{local:%d %b %Y %H:%M} {local.tzname()}{clock_note(local)}"


def zone_date(moment: datetime, zone: ZoneInfo = PACK_ZONE) -> str:
    return f"{in_zone(moment, zone):%d %B %Y}"


def utc_instant(moment: datetime) -> str:
    """The UTC instant in ISO 8601 with a Z: '2026-08-03T21:15:00Z'."""
    text = moment.astimezone(UTC).isoformat()
    return text.removesuffix("+00:00") + "Z"


@dataclass(frozen=True)
class WallTime:
    """A file's clock reading with no zone (EXIF without OffsetTimeOriginal), placed in the
    pack's zone: the instant, and a note when the reading is ambiguous or impossible there."""

    instant: datetime
    note: str


def wall_time_in_zone(wall: datetime, zone: ZoneInfo = PACK_ZONE) -> WallTime:
    """`wall`'s date and time (its own zone, if any, ignored) as a time in `zone`.

    A reading in the repeated hour is taken as the first (summer time): the file cannot say
    which, and the note says so. One in the hour the clocks skip is taken at the offset before
    the change, as zoneinfo does, and the note says that too.
    """
    local = wall.replace(tzinfo=zone, fold=0)
    round_trip = local.astimezone(UTC).astimezone(zone)
    if round_trip.replace(tzinfo=None) != local.replace(tzinfo=None):
        note = (
            f"the file says {wall:%H:%M}, a time the clocks skipped that night "
            f"(read as {local:%H:%M} {local.tzname()})"
        )
    elif _repeated_hour(local):
        note = (
            f"{wall:%H:%M} happened twice that night and the file does not say which: "
            f"read as the first, {local.tzname()}"
        )
    else:
        note = ""
    return WallTime(local.astimezone(UTC), note)
