"""Read posted forms and turn the API's refusals into messages a screen shows."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import HTTPException, Request, Response
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from callbridge.refusal_codes import Refusal
from callbridge.ui.problems import coded, problem
from callbridge.ui.render import page
from callbridge.ui.session import Admin
from callbridge.web.refusals import field_errors

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
#: What a screen answers: a response, or a coroutine rendering one.
Answer = Response | Awaitable[Response]


class Refused(Exception):
    """The API refused what a form asked: ``messages`` say which field and why."""

    def __init__(self, messages: list[str], status: int = 422) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages
        self.status = status


def text(form: FormData, name: str) -> str | None:
    """Return a text field of ``form`` stripped, None when absent or empty."""
    value = form.get(name)
    return value.strip() or None if isinstance(value, str) else None


def credentials_of(form: FormData, rows: int = 5) -> dict[str, str]:
    """Return the credential pairs typed in the form's name/value rows (empty rows left out)."""
    pairs = {}
    for n in range(1, rows + 1):
        name, value = text(form, f"credential_name_{n}"), form.get(f"credential_value_{n}")
        if name is not None and isinstance(value, str) and value:
            pairs[name] = value
    return pairs


async def posted(request: Request) -> FormData:
    """Return the request's form (parsed once; the CSRF check read it already)."""
    return await request.form()


def _messages(errors: list[dict[str, Any]]) -> list[str]:
    return [problem(error) for error in errors]


def model(kind: type[M], values: dict[str, Any]) -> M:
    """Build the API's request model from form values, or raise ``Refused`` naming the fields."""
    try:
        return kind.model_validate(values)
    except ValidationError as err:
        raise Refused(_messages(field_errors(err.errors()))) from err


async def through_api(call: Awaitable[T]) -> T:
    """Await an API route function; its HTTP refusal becomes ``Refused`` with its message."""
    try:
        return await call
    except HTTPException as err:
        detail = err.detail
        if isinstance(detail, list):
            messages = _messages(detail)
        else:  # a route's own refusal keeps its code, so the page can say it in its language
            messages = [coded(detail) if isinstance(detail, Refusal) else str(detail)]
        raise Refused(messages, err.status_code) from err


async def _answered(answer: Answer) -> Response:
    return answer if isinstance(answer, Response) else await answer


async def submit(
    request: Request,
    kind: type[M],
    values: Callable[[FormData], dict[str, Any]],
    act: Callable[[M], Awaitable[T]],
    *,
    refused: Callable[[Refused, FormData], Answer],
    done: Callable[[T], Answer],
) -> Response:
    """Build ``kind`` from the posted form, ``act``; answer ``done``, or ``refused`` if refused."""
    form = await posted(request)
    try:
        result = await through_api(act(model(kind, values(form))))
    except Refused as err:
        return await _answered(refused(err, form))
    return await _answered(done(result))


async def ignored(call: Awaitable[Any]) -> None:
    """Await ``call`` for what it does only (its answer, a 204 ``Response`` say, is dropped)."""
    await call


async def through_api_or_not_found(
    request: Request, admin: Admin, call: Awaitable[T]
) -> T | Response:
    """Await ``call`` (API route functions); a refusal answers the not-found page at its status.

    ``call`` may be a coroutine awaiting several routes, or raising ``Refused`` itself: the
    first refusal is the answer. A route answering a ``Response`` (a 204) goes through
    :func:`ignored`, so a ``Response`` answered here is always the not-found page.
    """
    try:
        return await through_api(call)
    except Refused as refused:
        return page(request, "not_found.html", admin, status=refused.status, message=refused)


def or_not_found(
    request: Request, admin: Admin, on_form: Callable[[list[str]], Answer]
) -> Callable[[Refused, FormData], Answer]:
    """Answer a refusal with the 404 page if the thing is not the company's, else ``on_form``."""

    def refused(refused: Refused, _form: FormData) -> Answer:
        if refused.status == 404:
            return page(request, "not_found.html", admin, status=404, message=refused)
        return on_form(refused.messages)

    return refused
