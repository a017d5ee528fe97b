"""Company staff: teams (and their permissions) and users, created, changed and deleted."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Response
from pydantic import BaseModel, Field, StrictBool
from sqlalchemy.exc import IntegrityError

from callbridge.api.deps import PrincipalDep, RuntimeDep
from callbridge.refusal_codes import refusal
from callbridge.storage import accounts, sql
from callbridge.storage import users as user_store
from callbridge.storage.tables import teams, users
from callbridge.web.fields import Email, Id, Name, PathId, Storable
from callbridge.web.refusals import AUTHENTICATED, CONFLICT, NOT_FOUND, refuse

router = APIRouter(tags=["admin"], responses=AUTHENTICATED)
#: A team permission: a short storable word such as ``is_multicrm_sync``.
Permission = Annotated[Storable, Field(min_length=1, max_length=100)]


class TeamIn(BaseModel):
    """A team and its permissions (e.g. is_multicrm_sync)."""

    name: Name
    permissions: list[Permission] = Field(default_factory=list, max_length=50)


class TeamPatch(BaseModel):
    """Fields of a team to change; a field left out (or null) stays as it is."""

    name: Name | None = None
    permissions: list[Permission] | None = Field(
        default=None, max_length=50, description="The whole new list of permissions"
    )
    is_multicrm_sync: StrictBool | None = Field(
        default=None,
        description="Grant (true) or revoke (false) the permission `is_multicrm_sync`, "
        "after `permissions` if both are given",
    )


Extension = Annotated[Storable, Field(max_length=20)]
TelephonyUserId = Annotated[Storable, Field(max_length=100)]
Role = Literal["admin", "agent", "top_manager"]


class UserIn(BaseModel):
    """An employee: mapped to call events by telephony user id, email or extension."""

    name: Name
    email: Email | None = None
    extension: Extension | None = None
    telephony_user_id: TelephonyUserId | None = None
    role: Role = "agent"
    team_id: Id | None = None


class UserPatch(BaseModel):
    """Fields of an employee to change; a field left out stays as it is.

    Null clears ``email``, ``extension``, ``telephony_user_id`` and ``team_id``; null for
    ``name`` or ``role`` (which every user has) changes nothing.
    """

    name: Name | None = None
    email: Email | None = None
    extension: Extension | None = None
    telephony_user_id: TelephonyUserId | None = None
    role: Role | None = None
    team_id: Id | None = None


class TeamShown(BaseModel):
    """A team and its permissions."""

    id: str
    company_id: str
    name: str
    permissions: list[str]


class TeamCreated(BaseModel):
    """The team just created."""

    id: str
    name: str
    permissions: list[str]


class UserShown(BaseModel):
    """An employee."""

    id: str
    company_id: str
    team_id: str | None
    name: str
    email: str | None
    extension: str | None
    telephony_user_id: str | None
    role: str = Field(description="admin, agent or top_manager")


class UserCreated(BaseModel):
    """The employee just created (the e-mail address in lower case)."""

    id: str
    name: str
    email: str | None
    extension: str | None
    telephony_user_id: str | None
    role: str = Field(description="admin, agent or top_manager")
    team_id: str | None


@router.post("/teams", status_code=201, responses=CONFLICT)
async def create_team(body: TeamIn, who: PrincipalDep, runtime: RuntimeDep) -> TeamCreated:
    """Create a team."""
    try:
        async with runtime.sessions.begin() as session:
            team_id = await sql.run(
                session, user_store.create_team, who.company_id, body.name, body.permissions
            )
    except IntegrityError as err:
        raise HTTPException(409, refusal("team_exists", name=body.name)) from err
    return TeamCreated(id=team_id, name=body.name, permissions=body.permissions)


@router.get("/teams")
async def list_teams(who: PrincipalDep, runtime: RuntimeDep) -> list[TeamShown]:
    """List the company's teams."""
    async with runtime.reads() as session:
        rows = await sql.run(session, accounts.list_rows, teams, who.company_id)
    return [TeamShown.model_validate(row) for row in rows]


@router.patch("/teams/{team_id}", responses={**NOT_FOUND, **CONFLICT})
async def change_team(
    team_id: PathId, body: TeamPatch, who: PrincipalDep, runtime: RuntimeDep
) -> TeamShown:
    """Rename a team or change its permissions; agents' next requests use the new ones."""
    try:
        async with runtime.sessions.begin() as session:
            team = await sql.run(session, accounts.get_row, teams, who.company_id, team_id)
            if team is None:
                raise HTTPException(404, refusal("no_team", team_id=team_id))
            values = _team_values(body, list(team["permissions"]))
            await sql.run(session, accounts.change_row, teams, who.company_id, team_id, values)
    except IntegrityError as err:
        raise HTTPException(409, refusal("team_exists", name=str(body.name))) from err
    return TeamShown.model_validate({**team, **values})


