"""An integration's scenario matrix: its rules as a table, edited as JSON, and its versions."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import TypeAdapter, ValidationError

from callbridge.api import integrations as integrations_api
from callbridge.api import matrix as api
from callbridge.api.deps import get_runtime
from callbridge.ui.forms import Refused, posted, through_api
from callbridge.ui.render import page
from callbridge.ui.session import Admin, AdminDep, FormAdminDep
from callbridge.web.fields import JsonObject, PathId
from callbridge.web.refusals import field_errors

router = APIRouter(prefix="/ui/integrations", include_in_schema=False)
#: The matrix body as the API reads it (its validators included).
MATRIX_BODY: TypeAdapter[dict[str, Any]] = TypeAdapter(JsonObject)
MATRIX_CHARS = 200_000


async def _matrix_page(
    request: Request,
    admin: Admin,
    integration_id: str,
    *,
    errors: list[str] | None = None,
    draft: str | None = None,
) -> Response:
    runtime = get_runtime(request)
    try:
        integration = await through_api(
            integrations_api.read(integration_id, admin.principal, runtime)
        )
        shown = await through_api(api.read_matrix(integration_id, admin.principal, runtime))
        history = await through_api(api.versions(integration_id, admin.principal, runtime))
    except Refused as refused:
        return page(request, "not_found.html", admin, status=refused.status, message=refused)
    return page(
        request,
        "matrix.html",
        admin,
        status=422 if errors else 200,
        integration=integration,
        shown=shown,
        history=history,
        errors=errors or [],
        draft=draft if draft is not None else json.dumps(shown.matrix, indent=2),
        saved=request.query_params.get("saved") == "1",
    )


@router.get("/{integration_id}/matrix")
async def matrix_page(request: Request, integration_id: PathId, admin: AdminDep) -> Response:
    """Show the matrix in force (rules, contact creation per scenario) and its versions."""
    return await _matrix_page(request, admin, integration_id)


@router.post("/{integration_id}/matrix")
async def save(request: Request, integration_id: PathId, admin: FormAdminDep) -> Response:
    """Validate and store a new version through the API's route; its refusal names the path."""
    form = await posted(request)
    draft = form.get("matrix")
    draft = draft if isinstance(draft, str) else ""
    try:
        body = _parsed(draft)
        runtime = get_runtime(request)
        await through_api(api.replace_matrix(integration_id, admin.principal, runtime, body))
    except Refused as refused:
        if refused.status == 404:
            return page(request, "not_found.html", admin, status=404, message=refused)
        return await _matrix_page(
            request, admin, integration_id, errors=refused.messages, draft=draft
        )
    return RedirectResponse(f"/ui/integrations/{integration_id}/matrix?saved=1", status_code=303)


def _parsed(draft: str) -> dict[str, Any]:
    """Return the typed JSON as the API would read it, or raise ``Refused`` saying why."""
    if len(draft) > MATRIX_CHARS:
        raise Refused([f"the matrix is longer than {MATRIX_CHARS} characters"])
    try:
        return MATRIX_BODY.validate_python(json.loads(draft))
    except json.JSONDecodeError as err:
        raise Refused([f"not JSON: {err.msg} (line {err.lineno}, column {err.colno})"]) from err
    except ValidationError as err:
        problems = field_errors(err.errors())
        raise Refused([str(p["msg"]) for p in problems]) from err
