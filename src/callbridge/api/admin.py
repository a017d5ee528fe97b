"""Company administration: own numbers, teams, users, telephony sources, dead jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Response
from pydantic import BaseModel, Field
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from callbridge.api.deps import PrincipalDep, RuntimeDep
from callbridge.api.fields import Email, Id, Name, PathId, Phone, Storable
from callbridge.api.models import JsonShown
from callbridge.api.refusals import AUTHENTICATED, CONFLICT, NOT_FOUND, refuse
from callbridge.storage import accounts
from callbridge.storage.tables import companies, teams, telephony_sources, users
from callbridge.telephony import PROVIDERS
from callbridge.telephony.standard_webhooks import generate_secret

router = APIRouter(tags=["admin"], responses=AUTHENTICATED)
#: A team permission: a short storable word such as ``is_multicrm_sync``.
Permission = Annotated[Storable, Field(min_length=1, max_length=100)]


class CompanyPatch(BaseModel):
    """Company settings: its own numbers never match a CRM record."""

    name: Name | None = None
    own_numbers: list[Phone] | None = Field(default=None, max_length=1000)


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
    is_multicrm_sync: bool | None = Field(
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


class SourceIn(BaseModel):
    """A generic telephony source: Callbridge generates its signing secret."""

    provider: Literal["generic"] = "generic"
    name: Name


class VendorSourceIn(BaseModel):
    """A vendor's telephony source: the platform makes the webhook secret, pasted here."""

    provider: Literal[tuple(sorted(set(PROVIDERS) - {"generic"}))]  # type: ignore[valid-type]
    name: Name
    secret: Annotated[Storable, Field(min_length=8, max_length=1000)] = Field(
        description="The platform's webhook secret: Aircall's webhook token, Ringover's "
        "signature key (docs/telephony/)"
    )


class CompanyShown(BaseModel):
    """The caller's company."""

    id: str
    name: str
    own_numbers: list[str] = Field(description="Numbers of the company, never matched to a CRM")
    created_at: datetime


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


class SourceShown(BaseModel):
    """A telephony source (never its signing secrets)."""

    id: str
    company_id: str
    provider: str
    name: str
    created_at: datetime


class SourceCreated(BaseModel):
    """A new telephony source: ``secret`` is shown in this answer only."""

    id: str
    provider: str
    name: str
    secret: str = Field(
        description="The signing secret (`whsec_…`, or the platform's as sent); not shown again"
    )
    webhook_path: str = Field(description="Where the platform sends its webhooks")


class SecretRotated(BaseModel):
    """A source's new signing secret, shown in this answer only."""

    id: str
    secret: str = Field(description="The new signing secret; the previous one keeps working")


class DeadJobShown(BaseModel):
    """A job that failed for good, with its last error."""

    id: str
    task: str
    payload: JsonShown
    attempts: int
    error: str
    failed_at: datetime | None


class Replayed(BaseModel):
    """A dead job queued again."""

    id: str
    replayed: bool


@router.get("/company")
async def read_company(who: PrincipalDep, runtime: RuntimeDep) -> CompanyShown:
    """Show the caller's company."""
    async with runtime.reads() as session:
        company = await session.run_sync(accounts.get_company, who.company_id)
    assert company is not None
    return CompanyShown.model_validate(company)


@router.patch("/company")
async def change_company(
    body: CompanyPatch, who: PrincipalDep, runtime: RuntimeDep
) -> CompanyShown:
    """Change the company's name or own numbers."""
    values = body.model_dump(exclude_unset=True, exclude_none=True)
    if values:
        async with runtime.sessions.begin() as session:
            await session.execute(
                update(companies).where(companies.c.id == who.company_id).values(**values)
            )
    return await read_company(who, runtime)


@router.post("/teams", status_code=201, responses=CONFLICT)
async def create_team(body: TeamIn, who: PrincipalDep, runtime: RuntimeDep) -> TeamCreated:
    """Create a team."""
    try:
        async with runtime.sessions.begin() as session:
            team_id = await accounts.create_team(
                session, who.company_id, body.name, body.permissions
            )
    except IntegrityError as err:
        raise HTTPException(409, f"name: a team named {body.name!r} already exists") from err
    return TeamCreated(id=team_id, name=body.name, permissions=body.permissions)


@router.get("/teams")
async def list_teams(who: PrincipalDep, runtime: RuntimeDep) -> list[TeamShown]:
    """List the company's teams."""
    async with runtime.reads() as session:
        rows = await accounts.list_rows(session, teams, who.company_id)
    return [TeamShown.model_validate(row) for row in rows]


@router.patch("/teams/{team_id}", responses={**NOT_FOUND, **CONFLICT})
async def change_team(
    team_id: PathId, body: TeamPatch, who: PrincipalDep, runtime: RuntimeDep
) -> TeamShown:
    """Rename a team or change its permissions; agents' next requests use the new ones."""
    try:
        async with runtime.sessions.begin() as session:
            team = await accounts.get_row(session, teams, who.company_id, team_id)
            if team is None:
                raise HTTPException(404, f"no team {team_id} in this company")
            values = _team_values(body, list(team["permissions"]))
            await accounts.change_row(session, teams, who.company_id, team_id, values)
    except IntegrityError as err:
        raise HTTPException(409, f"name: a team named {body.name!r} already exists") from err
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
    refusal = HTTPException(
        409, f"team {team_id} has members: move them to another team or delete them first"
    )
    try:
        async with runtime.sessions.begin() as session:
            if await accounts.team_has_members(session, who.company_id, team_id):
                raise refusal
            if not await accounts.delete_team(session, who.company_id, team_id):
                raise HTTPException(404, f"no team {team_id} in this company")
    except IntegrityError as err:  # a member added meanwhile
        raise refusal from err
    return Response(status_code=204)


