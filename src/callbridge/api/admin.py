"""Company administration: own numbers, dead jobs; staff in ``staff``, sources in ``sources``."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Annotated, Literal
from zoneinfo import available_timezones

from fastapi import APIRouter, HTTPException, Path
from pydantic import AfterValidator, BaseModel, Field

from callbridge.api import sources, staff
from callbridge.api.deps import PrincipalDep, RuntimeDep
from callbridge.api.models import JsonShown
from callbridge.refusal_codes import refusal
from callbridge.storage import accounts, sql
from callbridge.web.fields import Name, Phone, Storable
from callbridge.web.refusals import AUTHENTICATED, NOT_FOUND, invalid

router = APIRouter(tags=["admin"], responses=AUTHENTICATED)
#: The languages of the screens (``callbridge.ui.i18n.LANGUAGES``).
ScreenLanguage = Literal["en", "fr", "es"]
#: The settings a null leaves as they are (every company has them); a null language clears it.
KEPT_ON_NULL = ("name", "own_numbers", "time_zone")
LANGUAGE_HELP = "The screens' language when the user picked none; null: the browser's"
ZONE_HELP = "The IANA time zone the screens show times in, e.g. Europe/Paris (default UTC)"


@cache
def time_zones() -> frozenset[str]:
    """Return the IANA zone names this system knows (``zoneinfo``'s database)."""
    return frozenset(available_timezones())


def _known_zone(value: str) -> str:
    if value not in time_zones():
        raise invalid("unknown_time_zone", zone=value[:64])
    return value


#: A time zone by its IANA name (``companies.time_zone``, 64 characters).
TimeZone = Annotated[
    Storable,
    Field(min_length=1, max_length=64, description=ZONE_HELP),
    AfterValidator(_known_zone),
]


class CompanyPatch(BaseModel):
    """Company settings: own numbers never match a CRM record; its screens' language and zone."""

    name: Name | None = None
    own_numbers: list[Phone] | None = Field(default=None, max_length=1000)
    language: ScreenLanguage | None = Field(default=None, description=LANGUAGE_HELP)
    time_zone: TimeZone | None = None


class CompanyShown(BaseModel):
    """The caller's company."""

    id: str
    name: str
    own_numbers: list[str] = Field(description="Numbers of the company, never matched to a CRM")
    created_at: datetime
    language: ScreenLanguage | None = Field(description=LANGUAGE_HELP)
    time_zone: str = Field(description=ZONE_HELP)


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
        company = await sql.run(session, accounts.get_company, who.company_id)
    assert company is not None
    return CompanyShown.model_validate(company)


@router.patch("/company")
async def change_company(
    body: CompanyPatch, who: PrincipalDep, runtime: RuntimeDep
) -> CompanyShown:
    """Change the company's name, own numbers, language or time zone; only those given change."""
    given = body.model_dump(exclude_unset=True)
    values = {k: v for k, v in given.items() if v is not None or k not in KEPT_ON_NULL}
    if values:
        async with runtime.sessions.begin() as session:
            await sql.run(session, accounts.change_company, who.company_id, values)
    return await read_company(who, runtime)


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
        raise HTTPException(404, refusal("no_dead_job", job_id=job_id))
    return Replayed(id=str(job_id), replayed=True)


router.include_router(staff.router)
router.include_router(sources.router)
