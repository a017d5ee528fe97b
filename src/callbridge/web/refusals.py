"""One shape per refusal, documented once: ``{"detail": "..."}`` or 422's list of field errors.

Every 422 of the API has FastAPI's validation shape, ``{"detail": [{"loc", "msg", "type"}]}``,
whether pydantic or a route's own rule refused the request: ``loc`` names the field, so a
client handles one shape. 401, 403, 404, 409 and 413 answer ``{"detail": "<message>"}``.
Routers declare the statuses they can answer with the shared ``responses`` below.

A route's own refusal is said with a code (``refusal_codes.refusal``): a 422 entry's ``type`` is the
code and its ``ctx`` the values it names; any other refusal adds ``code`` and ``params`` beside
``detail`` (``api/app.py``). The English ``msg`` and ``detail`` stay as they were.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from fastapi import HTTPException, Request
from pydantic import BaseModel, Field
from pydantic_core import PydanticCustomError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from callbridge.refusal_codes import CODES, Refusal

#: An echoed input longer than this is cut: a refusal never returns a whole large body.
ECHO_LIMIT = 200


class Message(BaseModel):
    """A refusal that names no field: what went wrong and what to do."""

    detail: str
    code: str | None = Field(
        default=None, description="The refusal's stable code, for programs and translations"
    )
    params: dict[str, str | int] | None = Field(
        default=None, description="The values the refusal names, by the code's parameter names"
    )


def refuse(loc: Sequence[str | int], message: str, kind: str = "value_error") -> HTTPException:
    """Return the 422 to raise for the field at ``loc`` (e.g. ``("body", "team_id")``)."""
    return HTTPException(422, [field_entry(loc, message, kind)])


def field_entry(
    loc: Sequence[str | int], message: str, kind: str = "value_error"
) -> dict[str, Any]:
    """Return one 422 entry: a ``Refusal`` gives its code as ``type`` and its values as ``ctx``."""
    if isinstance(message, Refusal):
        ctx = {key: safe_input(value) for key, value in message.params.items()}
        return {"loc": list(loc), "msg": message, "type": message.code, "ctx": ctx}
    return {"loc": list(loc), "msg": message, "type": kind}


def invalid(code: str, **params: str | int) -> PydanticCustomError:
    """Return the error a request model's validator raises to refuse a value with ``code``."""
    return PydanticCustomError(code, CODES[code], dict(params))


def coded(detail: str) -> dict[str, Any]:
    """Return a non-field refusal's body: its message, with its code and values when it has them."""
    body: dict[str, Any] = {"detail": encodable(detail)}
    if isinstance(detail, Refusal):
        body["code"] = detail.code
        body["params"] = {k: safe_input(v) for k, v in detail.params.items()}
    return body


def loc_of(path: str) -> list[str | int]:
    """Split a JSON path such as ``$.rules[2].actions`` into ``loc`` parts."""
    parts: list[str | int] = []
    for name in path.replace("]", "").replace("[", ".").split("."):
        if name and name != "$":
            # ASCII digits only: "¹".isdigit() holds and int("¹") raises.
            parts.append(int(name) if name.isascii() and name.isdigit() else name)
    return parts


def _documented(status: int, description: str) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": Message, "description": description}}


UNAUTHORIZED = _documented(401, "Missing, unknown or revoked API key or agent token")
FORBIDDEN = _documented(403, "The key or token may not do this")
NOT_FOUND = _documented(404, "No such object in the caller's company")
CONFLICT = _documented(409, "The request conflicts with stored data")
TOO_LARGE = _documented(413, "The request body is larger than the limit")
BAD_GATEWAY = _documented(502, "The CRM could not be reached; try again")
#: What every authenticated route can answer.
AUTHENTICATED = {**UNAUTHORIZED, **TOO_LARGE}


def in_json(responses: dict[int | str, dict[str, Any]]) -> dict[int | str, dict[str, Any]]:
    """Return refusals documented as JSON on a route whose own answer is not JSON.

    FastAPI documents a refusal's model in the route's media type (``text/event-stream`` for
    the dialer's events); refusals are JSON whatever the route answers.
    """
    schema = {"$ref": "#/components/schemas/Message"}
    return {
        status: {
            "description": answer["description"],
            "content": {"application/json": {"schema": schema}},
        }
        for status, answer in responses.items()
    }


def unparsable_body(err: StarletteHTTPException) -> bool:
    """Tell whether FastAPI refused a body it could not decode (answered 422 here, not 400)."""
    return err.status_code == 400 and err.detail == "There was an error parsing the body"


def allowed_methods(request: Request) -> str:
    """Return the ``Allow`` header of a path: the methods the OpenAPI document gives it.

    Starlette's 405 lists only the first matching route's methods (``GET`` for ``/company``,
    which ``PATCH`` serves too). Paths are tried in routing order, so ``/records/search`` is
    not taken for ``/records/{record_id}``.
    """
    for template, operations in request.app.openapi()["paths"].items():
        if compile_path(template)[0].match(request.url.path):
            return ", ".join(sorted(m.upper() for m in operations if m.upper() in METHODS))
    return ""


METHODS = frozenset({"DELETE", "GET", "HEAD", "PATCH", "POST", "PUT"})


def encodable(message: str) -> str:
    """Return ``message`` with any lone surrogate escaped, so the answer can be encoded."""
    return message.encode("utf-8", "backslashreplace").decode("utf-8")


def safe_input(value: Any, depth: int = 0) -> Any:
    """Return an echoed input as JSON can carry it: no NaN, no lone surrogate, short."""
    if isinstance(value, str):
        shown = encodable(value)
        return shown if len(shown) <= ECHO_LIMIT else shown[:ECHO_LIMIT] + "…"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, int | float | bool) or value is None:
        return value
    if depth >= 3:
        return "…"
    if isinstance(value, dict):
        items = list(value.items())[:20]
        return {safe_input(str(k), depth + 1): safe_input(v, depth + 1) for k, v in items}
    if isinstance(value, list | tuple):
        return [safe_input(v, depth + 1) for v in value[:20]]
    return safe_input(str(value), depth)


def field_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Return validation errors with ``loc``, ``msg``, ``type`` and a safe echo of the input."""
    shown = []
    for error in errors:
        item = {
            "loc": [safe_input(part) for part in error.get("loc", ())],
            "msg": safe_input(error.get("msg", "")),
            "type": error.get("type", "value_error"),
        }
        if "input" in error:
            item["input"] = safe_input(error["input"])
        if "ctx" in error:
            item["ctx"] = safe_input(error["ctx"])
        shown.append(item)
    return shown
