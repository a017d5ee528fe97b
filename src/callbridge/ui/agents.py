"""An employee's agent tokens: issue one (shown once) and revoke them, for the dialer."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from callbridge.api import agent_auth as api
from callbridge.api.deps import get_runtime
from callbridge.api.staff import UserShown
from callbridge.storage import accounts, sql
from callbridge.storage.tables import agent_tokens, users
from callbridge.ui.forms import ignored, through_api_or_not_found
from callbridge.ui.render import page
from callbridge.ui.session import Admin, AdminDep, FormAdminDep
from callbridge.web.fields import PathId

router = APIRouter(prefix="/ui/users", include_in_schema=False)


async def _user_page(
    request: Request, admin: Admin, user_id: str, status: int = 200, **context: Any
) -> Response:
    async with get_runtime(request).reads() as session:
        user = await sql.run(session, accounts.get_row, users, admin.principal.company_id, user_id)
        tokens = await sql.run(
            session, accounts.list_rows, agent_tokens, admin.principal.company_id
        )
    if user is None:
        message = f"no user {user_id} in this company"
        return page(request, "not_found.html", admin, status=404, message=message)
    mine = sorted(
        (t for t in tokens if t["user_id"] == user_id), key=lambda t: t["created_at"], reverse=True
    )
    shown = UserShown.model_validate(user)
    return page(request, "user.html", admin, status=status, user=shown, tokens=mine, **context)


@router.get("/{user_id}")
async def user_page(request: Request, user_id: PathId, admin: AdminDep) -> Response:
    """Show an employee and their agent tokens (prefixes only)."""
    return await _user_page(request, admin, user_id)


@router.post("/{user_id}/tokens")
async def issue(request: Request, user_id: PathId, admin: FormAdminDep) -> Response:
    """Issue an agent token through the API's route; it is shown on this answer only."""
    runtime = get_runtime(request)
    issued = await through_api_or_not_found(
        request, admin, api.create_token(user_id, admin.principal, runtime, None)
    )
    if isinstance(issued, Response):
        return issued
    return await _user_page(request, admin, user_id, 201, issued=issued)


@router.post("/{user_id}/tokens/{token_id}/revoke")
async def revoke(
    request: Request, user_id: PathId, token_id: PathId, admin: FormAdminDep
) -> Response:
    """Revoke an agent token at once, as DELETE /users/{id}/tokens/{token_id} does."""
    runtime = get_runtime(request)
    revoked = ignored(api.revoke_token(user_id, token_id, admin.principal, runtime))
    refused = await through_api_or_not_found(request, admin, revoked)
    if isinstance(refused, Response):
        return refused
    return RedirectResponse(f"/ui/users/{user_id}", status_code=303)
