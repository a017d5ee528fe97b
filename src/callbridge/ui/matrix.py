"""An integration's scenario matrix: its rules as an editable table (or JSON), tried and saved.

Every value goes to the API's routes (``PUT /integrations/{id}/matrix``, ``POST …/matrix/dry-run``,
``GET …/matrix/versions``): their validator judges a draft, and its refusal is shown beside the
table's field it names. A dry run decides a past call by the draft and by the saved matrix; the
past calls it offers are the integration's newest, or those whose number starts with what was
searched, a page at a time (``GET /calls``' filter and keyset paging, through its route function).
The history shows the versions ten at a time (``GET …/matrix/versions``' keyset paging).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import TypeAdapter, ValidationError
from starlette.datastructures import FormData

from callbridge.api import calls as calls_api
from callbridge.api import integrations as integrations_api
from callbridge.api import matrix as api
from callbridge.api.deps import get_runtime
from callbridge.api.matrix_dry_run import DryRun, DryRunIn
from callbridge.refusal_codes import Refusal, refusal
from callbridge.ui import matrix_table as table
from callbridge.ui.forms import Refused, posted, through_api, through_api_or_not_found
from callbridge.ui.past_search import PastSearch
from callbridge.ui.problems import coded, problem, said
from callbridge.ui.render import gettext_of, page
from callbridge.ui.session import Admin, AdminDep, FormAdminDep
from callbridge.web.fields import JsonObject, PathId
from callbridge.web.refusals import field_errors

router = APIRouter(prefix="/ui/integrations", include_in_schema=False)
#: The matrix body as the API reads it (its validators included).
MATRIX_BODY: TypeAdapter[dict[str, Any]] = TypeAdapter(JsonObject)
MATRIX_CHARS = 200_000
#: How many past calls the dry run offers at a time (the integration's newest first).
PAST_CALLS = 25
#: How many versions the history shows at a time (each compared with the one before it).
HISTORY_PAGE = 10


@dataclass
class Draft:
    """What the editor shows: the table's rows and settings, the JSON, and what was refused."""

    rows: list[table.Row]
    settings: dict[str, Any]
    json: str
    errors: list[str] = field(default_factory=list)  # refusals no table field can carry
    fields: dict[str, str] = field(default_factory=dict)  # table field id → its refusal
    advanced: bool = False  # the JSON editor was used


def _shown(matrix: dict[str, Any]) -> Draft:
    return Draft(table.rows_of(matrix), table.settings_of(matrix), json.dumps(matrix, indent=2))


async def _matrix_page(
    request: Request,
    admin: Admin,
    integration_id: str,
    draft: Draft | None = None,
    tried: DryRun | None = None,
    search: PastSearch | None = None,
    chosen: Mapping[str, Any] | None = None,
) -> Response:
    """Answer the matrix page; the history's page and the call chosen: the URL's, or ``chosen``."""
    runtime, who = get_runtime(request), admin.principal
    search = search or PastSearch.read(request.query_params)
    chosen = request.query_params if chosen is None else chosen
    older_than = _version(chosen.get("versions_before"))

    async def read() -> tuple[Any, api.MatrixShown, list[Any], calls_api.CallList]:
        return (
            await integrations_api.read(integration_id, who, runtime),
            await api.read_matrix(integration_id, who, runtime),
            await api.versions(integration_id, who, runtime, before=older_than, limit=HISTORY_PAGE),
            await _past_calls(request, admin, integration_id, search),
        )

    found = await through_api_or_not_found(request, admin, read())
    if isinstance(found, Response):
        return found
    integration, shown, history, past = found
    wrong = draft is not None and bool(draft.errors or draft.fields)
    editor = draft or _shown(shown.matrix)
    if editor.advanced and not editor.rows:  # JSON that is not a matrix: the table stays saved
        editor.rows, editor.settings = table.rows_of(shown.matrix), table.settings_of(shown.matrix)
    wanted = "matrix_editor.html" if request.headers.get("hx-request") else "matrix.html"
    return page(
        request,
        wanted,
        admin,
        status=422 if wrong else 200,
        integration=integration,
        shown=shown,
        history=history,
        versions_before=older_than,
        draft=editor,
        columns=table.COLUMNS,
        parameters=table.PARAMETERS,
        conditions=table.CONDITIONS,
        choices=table.CHOICES,
        past=past,
        search=search,
        tried=tried,
        chosen_call=tried.call_id if tried else chosen.get("call"),
        saved=request.query_params.get("saved") == "1",
    )


async def _past_calls(
    request: Request, admin: Admin, integration_id: str, search: PastSearch
) -> calls_api.CallList:
    """Return a page of the integration's calls the dry run offers, through ``GET /calls``."""
    return await through_api(
        calls_api.list_calls(
            admin.principal,
            get_runtime(request),
            number=search.number,
            integration=integration_id,
            after=search.after,
            before=search.before,
            limit=PAST_CALLS,
        )
    )


@router.get("/{integration_id}/matrix/past-calls")
async def past_calls(request: Request, integration_id: PathId, admin: AdminDep) -> Response:
    """Show the past calls the dry run offers, searched by number and paged (htmx swaps them)."""
    search = PastSearch.read(request.query_params)
    past = await through_api_or_not_found(
        request, admin, _past_calls(request, admin, integration_id, search)
    )
    if isinstance(past, Response):
        return past
    return page(
        request,
        "matrix_past_calls.html",
        admin,
        integration={"id": integration_id},
        past=past,
        search=search,
        chosen_call=request.query_params.get("call"),
    )


@router.get("/{integration_id}/matrix")
async def matrix_page(request: Request, integration_id: PathId, admin: AdminDep) -> Response:
    """Show the matrix in force as an editable table, its history and the dry run."""
    return await _matrix_page(request, admin, integration_id)


