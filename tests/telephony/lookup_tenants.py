"""Two companies with a vendor source each and records in their local CRM, for lookup tests.

A test module names its provider and the two sources' keys with a ``lookup_sources`` fixture;
the ``acme`` and ``globex`` fixtures (``tests/telephony/conftest.py``) build the companies.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx

from callbridge.runtime import Runtime
from callbridge.service.bootstrap import CreatedCompany
from tests.in_process import company_client

# One US caller, written as each platform sends it; every company's CRM may hold it.
CALLER = "+14155550134"
STORED = "(415) 555-0134"


@dataclass(frozen=True)
class LookupSources:
    """The provider of both companies' sources, and the key of each."""

    provider: str
    acme_key: str
    globex_key: str


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


async def company_with_source(
    runtime: Runtime, name: str, provider: str, key: str
) -> AsyncIterator[Company]:
    """Create a company and a ``provider`` source keyed ``key``; yield it with its admin client."""
    async with company_client(runtime, name) as (created, client):
        body = {"provider": provider, "name": f"{name} {provider}", "secret": key}
        answer = await client.post("/sources", json=body)
        assert answer.status_code == 201, answer.text
        yield Company(created, client, answer.json()["id"], key)
