"""An integration's life in the UI: resume, disable, enable, and delete it after a confirmation."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from callbridge.api import integration_lifecycle as api
from callbridge.api import integrations as integrations_api
from callbridge.api.deps import get_runtime
from callbridge.ui.forms import Refused, ignored, through_api, through_api_or_not_found
from callbridge.ui.integrations import one_of_company
from callbridge.ui.render import page
from callbridge.ui.session import Admin, AdminDep, FormAdminDep
from callbridge.web.fields import PathId

router = APIRouter(prefix="/ui/integrations", include_in_schema=False)
#: Where disabling or enabling goes back to: the list, saying it is done.
SWITCHED = "/ui/integrations?switched=1"


async def _switch(request: Request, admin: Admin, change: Awaitable[Any], done: str) -> Response:
    """Run an API route changing the integration's status; back to the list (404: not found)."""
    refused = await through_api_or_not_found(request, admin, ignored(change))
    if isinstance(refused, Response):
        return refused
    return RedirectResponse(done, status_code=303)


@router.post("/{integration_id}/resume")
async def resume(request: Request, integration_id: PathId, admin: FormAdminDep) -> Response:
    """Resume a paused integration, as POST /integrations/{id}/resume does."""
    change = integrations_api.resume(integration_id, admin.principal, get_runtime(request))
    return await _switch(request, admin, change, "/ui/integrations")


@router.post("/{integration_id}/disable")
async def disable(request: Request, integration_id: PathId, admin: FormAdminDep) -> Response:
    """Stop syncing calls to the integration, as POST /integrations/{id}/disable does."""
    change = api.disable(integration_id, admin.principal, get_runtime(request))
    return await _switch(request, admin, change, SWITCHED)


@router.post("/{integration_id}/enable")
async def enable(request: Request, integration_id: PathId, admin: FormAdminDep) -> Response:
    """Sync calls to a disabled integration again, from the next call that ends."""
    change = api.enable(integration_id, admin.principal, get_runtime(request))
    return await _switch(request, admin, change, SWITCHED)


@router.get("/{integration_id}/delete")
async def confirm(request: Request, integration_id: PathId, admin: AdminDep) -> Response:
    """Ask to confirm the deletion, saying what goes with the integration and what stays."""
    found = await one_of_company(request, integration_id, admin)
    if isinstance(found, Response):
        return found
    return page(request, "integration_delete.html", admin, integration=found, errors=[])


@router.post("/{integration_id}/delete")
async def delete(request: Request, integration_id: PathId, admin: FormAdminDep) -> Response:
    """Delete the integration and what it owns, as DELETE /integrations/{id} does.

    A refusal shows the status and message the route answered: 404 (not the company's, or gone)
    on the not-found page, 409 (one of its syncs runs) on the confirmation, saying what to do.
    """
    try:
        await through_api(api.delete(integration_id, admin.principal, get_runtime(request)))
    except Refused as refused:
        if refused.status == 404:
            return page(request, "not_found.html", admin, status=404, message=refused)
        found = await one_of_company(request, integration_id, admin)
        if isinstance(found, Response):
            return found
        return page(
            request, "integration_delete.html", admin, status=refused.status,
            integration=found, errors=refused.messages,
        )  # fmt: skip
    return RedirectResponse("/ui/integrations?deleted=1", status_code=303)
