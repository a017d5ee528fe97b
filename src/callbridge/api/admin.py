"""Company administration: own numbers, telephony sources, dead jobs; staff in ``staff``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, Field
from sqlalchemy import update

from callbridge.api import staff
from callbridge.api.deps import PrincipalDep, RuntimeDep
from callbridge.api.models import JsonShown
from callbridge.storage import accounts
from callbridge.storage.tables import companies, telephony_sources
from callbridge.telephony import PROVIDERS
from callbridge.telephony.standard_webhooks import generate_secret
from callbridge.web.fields import Name, PathId, Phone, Storable
from callbridge.web.refusals import AUTHENTICATED, NOT_FOUND

router = APIRouter(tags=["admin"], responses=AUTHENTICATED)


class CompanyPatch(BaseModel):
    """Company settings: its own numbers never match a CRM record."""

    name: Name | None = None
    own_numbers: list[Phone] | None = Field(default=None, max_length=1000)


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


router.include_router(staff.router)
