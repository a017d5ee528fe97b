"""Teams and users: create, rename, move agents, grant or revoke ``is_multicrm_sync``, delete."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel
from starlette.datastructures import FormData

from callbridge.api import staff as api
from callbridge.api.deps import get_runtime
from callbridge.api.staff import TeamIn, TeamPatch, UserIn, UserPatch
from callbridge.runtime import Runtime
from callbridge.storage.accounts import Principal
from callbridge.ui.forms import Refused, submit, text, through_api
from callbridge.ui.render import page
from callbridge.ui.session import Admin, AdminDep, FormAdminDep
from callbridge.web.fields import PathId

router = APIRouter(prefix="/ui", include_in_schema=False)
SCREEN = "/ui/teams"
MULTICRM = "is_multicrm_sync"
M = TypeVar("M", bound=BaseModel)


async def _screen(request: Request, admin: Admin, errors: list[str], status: int) -> Response:
    runtime = get_runtime(request)
    teams = await api.list_teams(admin.principal, runtime)
    users = await api.list_users(admin.principal, runtime)
    return page(
        request,
        "teams.html",
        admin,
        status=status,
        teams=teams,
        users=users,
        team_names={t.id: t.name for t in teams},
        errors=errors,
        multicrm=MULTICRM,
        done=request.query_params.get("done") == "1",
    )


@router.get("/teams")
async def screen(request: Request, admin: AdminDep) -> Response:
    """Show the teams with their permissions, and the users with their team."""
    return await _screen(request, admin, [], 200)


async def _apply(request: Request, admin: Admin, change: Awaitable[Any]) -> Response:
    """Run an API change; back to the screen, with the API's refusal shown if it refused."""
    try:
        await through_api(change)
    except Refused as refused:
        return await _refused(request, admin, refused)
    return _done()


def _done() -> Response:
    return RedirectResponse(f"{SCREEN}?done=1", status_code=303)


def _refused(request: Request, admin: Admin, refused: Refused) -> Awaitable[Response]:
    return _screen(request, admin, refused.messages, refused.status)


def _submit(
    request: Request,
    admin: Admin,
    kind: type[M],
    values: Callable[[FormData], dict[str, Any]],
    act: Callable[[M, Principal, Runtime], Awaitable[Any]],
) -> Awaitable[Response]:
    """Build ``kind`` from the form, run the API's ``act``; back to the screen either way."""
    return submit(
        request,
        kind,
        values,
        lambda body: act(body, admin.principal, get_runtime(request)),
        refused=lambda refused, _form: _refused(request, admin, refused),
        done=lambda _result: _done(),
    )


def _new_team_values(form: FormData) -> dict[str, Any]:
    return {"name": text(form, "name")}


def _team_values(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if text(form, "name") is not None:
        values["name"] = text(form, "name")
    if text(form, "grant") in ("0", "1"):
        values[MULTICRM] = text(form, "grant") == "1"
    return values


def _new_user_values(form: FormData) -> dict[str, Any]:
    values = {k: text(form, k) for k in ("name", "email", "role", "team_id")}
    return {k: v for k, v in values.items() if v is not None}


def _user_values(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if text(form, "name") is not None:
        values["name"] = text(form, "name")
    if "team_id" in form:
        values["team_id"] = text(form, "team_id")
    return values


@router.post("/teams")
async def create_team(request: Request, admin: FormAdminDep) -> Response:
    """Create a team, as POST /teams does."""
    return await _submit(request, admin, TeamIn, _new_team_values, api.create_team)


@router.post("/teams/{team_id}")
async def change_team(request: Request, team_id: PathId, admin: FormAdminDep) -> Response:
    """Rename a team, or grant (``grant=1``) or revoke (``grant=0``) is_multicrm_sync."""
    act = functools.partial(api.change_team, team_id)
    return await _submit(request, admin, TeamPatch, _team_values, act)


@router.post("/teams/{team_id}/delete")
async def delete_team(request: Request, team_id: PathId, admin: FormAdminDep) -> Response:
    """Delete a team without members (the API says what to do otherwise)."""
    return await _apply(
        request, admin, api.delete_team(team_id, admin.principal, get_runtime(request))
    )


@router.post("/users")
async def create_user(request: Request, admin: FormAdminDep) -> Response:
    """Create an employee, as POST /users does."""
    return await _submit(request, admin, UserIn, _new_user_values, api.create_user)


@router.post("/users/{user_id}")
async def change_user(request: Request, user_id: PathId, admin: FormAdminDep) -> Response:
    """Rename an employee or move them to another team (empty: no team)."""
    act = functools.partial(api.change_user, user_id)
    return await _submit(request, admin, UserPatch, _user_values, act)


@router.post("/users/{user_id}/delete")
async def delete_user(request: Request, user_id: PathId, admin: FormAdminDep) -> Response:
    """Delete an employee, as DELETE /users/{id} does."""
    return await _apply(
        request, admin, api.delete_user(user_id, admin.principal, get_runtime(request))
    )
