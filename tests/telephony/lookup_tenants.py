"""Two companies with a vendor source each and records in their local CRM, for lookup tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from callbridge.api.app import create_app
from callbridge.runtime import Runtime
from callbridge.service.bootstrap import CreatedCompany, create_company
from callbridge.settings import Settings

# One US caller, written as each platform sends it; every company's CRM may hold it.
CALLER = "+14155550134"
STORED = "(415) 555-0134"


@dataclass
class Company:
    """A company, its admin client and one vendor source with its key."""

    created: CreatedCompany
    client: httpx.AsyncClient
    source_id: str
    key: str

    async def record(self, name: str, kind: str = "contact", phone: str = STORED) -> str:
        """Create a record in the company's local CRM; return its id."""
        path = f"/integrations/{self.created.integration_id}/records"
        body = {"name": name, "object_type": kind, "phones": [phone]}
        answer = await self.client.post(path, json=body)
        assert answer.status_code == 201, answer.text
        return str(answer.json()["id"])


async def runtime_on(url: str, data: Path) -> AsyncIterator[Runtime]:
    """A runtime on a migrated database."""
    runtime = Runtime.create(Settings(data_dir=data, database_url=url))
    yield runtime
    await runtime.close()


async def company_with_source(
    runtime: Runtime, name: str, provider: str, key: str
) -> AsyncIterator[Company]:
    """Create a company and a ``provider`` source keyed ``key``; yield it with its admin client."""
    created = await create_company(runtime, name)
    transport = httpx.ASGITransport(app=create_app(runtime))
    headers = {"Authorization": f"Bearer {created.api_key}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://callbridge.test", headers=headers
    ) as client:
        body = {"provider": provider, "name": f"{name} {provider}", "secret": key}
        answer = await client.post("/sources", json=body)
        assert answer.status_code == 201, answer.text
        yield Company(created, client, answer.json()["id"], key)