@router.post("/{integration_id}/matrix")
async def save(request: Request, integration_id: PathId, admin: FormAdminDep) -> Response:
    """Save the table (or the JSON) as a new version through the API's route; or add a row."""
    form = await posted(request)
    draft, body = _draft(form)
    search = PastSearch.read(form, "past-")
    if form.get("do") == "add":
        draft.rows.append(table.Row("", {}))
        return await _matrix_page(request, admin, integration_id, draft, search=search)
    if body is None:  # not JSON: the draft says why
        return await _matrix_page(request, admin, integration_id, draft, search=search)
    try:
        await api.replace_matrix(integration_id, admin.principal, get_runtime(request), body)
    except HTTPException as err:
        if err.status_code == 404:
            return page(request, "not_found.html", admin, status=404, message=err.detail)
        _refused(draft, err, (), gettext_of(request, admin))
        return await _matrix_page(request, admin, integration_id, draft, search=search)
    return RedirectResponse(f"/ui/integrations/{integration_id}/matrix?saved=1", status_code=303)


@router.post("/{integration_id}/matrix/draft")
async def keep_draft(request: Request, integration_id: PathId, admin: FormAdminDep) -> Response:
    """Show the page again with the posted draft kept, nothing saved.

    The buttons that work without JavaScript post here: a past-call search or page, a page of
    the history.
    """
    form = await posted(request)
    draft, _body = _draft(form)
    search = PastSearch.asked(form)
    chosen = {"versions_before": form.get("versions_before"), "call": form.get("call_id")}
    return await _matrix_page(request, admin, integration_id, draft, search=search, chosen=chosen)


@router.post("/{integration_id}/matrix/dry-run")
async def dry_run(request: Request, integration_id: PathId, admin: FormAdminDep) -> Response:
    """Decide a past call by the draft and by the saved matrix, through the API; save nothing."""
    _ = gettext_of(request, admin)
    form = await posted(request)
    draft, body = _draft(form)
    search = PastSearch.read(form, "past-")
    call_id = form.get("call_id")
    if not isinstance(call_id, str) or not call_id:
        draft.errors.append(_("Choose a past call to try the draft on."))
    if body is None or draft.errors:
        return await _matrix_page(request, admin, integration_id, draft, search=search)
    runtime = get_runtime(request)
    try:
        wanted = DryRunIn.model_validate({"call_id": call_id, "matrix": body})
        tried = await api.try_draft(integration_id, wanted, admin.principal, runtime)
    except ValidationError as err:
        draft.errors.extend(_unplaced(field_errors(err.errors())))
        return await _matrix_page(request, admin, integration_id, draft, search=search)
    except HTTPException as err:
        if err.status_code == 404 and "integration" in str(err.detail):
            return page(request, "not_found.html", admin, status=404, message=err.detail)
        _refused(draft, err, ("matrix",), _)
        return await _matrix_page(request, admin, integration_id, draft, search=search)
    return await _matrix_page(request, admin, integration_id, draft, tried, search)


def _version(value: str | None) -> int | None:
    """Read a version number from the URL (the history's page); anything else: the newest."""
    return int(value) if value and value.isdigit() and 0 < int(value) < 2**31 else None


def _draft(form: FormData) -> tuple[Draft, dict[str, Any] | None]:
    """Return the posted draft (table or JSON) and its JSON body; None when it is not JSON."""
    raw = form.get("matrix")
    if isinstance(raw, str):
        try:
            body = _parsed(raw)
        except Refused as refused:
            return Draft([], table.settings_of({}), raw, refused.messages, advanced=True), None
        return Draft([], table.settings_of({}), raw, advanced=True), body
    rows, settings = table.rows_posted(form), table.settings_posted(form)
    body = table.matrix_of(rows, settings)
    return Draft(rows, settings, json.dumps(body, indent=2)), body


def _refused(
    draft: Draft, err: HTTPException, prefix: tuple[str, ...], gettext: Callable[[str], str]
) -> None:
    """Put every refusal beside the field it names, else above the editor; all at once.

    Each is said in the page's language by its code (a matrix problem's, a route's own).
    """
    detail = err.detail if isinstance(err.detail, list) else [{"loc": [], "msg": err.detail}]
    for entry in detail:
        loc = list(entry.get("loc", ()))[1 + len(prefix) :]
        where = None if draft.advanced else table.field_of(loc, draft.rows)
        message = said(_unplaced([entry])[0], gettext)
        if where is None:
            path = ".".join(str(p) for p in loc)
            draft.errors.append(f"{path}: {message}" if path else message)
        elif where in draft.fields:  # two problems on one field (or a raw rule's): both shown
            draft.fields[where] += f"; {message}"
        else:
            draft.fields[where] = message


def _parsed(draft: str) -> dict[str, Any]:
    """Return the typed JSON as the API would read it, or raise ``Refused`` saying why."""
    if len(draft) > MATRIX_CHARS:
        raise Refused([coded(refusal("matrix_too_long", limit=MATRIX_CHARS))])
    try:
        return MATRIX_BODY.validate_python(json.loads(draft))
    except json.JSONDecodeError as err:
        why = refusal("matrix_not_json", reason=err.msg, line=err.lineno, column=err.colno)
        raise Refused([coded(why)]) from err
    except ValidationError as err:
        raise Refused(_unplaced(field_errors(err.errors()))) from err


def _unplaced(entries: list[dict[str, Any]]) -> list[str]:
    """Return the problems of 422 entries without their field (the editor places them)."""
    return [
        coded(entry["msg"])
        if isinstance(entry.get("msg"), Refusal)
        else problem({**entry, "loc": []})
        for entry in entries
    ]