def _team_values(body: TeamPatch, permissions: list[str]) -> dict[str, object]:
    """Return the columns a team patch changes."""
    values: dict[str, object] = {}
    if body.name is not None:
        values["name"] = body.name
    if body.permissions is not None:
        permissions = list(dict.fromkeys(body.permissions))
        values["permissions"] = permissions
    if body.is_multicrm_sync is not None:
        kept = [p for p in permissions if p != "is_multicrm_sync"]
        values["permissions"] = [*kept, "is_multicrm_sync"] if body.is_multicrm_sync else kept
    return values


@router.delete("/teams/{team_id}", status_code=204, responses={**NOT_FOUND, **CONFLICT})
async def delete_team(team_id: PathId, who: PrincipalDep, runtime: RuntimeDep) -> Response:
    """Delete a team that has no members."""
    conflict = HTTPException(409, refusal("team_has_members", team_id=team_id))
    try:
        async with runtime.sessions.begin() as session:
            if await sql.run(session, user_store.team_has_members, who.company_id, team_id):
                raise conflict
            if not await sql.run(session, user_store.delete_team, who.company_id, team_id):
                raise HTTPException(404, refusal("no_team", team_id=team_id))
    except IntegrityError as err:  # a member added meanwhile
        raise conflict from err
    return Response(status_code=204)


@router.post("/users", status_code=201, responses=CONFLICT)
async def create_user(body: UserIn, who: PrincipalDep, runtime: RuntimeDep) -> UserCreated:
    """Create an employee."""
    values = body.model_dump()
    values["email"] = values["email"].lower() if values["email"] else None
    async with runtime.reads() as session:
        known_teams = {
            t["id"] for t in await sql.run(session, accounts.list_rows, teams, who.company_id)
        }
    if values["team_id"] is not None and values["team_id"] not in known_teams:
        raise refuse(("body", "team_id"), refusal("no_team", team_id=values["team_id"]))
    try:
        async with runtime.sessions.begin() as session:
            user_id = await sql.run(session, user_store.create_user, who.company_id, **values)
    except IntegrityError as err:
        raise HTTPException(409, refusal("user_exists", email=values["email"])) from err
    return UserCreated.model_validate({"id": user_id, **values})


@router.get("/users")
async def list_users(who: PrincipalDep, runtime: RuntimeDep) -> list[UserShown]:
    """List the company's employees."""
    async with runtime.reads() as session:
        rows = await sql.run(session, accounts.list_rows, users, who.company_id)
    return [UserShown.model_validate(row) for row in rows]


@router.patch("/users/{user_id}", responses={**NOT_FOUND, **CONFLICT})
async def change_user(
    user_id: PathId, body: UserPatch, who: PrincipalDep, runtime: RuntimeDep
) -> UserShown:
    """Change an employee's fields, e.g. move them to another team (``team_id``)."""
    values = body.model_dump(exclude_unset=True)
    values = {k: v for k, v in values.items() if v is not None or k not in {"name", "role"}}
    if values.get("email"):
        values["email"] = values["email"].lower()
    try:
        async with runtime.sessions.begin() as session:
            user = await sql.run(session, accounts.get_row, users, who.company_id, user_id)
            if user is None:
                raise HTTPException(404, refusal("no_user", user_id=user_id))
            team_id = values.get("team_id")
            if team_id and not await sql.run(
                session, accounts.get_row, teams, who.company_id, team_id
            ):
                raise refuse(("body", "team_id"), refusal("no_team", team_id=team_id))
            await sql.run(session, accounts.change_row, users, who.company_id, user_id, values)
    except IntegrityError as err:
        raise HTTPException(409, refusal("user_exists", email=str(values.get("email")))) from err
    return UserShown.model_validate({**user, **values})


@router.delete("/users/{user_id}", status_code=204, responses={**NOT_FOUND, **CONFLICT})
async def delete_user(user_id: PathId, who: PrincipalDep, runtime: RuntimeDep) -> Response:
    """Delete an employee: their agent tokens stop working; their calls stay, without them."""
    try:
        async with runtime.sessions.begin() as session:
            if not await sql.run(session, user_store.delete_user, who.company_id, user_id):
                raise HTTPException(404, refusal("no_user", user_id=user_id))
    except IntegrityError as err:  # a call or token for them stored meanwhile
        raise HTTPException(409, refusal("user_just_used", user_id=user_id)) from err
    return Response(status_code=204)
