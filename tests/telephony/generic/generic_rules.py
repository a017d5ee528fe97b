"""The documented rule of every generic-schema field, as a test oracle.

Written from the table of ``docs/telephony/generic.md`` ("Limits"), not from the parser's code:
``refused(event, now)`` returns the fields a conforming ingest must refuse (empty: accept it),
and ``expected_text`` what a normalized free-text field must become.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

# The docs' table: refused when outside (minimum, maximum) characters or holding a control
# character or a lone surrogate.
TOKENS = {
    "id": (1, 255),
    "call.id": (1, 255),
    "call.crm_record_id": (1, 255),
    "call.agent.id": (1, 255),
    "call.agent.extension": (0, 255),
    "call.agent.email": (0, 320),
    "call.from": (0, 100),
    "call.to": (0, 100),
    "call.utm.tracking_number": (0, 100),
}
# Normalized free text, with its limit (the marker ends the cut text).
TEXTS = {
    "call.agent.name": 200,
    "call.disposition": 200,
    "call.notes": 20_000,
    "call.utm.source": 255,
    "call.utm.medium": 255,
    "call.utm.campaign": 255,
    "call.utm.term": 255,
    "call.utm.content": 255,
}
TAG_LIMIT, TAGS_LIMIT = 100, 100
TIMES = ("timestamp", "call.started_at", "call.answered_at", "call.ended_at")
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
AHEAD = timedelta(days=1)
DURATION_MAX = 604_800
URL_MAX = 2083

_BAD_IN_TOKENS = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def refused(event: dict[str, Any], now: datetime) -> set[str]:
    """Return the fields the docs say must be refused in ``event`` (empty: it is accepted).

    ``event`` is the decoded JSON, as the server reads it.
    """
    bad = {path for path, value in _leaves(event) if not _fits(path, value, now)}
    if event["type"] == "call.recording" and "recording_url" not in event["call"]:
        bad.add("call.recording_url")
    return bad


def _fits(path: str, value: Any, now: datetime) -> bool:
    """Tell whether one field's value obeys its documented limit (free text always does)."""
    if path in TOKENS:
        return _token_ok(value, *TOKENS[path])
    if path in TIMES:
        return _time_ok(value, now)
    if path == "call.duration":
        return _duration_ok(value)
    if path == "call.tags":
        return len(value) <= TAGS_LIMIT
    if path == "call.recording_url":
        return _url_ok(value)
    return True


def _leaves(event: dict[str, Any]) -> list[tuple[str, Any]]:
    found = [("id", event["id"]), ("timestamp", event["timestamp"])]
    for name, value in event["call"].items():
        if name in ("agent", "utm"):
            found += [(f"call.{name}.{key}", inner) for key, inner in value.items()]
        else:
            found.append((f"call.{name}", value))
    return found


def _token_ok(value: str | int, minimum: int, maximum: int) -> bool:
    text = str(value) if isinstance(value, int) else value
    return minimum <= len(text) <= maximum and not _BAD_IN_TOKENS.search(text)


def _time_ok(value: str | int, now: datetime) -> bool:
    if isinstance(value, str):
        moment = datetime.fromisoformat(value)
    else:
        moment = datetime.fromtimestamp(value / 1000 if abs(value) > 2e10 else value, UTC)
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:
        return False
    return EARLIEST <= utc <= now + AHEAD


def _duration_ok(value: int | float) -> bool:
    return float(value).is_integer() and 0 <= value <= DURATION_MAX


def _url_ok(url: str) -> bool:
    return not re.search("[\ud800-\udfff]", url) and len(url) <= URL_MAX


def expected_text(sent: str, limit: int) -> str:
    """Return what the docs say a free-text field becomes: cleaned, then cut with a marker."""
    cleaned = _SURROGATE.sub("\ufffd", _CONTROL.sub("", sent))
    if len(cleaned) <= limit:
        return cleaned
    marker = " … [truncated by Callbridge]" if limit == 20_000 else "…"
    return cleaned[: limit - len(marker)] + marker


def server_now() -> datetime:
    """Return the current time, as the server's clock reads it."""
    return datetime.fromtimestamp(time.time(), UTC)
