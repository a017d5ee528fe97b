"""Companies and their admin keys from the operator's side: first start, create, issue, revoke."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from callbridge.errors import NotFound
from callbridge.runtime import Runtime
from callbridge.settings import Settings
from callbridge.storage import accounts, sql
from callbridge.storage.integrations import create_integration
from callbridge.telephony.standard_webhooks import generate_secret


@dataclass(frozen=True)
class CreatedCompany:
    """What was created, with the secrets shown only this once."""

    company_id: str
    api_key: str
    source_id: str
    source_secret: str
    integration_id: str


@dataclass(frozen=True)
class OpenedCompany:
    """A company as ``callbridge company create`` made it: its first source, a CRM or none."""

    company_id: str
    api_key: str
    source_id: str
    provider: str
    source_secret: str
    integration_id: str | None


async def create_company(runtime: Runtime, name: str, *, region: str = "US") -> CreatedCompany:
    """Create a company with an admin key, a generic telephony source and a local CRM."""
    opened = await open_company(runtime, name, region=region)
    assert opened.integration_id is not None
    return CreatedCompany(
        opened.company_id,
        opened.api_key,
        opened.source_id,
        opened.source_secret,
        opened.integration_id,
    )


async def open_company(
    runtime: Runtime,
    name: str,
    *,
    region: str = "US",
    provider: str = "generic",
    secret: str | None = None,
    local_crm: bool = True,
) -> OpenedCompany:
    """Create a company with an admin key, its first source and, unless told not to, a local CRM.

    A generic source's secret is generated; any other provider's is the platform's ``secret``.
    """
    now = runtime.clock()
    if secret is None:
        assert provider == "generic", "a vendor source takes the platform's secret"
        secret = generate_secret()
    label = "Generic webhook" if provider == "generic" else provider.title()
    async with runtime.sessions.begin() as session:
        company_id = await sql.run(session, accounts.create_company, name, now)
        key = await sql.run(session, accounts.create_api_key, company_id, "admin", now)
        source_id = await sql.run(
            session,
            accounts.create_source,
            company_id,
            provider,
            label,
            runtime.box.seal([secret]),
            now,
        )
        integration_id = None
        if local_crm:
            integration_id = await sql.run(
                session,
                create_integration,
                company_id,
                now,
                connector="local",
                name="Local CRM",
                default_region=region,
                language="en",
                name_template=None,
                creation_policy="all",
                config={},
                status="active",
            )
    return OpenedCompany(company_id, key, source_id, provider, secret, integration_id)


def demo_on_first_start(settings: Settings) -> bool:
    """Tell whether ``serve`` may create a demo company: only on ``make run``'s defaults.

    That is SQLite with the embedded worker. A production start (PostgreSQL, or workers of
    their own) never creates a company, nor a key nobody asked for.
    """
    return not settings.is_postgres and settings.embedded_worker


async def ensure_demo_company(runtime: Runtime) -> CreatedCompany | None:
    """Create the demo company when the database has no company at all."""
    async with runtime.reads() as session:
        if await sql.run(session, accounts.count_companies):
            return None
    return await create_company(runtime, "Demo company")


async def has_companies(runtime: Runtime) -> bool:
    """Tell whether the database holds any company yet."""
    async with runtime.reads() as session:
        return bool(await sql.run(session, accounts.count_companies))


async def list_companies(runtime: Runtime) -> list[dict[str, Any]]:
    """Return every company's id, name and creation time."""
    async with runtime.reads() as session:
        return await sql.run(session, accounts.list_companies)


async def find_company(runtime: Runtime, ref: str) -> dict[str, Any]:
    """Return the company with id ``ref``, or the only one named ``ref``; raise NotFound."""
    found = [c for c in await list_companies(runtime) if ref in (c["id"], c["name"])]
    if len(found) == 1:
        return found[0]
    if found:
        raise NotFound(f"{len(found)} companies are named {ref!r}: give the company's id")
    raise NotFound(f"no company {ref!r} (`callbridge company list` shows them)")


async def issue_key(runtime: Runtime, company_id: str, name: str) -> accounts.IssuedKey:
    """Issue a new admin API key for a company."""
    async with runtime.sessions.begin() as session:
        return await sql.run(session, accounts.issue_api_key, company_id, name, runtime.clock())


async def list_keys(runtime: Runtime, company_id: str) -> list[dict[str, Any]]:
    """Return a company's API keys: id, name, prefix and times, never the key."""
    async with runtime.reads() as session:
        return await sql.run(session, accounts.list_api_keys, company_id)


async def revoke_key(runtime: Runtime, company_id: str, ref: str) -> dict[str, Any]:
    """Revoke the company's unrevoked key whose id or prefix is ``ref``; raise NotFound."""
    live = [k for k in await list_keys(runtime, company_id) if k["revoked_at"] is None]
    found = [k for k in live if ref in (k["id"], k["prefix"])]
    if len(found) != 1:
        what = "several unrevoked keys have" if found else "no unrevoked key has"
        raise NotFound(f"{what} the id or prefix {ref!r} (`callbridge company key list`)")
    async with runtime.sessions.begin() as session:
        await sql.run(session, accounts.revoke_api_key, company_id, found[0]["id"], runtime.clock())
    return found[0]
