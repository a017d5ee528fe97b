"""Times on the screens: written by Babel in the page's language, in the company's time zone.

Times are stored in UTC; a company sets its zone (``companies.time_zone``, an IANA name, "UTC"
until set). Every page's templates write a time with ``at`` (``{{ at(call.started_at) }}``,
``at(moment, 'short')``) and a day with ``day``, made for its language and zone by ``render``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime

#: The zone of a page rendered for nobody signed in (the sign-in pages).
DEFAULT_ZONE = "UTC"


@cache
def zone_info(zone: str) -> ZoneInfo:
    """Return the zone named ``zone`` (validated when the company set it); UTC if unknown."""
    try:
        return ZoneInfo(zone)
    except (ValueError, OSError):  # a name the system no longer knows: UTC, never a 500
        return ZoneInfo(DEFAULT_ZONE)


def written(moment: datetime, language: str, zone: str, width: str = "medium") -> str:
    """Return ``moment`` as ``language`` writes a date and time (``width``) in ``zone``."""
    return format_datetime(moment, width, tzinfo=zone_info(zone), locale=language)


def day_written(moment: datetime, language: str, zone: str, width: str = "medium") -> str:
    """Return the day of ``moment`` in ``zone`` as ``language`` writes a date (``width``)."""
    return format_date(moment.astimezone(zone_info(zone)), width, locale=language)


def writers(language: str, zone: str) -> dict[str, Callable[..., str]]:
    """Return the templates' ``at`` (a time) and ``day`` (its day) for a page; none: a dash."""

    def at(moment: datetime | None, width: str = "medium") -> str:
        return "—" if moment is None else written(moment, language, zone, width)

    def day(moment: datetime | None, width: str = "medium") -> str:
        return "—" if moment is None else day_written(moment, language, zone, width)

    return {"at": at, "day": day}