@router.post("/users", status_code=201, responses={**NOT_FOUND, **CONFLICT})
async def create_user(body: UserIn, who: PrincipalDep, runtime: RuntimeDep) -> UserCreated:
    """Create an employee."""
    values = body.model_dump()
    values["email"] = values["email"].lower() if values["email"] else None
    async with runtime.reads() as session:
        known_teams = {t["id"] for t in await accounts.list_rows(session, teams, who.company_id)}
    if values["team_id"] is not None and values["team_id"] not in known_teams:
        raise HTTPException(404, f"team_id: no team {values['team_id']} in this company")
    try:
        async with runtime.sessions.begin() as session:
            user_id = await accounts.create_user(session, who.company_id, **values)
    except IntegrityError as err:
        raise HTTPException(409, f"email: a user with {values['email']} already exists") from err
    return UserCreated.model_validate({"id": user_id, **values})


@router.get("/users")
async def list_users(who: PrincipalDep, runtime: RuntimeDep) -> list[UserShown]:
    """List the company's employees."""
    async with runtime.reads() as session:
        rows = await accounts.list_rows(session, users, who.company_id)
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
            user = await accounts.get_row(session, users, who.company_id, user_id)
            if user is None:
                raise HTTPException(404, f"no user {user_id} in this company")
            team_id = values.get("team_id")
            if team_id and not await accounts.get_row(session, teams, who.company_id, team_id):
                raise refuse(("body", "team_id"), f"no team {team_id} in this company")
            await accounts.change_row(session, users, who.company_id, user_id, values)
    except IntegrityError as err:
        raise HTTPException(
            409, f"email: a user with {values.get('email')} already exists"
        ) from err
    return UserShown.model_validate({**user, **values})


@router.delete("/users/{user_id}", status_code=204, responses=NOT_FOUND)
async def delete_user(user_id: PathId, who: PrincipalDep, runtime: RuntimeDep) -> Response:
    """Delete an employee: their agent tokens stop working; their calls stay, without them."""
    async with runtime.sessions.begin() as session:
        if not await accounts.delete_user(session, who.company_id, user_id):
            raise HTTPException(404, f"no user {user_id} in this company")
    return Response(status_code=204)


@router.post("/sources", status_code=201)
async def create_source(
    body: SourceIn | VendorSourceIn, who: PrincipalDep, runtime: RuntimeDep
) -> SourceCreated:
    """Register a telephony source; its signing secret is shown once, in this answer."""
    secret = body.secret if isinstance(body, VendorSourceIn) else generate_secret()
    async with runtime.sessions.begin() as session:
        source_id = await accounts.create_source(
            session,
            who.company_id,
            body.provider,
            body.name,
            runtime.box.seal([secret]),
            runtime.clock(),
        )
    return SourceCreated(
        id=source_id,
        provider=body.provider,
        name=body.name,
        secret=secret,
        webhook_path=f"/webhooks/{body.provider}/{source_id}",
    )


@router.post("/sources/{source_id}/secrets", status_code=201, responses=NOT_FOUND)
async def rotate_secret(source_id: PathId, who: PrincipalDep, runtime: RuntimeDep) -> SecretRotated:
    """Add a new signing secret; the previous one keeps working until the next rotation."""
    async with runtime.sessions.begin() as session:
        source = await accounts.get_source(session, source_id, who.company_id)
        if source is None:
            raise HTTPException(404, f"no source {source_id} in this company")
        kept = runtime.box.open(source["secrets_encrypted"])
        assert isinstance(kept, list)
        secret = generate_secret()
        await session.execute(
            update(telephony_sources)
            .where(
                telephony_sources.c.company_id == who.company_id,
                telephony_sources.c.id == source_id,
            )
            .values(secrets_encrypted=runtime.box.seal([secret, *kept[:1]]))
        )
    runtime.sources.forget(source_id)
    return SecretRotated(id=source_id, secret=secret)


@router.get("/sources")
async def list_sources(who: PrincipalDep, runtime: RuntimeDep) -> list[SourceShown]:
    """List telephony sources (never their secrets)."""
    async with runtime.reads() as session:
        rows = await accounts.list_rows(session, telephony_sources, who.company_id)
    return [SourceShown.model_validate(row) for row in rows]


@router.get("/jobs/dead")
async def dead_jobs(who: PrincipalDep, runtime: RuntimeDep) -> list[DeadJobShown]:
    """List the company's jobs that failed for good, with their errors."""
    jobs = await runtime.queue.dead_letters(limit=500, company_id=who.company_id)
    return [DeadJobShown.model_validate(vars(job)) for job in jobs]


@router.post("/jobs/dead/{job_id}/replay", responses=NOT_FOUND)
async def replay(
    job_id: Annotated[int, Path(ge=1, le=2**63 - 1)], who: PrincipalDep, runtime: RuntimeDep
) -> Replayed:
    """Run a dead job again."""
    if not await runtime.queue.replay(str(job_id), company_id=who.company_id):
        raise HTTPException(404, f"no dead job {job_id} in this company")
    return Replayed(id=str(job_id), replayed=True)
