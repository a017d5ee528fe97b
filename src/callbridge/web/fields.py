"""Limits of the API's inputs: strings and JSON both databases can store, bounded integers.

PostgreSQL refuses NUL in text and JSON, and neither database driver can encode a lone UTF-16
surrogate (``"\\ud800"`` is valid JSON): such a value must be a 422 naming the field, never a
500 from the database. Lengths match the columns in ``storage/tables.py`` and
``connectors/local/tables.py``; integers stay within what a signed 32-bit column holds.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field

from callbridge.web.refusals import invalid

#: What a stored string may contain, as a JSON Schema pattern: no NUL. Lone surrogates are
#: refused too, but stay out of the pattern: they are not Unicode scalar values, so JSON Schema
#: tools built on UTF-8 strings cannot express them (a JSON surrogate pair decodes to one code
#: point, so emoji pass).
STORABLE_PATTERN = r"^[^\x00]*$"
#: Offsets, limits and counts stay below 2^31: every database integer type holds them.
MAX_INT = 2**31 - 1
#: A page of a list never skips more rows than this (offset pagination deeper is meaningless).
MAX_OFFSET = 1_000_000
#: Free-form JSON (integration config, matrix, explained events) stays small and shallow.
MAX_JSON_DEPTH = 8
MAX_JSON_ITEMS = 1_000
MAX_JSON_STRING = 10_000
#: The longest raw phone number kept (``crm_record_phones.raw``, ``calls.from_number``).
PHONE_LENGTH = 100
#: Time filters are clamped to this range: no stored time lies outside it.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
#: Our own ids are UUIDs (36 characters); the path parameter allows no more.
ID_LENGTH = 36


def storable(value: Any) -> Any:
    """Refuse a string neither database can store: one with NUL or a lone surrogate."""
    if isinstance(value, str):
        if "\x00" in value:
            raise invalid("text_with_nul")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise invalid("text_with_surrogate") from None
    return value


#: A string both databases can store; give its length bounds where it is used, e.g.
#: ``Annotated[Storable, Field(max_length=200)]``.
Storable = Annotated[
    str,
    BeforeValidator(storable),
    Field(json_schema_extra={"pattern": STORABLE_PATTERN}),
]
#: A display name (companies, teams, users, integrations: 200-character columns).
Name = Annotated[Storable, Field(min_length=1, max_length=200)]
#: A short free text such as an owner's name (200-character columns); may be empty.
Label = Annotated[Storable, Field(max_length=200)]
#: One of our ids in a body (a UUID, 36 characters).
Id = Annotated[Storable, Field(min_length=1, max_length=ID_LENGTH)]
#: A CRM record's or deal's name (300-character columns).
RecordName = Annotated[Storable, Field(min_length=1, max_length=300)]
#: An id given by a caller for a CRM's record or user (200-character columns).
Reference = Annotated[Storable, Field(min_length=1, max_length=200)]
#: Part of an e-mail address: no "@", no control character or space. Written without ``\s``,
#: whose meaning differs between regex engines (U+0085 is a space to Python, not to JavaScript).
_MAILBOX = r"[^@\x00-\x20\x7f]+"
_EMAIL = f"^{_MAILBOX}@{_MAILBOX}\\.{_MAILBOX}$"
#: An e-mail address (320-character columns); the storable check runs before the pattern.
Email = Annotated[
    str,
    BeforeValidator(storable),
    Field(max_length=320, pattern=_EMAIL, json_schema_extra={"pattern": _EMAIL}),
]
#: A phone number in any format, as typed (100-character columns).
Phone = Annotated[Storable, Field(min_length=1, max_length=PHONE_LENGTH)]


def _walk(value: Any, depth: int, budget: list[int]) -> None:
    budget[0] -= 1
    if budget[0] < 0:
        raise invalid("json_too_many_values", limit=MAX_JSON_ITEMS)
    if depth > MAX_JSON_DEPTH:
        raise invalid("json_too_deep", limit=MAX_JSON_DEPTH)
    if isinstance(value, str):
        storable(value)
        if len(value) > MAX_JSON_STRING:
            raise invalid("json_string_too_long", limit=MAX_JSON_STRING)
    elif isinstance(value, float) and not math.isfinite(value):
        raise invalid("json_not_finite")
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**63 - 1:
        raise invalid("json_integer_too_big")
    elif isinstance(value, dict):
        for key, item in value.items():
            storable(key)
            _walk(item, depth + 1, budget)
    elif isinstance(value, list):
        for item in value:
            _walk(item, depth + 1, budget)


def rfc3339(value: Any) -> Any:
    """Parse a date-time written as text; refuse numbers, which pydantic would take as epochs."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            raise invalid("not_a_date_time") from None
    return value


def clamp_time(value: datetime) -> datetime:
    """Return a filter time in UTC, clamped to [EARLIEST, LATEST] (year 1 at +14:00 included)."""
    try:
        utc = value.astimezone(UTC)
    except OverflowError:  # before year 1 or after 9999 once in UTC
        return EARLIEST if value.year < 2000 else LATEST
    return min(max(utc, EARLIEST), LATEST)


def storable_json(value: Any) -> Any:
    """Refuse free-form JSON a database cannot store or that is unreasonably large."""
    _walk(value, 0, [MAX_JSON_ITEMS])
    return value


#: A time filter: RFC 3339 with an offset (a naive time is a 422), clamped to the stored range.
Since = Annotated[AwareDatetime, BeforeValidator(rfc3339), AfterValidator(clamp_time)]
JsonObject = Annotated[dict[str, Any], AfterValidator(storable_json)]
#: A page's offset and size, for list routes.
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Rows to skip")]
Limit = Annotated[int, Query(ge=1, le=500, description="Rows to return")]
#: A path id of ours (a UUID); a longer one, or one with NUL, is a 422 before any query runs.
PathId = Annotated[Storable, Path(min_length=1, max_length=ID_LENGTH)]
