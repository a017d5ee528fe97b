"""What a telephony delivery may carry: the limits every provider's fields obey before a 2xx.

A delivery answered 2xx must be processable: every value it holds must fit the columns it is
stored in and survive every later step (fold, match, CRM writes, the call history). Two kinds of
rule, one per kind of field:

- **Refused (422 naming the field and the limit):** values that identify or measure something:
  ids, phone numbers, e-mails, extensions, URLs, times, the duration. Changing them would merge
  two calls, log on the wrong record or write a wrong fact; the sender must fix them.
- **Normalized (accepted as cleaned):** free text a person typed (agent name, notes, disposition,
  tags, UTM values). Refusing would drop the whole call over one character, and platforms that
  retry every non-2xx would send it again forever; instead control characters (NUL included) are
  removed, lone surrogates become U+FFFD and text over the limit is cut with a visible marker.

Each provider's models use the annotated types below, so Aircall, Twilio or Ringover adapters
get the same limits by construction; ``docs/telephony/generic.md`` lists them per field.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, ValidationInfo
from pydantic_core import PydanticCustomError

from callbridge.errors import PayloadError

# Ids (event, call, agent, CRM record, delivery): columns are String(255).
ID_MAX = 255
# Phone numbers as sent (``calls.from_number``/``to_number`` are String(100)).
NUMBER_MAX = 100
# RFC 5321's longest address, the size of ``users.email``.
EMAIL_MAX = 320
# What pydantic's HttpUrl accepts, the longest URL common browsers open.
URL_MAX = 2083
# Agent name (``users.name`` is String(200)) and disposition (String(200) columns).
NAME_MAX = 200
DISPOSITION_MAX = 200
TAG_MAX = 100
TAGS_MAX = 100
UTM_MAX = 255
# CRMs cap notes (HubSpot's call body holds 65,536); 20,000 characters is a long conversation.
NOTES_MAX = 20_000
# Talk time: a week in seconds; longer is a unit mistake (milliseconds), not a call.
DURATION_MAX = 7 * 24 * 3600
# Times: nothing before this, nothing later than ``AHEAD`` past the server's clock.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
AHEAD = timedelta(days=1)
# The mark left where text was cut: short labels end with it, notes with the longer one.
CUT = "…"
NOTES_CUT = " … [truncated by Callbridge]"

# Control characters other than tab, line feed and carriage return: PostgreSQL text cannot hold
# NUL, and the others break CRMs' XML and JSON APIs without meaning anything to a reader.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Any surrogate left in a decoded str is a lone one (json joins escaped pairs into one code
# point); it cannot be encoded as UTF-8, so no database or JSON answer could carry it.
_SURROGATE = re.compile("[\ud800-\udfff]")
_NOT_IN_TOKENS = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


def clean(text: str) -> str:
    """Return ``text`` without control characters and with lone surrogates as U+FFFD."""
    return _SURROGATE.sub("\ufffd", _CONTROL.sub("", text))


def shorten(text: str, limit: int, cut: str = CUT) -> str:
    """Return ``text`` if it fits ``limit`` characters, else its start ending with ``cut``."""
    if len(text) <= limit:
        return text
    return text[: limit - len(cut)] + cut


def check_token(text: str, limit: int, what: str = "value", minimum: int = 1) -> str:
    """Return ``text`` if it is ``minimum`` to ``limit`` characters, without control characters
    or lone surrogates.

    Raises pydantic's custom error, so a model's error names the field that failed.
    """
    if not minimum <= len(text) <= limit:
        raise PydanticCustomError(
            "token_length",
            "{what} must be {minimum} to {limit} characters long, not {length}",
            {"what": what, "minimum": minimum, "limit": limit, "length": len(text)},
        )
    bad = _NOT_IN_TOKENS.search(text)
    if bad is not None:
        raise PydanticCustomError(
            "token_characters",
            "{what} must not contain control characters or lone surrogates; found {char} at "
            "position {position}",
            {"what": what, "char": f"U+{ord(bad.group()):04X}", "position": bad.start()},
        )
    return text


def check_time(moment: datetime, now: datetime) -> datetime:
    """Return ``moment`` in UTC if it lies from EARLIEST to ``now`` + AHEAD, else raise."""
    latest = now + AHEAD
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:  # year 1 at +14:00 is before year 1 in UTC: out of any window
        utc = None
    if utc is None or not EARLIEST <= utc <= latest:
        raise PydanticCustomError(
            "time_window",
            "must be from {earliest} to one day after the server's time ({latest})",
            {"earliest": _iso(EARLIEST), "latest": _iso(latest)},
        )
    return utc


def check_delivery_id(value: str, header: str = "webhook-id") -> str:
    """Return a delivery id header fit to store; raise PayloadError naming the header if not."""
    try:
        return check_token(value, ID_MAX, "the delivery id")
    except PydanticCustomError as err:
        raise PayloadError(header, err.message()) from err


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _integer_to_text(value: object) -> object:
    """Accept integers where text is expected: platforms send ids and numbers as big ints."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _token(limit: int, what: str, minimum: int, value: object) -> object:
    value = _integer_to_text(value)
    return check_token(value, limit, what, minimum) if isinstance(value, str) else value


def _text(limit: int, cut: str, value: object) -> object:
    return shorten(clean(value), limit, cut) if isinstance(value, str) else value


def _whole_seconds(value: object) -> object:
    """Read an integral float (``95.0``) as an integer; refuse booleans and out-of-range values."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or (isinstance(value, int) and not 0 <= value <= DURATION_MAX):
        raise PydanticCustomError(
            "duration_range",
            "must be a whole number of seconds from 0 to {limit} (7 days)",
            {"limit": DURATION_MAX},
        )
    return value


def _in_window(moment: datetime, info: ValidationInfo) -> datetime:
    context: dict[str, Any] = info.context or {}
    now = context.get("now") or datetime.now(UTC)
    return check_time(moment, now)


def _tokens(limit: int, what: str, minimum: int = 1) -> Any:
    return BeforeValidator(functools.partial(_token, limit, what, minimum))


def _texts(limit: int, cut: str = CUT) -> Any:
    return BeforeValidator(functools.partial(_text, limit, cut))


# Refused when out of bounds (validators run last to first: the check, then pydantic's str).
# Ids may not be empty; numbers, e-mails and extensions may (some PBXs send "" for "unknown").
Identifier = Annotated[str, Field(min_length=1, max_length=ID_MAX), _tokens(ID_MAX, "an id")]
ExtensionText = Annotated[str, Field(max_length=ID_MAX), _tokens(ID_MAX, "an extension", 0)]
PhoneText = Annotated[str, Field(max_length=NUMBER_MAX), _tokens(NUMBER_MAX, "a phone number", 0)]
EmailText = Annotated[str, Field(max_length=EMAIL_MAX), _tokens(EMAIL_MAX, "an e-mail address", 0)]
Duration = Annotated[int, Field(ge=0, le=DURATION_MAX), BeforeValidator(_whole_seconds)]
# The event and call times; validate with ``context={"now": server_time}``.
EventTime = Annotated[AwareDatetime, AfterValidator(_in_window)]

# Normalized: cleaned, then cut to the limit with a visible marker.
NameText = Annotated[str, _texts(NAME_MAX)]
DispositionText = Annotated[str, _texts(DISPOSITION_MAX)]
TagText = Annotated[str, _texts(TAG_MAX)]
UtmText = Annotated[str, _texts(UTM_MAX)]
NotesText = Annotated[str, _texts(NOTES_MAX, NOTES_CUT)]
