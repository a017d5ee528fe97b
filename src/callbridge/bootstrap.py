"""First start: create a demo company with an admin key, a source and a local CRM integration."""

from __future__ import annotations

from dataclasses import dataclass

from callbridge.runtime import Runtime
from callbridge.storage import accounts
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


async def create_company(runtime: Runtime, name: str, *, region: str = "US") -> CreatedCompany:
    """Create a company with an admin key, a generic telephony source and a local CRM."""
    now = runtime.clock()
    secret = generate_secret()
    async with runtime.sessions.begin() as session:
        company_id = await accounts.create_company(session, name, now)
        key = await accounts.create_api_key(session, company_id, "admin", now)
        source_id = await accounts.create_source(
            session, company_id, "generic", "Generic webhook", runtime.box.seal([secret]), now
        )
        integration_id = await create_integration(
            session,
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
    return CreatedCompany(company_id, key, source_id, secret, integration_id)


async def ensure_demo_company(runtime: Runtime) -> CreatedCompany | None:
    """Create the demo company when the database has no company at all."""
    async with runtime.reads() as session:
        if await accounts.count_companies(session):
            return None
    return await create_company(runtime, "Demo company")
