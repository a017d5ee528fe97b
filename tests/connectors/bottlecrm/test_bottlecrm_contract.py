"""BottleCRM passes the suites of every capability it declares, against a real BottleCRM server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import pytest

from callbridge.connectors.base import Connector
from callbridge.connectors.bottlecrm.connector import BottleCrmConnector
from callbridge.connectors.bottlecrm.mapping import call_from_body, split_name
from callbridge.testing.bottlecrm_server import BottleCrm, BottleCrmOrg
from callbridge.testing.contract import contract_test_class
from callbridge.testing.fakes.lost_answers import LosingTransport
from tests.connectors.bottlecrm.bottlecrm_setup import bottlecrm_connector, store_contact

pytestmark = pytest.mark.slow

# The create each kind is, in BottleCRM's API.
CREATES = {"call": ("POST", "/api/interactions/"), "contact": ("POST", "/api/contacts/")}


@dataclass
class BottleCrmHarness:
    """Store records and read calls back through BottleCRM's own REST API."""

    connector: Connector
    api: httpx.AsyncClient
    transport: LosingTransport
    org: BottleCrmOrg
    make: Callable[[str], Connector]

    async def in_region(self, region: str) -> BottleCrmHarness:
        """Return the same org with a connector reading numbers in ``region``."""
        return BottleCrmHarness(self.make(region), self.api, self.transport, self.org, self.make)

    async def store_record(self, name: str, raw_phone: str) -> str:
        """Create a contact with its phone typed as given."""
        first, last = split_name(name)
        return await store_contact(self.api, first, last, raw_phone)

    async def read_call(self, record_id: str, activity_id: str) -> dict[str, Any]:
        """Return the interaction as BottleCRM holds it, its body read back into fields."""
        answer = await self.api.get("/api/interactions/", params={"contact": record_id})
        answer.raise_for_status()
        found = next(i for i in answer.json()["interactions"] if i["id"] == activity_id)
        return {**found, **call_from_body(found["body"])}

    async def calls_on(self, record_id: str) -> list[str]:
        """Return the ids of the contact's interactions."""
        answer = await self.api.get("/api/interactions/", params={"contact": record_id})
        answer.raise_for_status()
        return [str(i["id"]) for i in answer.json()["interactions"]]

    async def contacts_with(self, phone_e164: str) -> list[str]:
        """Return the contacts BottleCRM holds with the number (a database query, no index lag)."""
        answer = await self.api.post("/api/contacts/duplicates/", json={"phone": phone_e164})
        answer.raise_for_status()
        return [str(c["id"]) for c in answer.json()["duplicates"]]

    async def fail_after_commit(self, kind: Literal["call", "contact"]) -> None:
        """Let the next create reach BottleCRM, then lose its answer (a read timeout)."""
        self.transport.lose(*CREATES[kind])

    async def known_users(self) -> dict[str, str | None]:
        """Return the org's admin and agent profiles."""
        org = self.org
        return {org.admin_profile_id: org.admin_email, org.agent_profile_id: org.agent_email}

    async def deals_on(self, record_id: str) -> list[str]:
        """Return the opportunities naming the contact."""
        return [str(d["id"]) for d in (await self._contact(record_id))["opportunities"]]

    async def deal_owner(self, deal_id: str) -> str | None:
        """Return the opportunity's first assignee."""
        answer = await self.api.get(f"/api/opportunities/{deal_id}/")
        answer.raise_for_status()
        owners = answer.json()["opportunity_obj"]["assigned_to"]
        return str(owners[0]["id"]) if owners else None

    async def tasks_on(self, record_id: str) -> list[str]:
        """Return the tasks linked to the contact."""
        return [str(t["id"]) for t in (await self._contact(record_id))["tasks"]]

    async def notes_on(self, record_id: str) -> list[str]:
        """Return the comments on the contact."""
        return [str(c["id"]) for c in (await self._contact(record_id))["comments"]]

    async def _contact(self, record_id: str) -> dict[str, Any]:
        answer = await self.api.get(f"/api/contacts/{record_id}/")
        answer.raise_for_status()
        return dict(answer.json())


@pytest.fixture
async def losing_http() -> AsyncIterator[tuple[httpx.AsyncClient, LosingTransport]]:
    """An HTTP client for the connector whose transport can lose chosen answers."""
    transport = LosingTransport()
    async with httpx.AsyncClient(transport=transport, timeout=30) as client:
        yield client, transport


@pytest.fixture
def harness(
    bottlecrm: BottleCrm,
    bottlecrm_org: BottleCrmOrg,
    bottlecrm_api: httpx.AsyncClient,
    losing_http: tuple[httpx.AsyncClient, LosingTransport],
) -> BottleCrmHarness:
    """The connector on a fresh org of the real server (an admin and an agent)."""
    http, transport = losing_http

    def make(region: str) -> Connector:
        return bottlecrm_connector(http, bottlecrm.url, bottlecrm_org.token, region)

    return BottleCrmHarness(make("US"), bottlecrm_api, transport, bottlecrm_org, make)


TestBottleCrmConnector = contract_test_class(
    BottleCrmConnector.capabilities, name="TestBottleCrmConnector"
)
