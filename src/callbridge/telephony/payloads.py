"""What the providers' parsers share: JSON bodies, validation errors naming the field, UNIX times.

Every adapter decodes its body with :func:`load_json` and validates with :func:`validate`, so a
malformed delivery is refused the same way whatever the provider. Vendors' webhooks often carry
no event id and send times as UNIX seconds: :func:`event_id` gives each event a stable id (a
retried delivery is recognized as a duplicate) and :data:`UnixTime` reads the seconds.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError
from pydantic_core import PydanticCustomError

from callbridge.domain.said import Code, Said
from callbridge.errors import PayloadError
from callbridge.telephony.limits import EventTime

ModelT = TypeVar("ModelT", bound=BaseModel)


class VendorSchema(BaseModel):
    """Base of vendor models: immutable, unknown fields ignored (vendors add fields)."""

    model_config = ConfigDict(frozen=True, extra="ignore")


def _from_unix(value: object) -> object:
    """Read a UNIX time in seconds (integer or float) as an aware UTC datetime.

    Pydantic would read numbers past 2e10 as milliseconds; vendors here send seconds, so the
    conversion is explicit. Text is left to pydantic (ISO 8601 with an offset).
    """
    if isinstance(value, bool):
        raise PydanticCustomError("unix_time", "must be UNIX seconds, not a boolean")
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError) as err:
            raise PydanticCustomError(
                "unix_time", "is not a UNIX time in seconds ({value})", {"value": value}
            ) from err
    return value


# A time sent as UNIX seconds (or ISO 8601 text with an offset), within the limits' window.
UnixTime = Annotated[EventTime, BeforeValidator(_from_unix)]


def load_json(body: bytes) -> Any:
    """Decode the body as JSON, integers exact (never through a float); PayloadError on ``body``."""
    try:
        return json.loads(body, parse_constant=_refuse_constant)
    except UnicodeDecodeError as err:
        raise PayloadError("body", f"is not UTF-8 text: {err.reason}") from err
    except json.JSONDecodeError as err:
        raise PayloadError("body", f"is not valid JSON: {err}") from err
    except ValueError as err:  # an integer of more than 4300 digits
        raise PayloadError("body", f"is not usable JSON: {err}") from err
    except RecursionError as err:
        raise PayloadError("body", "is nested too deeply to be an event") from err


def _refuse_constant(name: str) -> Any:
    """Refuse NaN and Infinity, which Python's json reads but JSON does not define."""
    raise PayloadError("body", f"is not valid JSON: {name} is not a JSON number")


def json_object(document: Any) -> dict[str, Any]:
    """Return the decoded body if it is a JSON object; PayloadError on ``body`` if not."""
    if not isinstance(document, dict):
        raise PayloadError("body", f"expected an event object, got {json_type(document)}")
    return document


def validate(model: type[ModelT], data: Any, now: datetime, prefix: str = "") -> ModelT:
    """Validate ``data`` as ``model``, times bounded by ``now``; PayloadError names the field."""
    try:
        return model.model_validate(data, context={"now": now})
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        problem = first["msg"]
        if first["type"] == "model_type":  # pydantic's message names our class, not the JSON type
            problem = "Input should be an object"
        if first["type"] != "missing":
            problem += f" (got {_short_repr(first['input'])})"
        raise PayloadError(field_path(prefix, first["loc"]), problem) from err


def field_path(prefix: str, loc: tuple[int | str, ...]) -> str:
    """Spell a pydantic error location as a JSON path: ``data.tags[0].name``."""
    path = prefix + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)
    return path.lstrip(".")


def event_id(event: str, document: Mapping[str, Any]) -> str:
    """Return a stable id for a delivery that has none: the event and a digest of the document.

    A retry repeats the same document, so it gets the same id and is stored once; two events
    of one call in the same second differ in their data (tags, comments), so they do not collide.
    """
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()[:40]
    return f"{event}:{digest}"


def header(headers: Mapping[str, str], name: str) -> str | None:
    """Return a header's value whatever the case of its name (plain dicts in tests)."""
    value = headers.get(name)
    if value is not None:
        return value
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


def ignored_reason(what: str) -> str:
    """Say why a well-formed delivery was answered 2xx without a call event."""
    return Said(Code.NOT_A_CALL_EVENT, what=what)


def json_type(value: object) -> str:
    """Name a decoded JSON value's type the way JSON does."""
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number")


def _short_repr(value: object) -> str:
    """Return a repr of a bad input short enough for an error message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
