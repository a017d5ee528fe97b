"""BottleCRM passes the connector contract suite, against a real BottleCRM server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import pytest

from callbridge.connectors.base import Connector
from callbridge.connectors.bottlecrm.mapping import call_from_body, split_name
from callbridge.testing.bottlecrm_server import BottleCrm, BottleCrmOrg
from callbridge.testing.contract import ConnectorContract
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


@pytest.fixture
async def losing_http() -> AsyncIterator[tuple[httpx.AsyncClient, LosingTransport]]:
    """An HTTP client for the connector whose transport can lose chosen answers."""
    transport = LosingTransport()
    async with httpx.AsyncClient(transport=transport, timeout=30) as client:
        yield client, transport


class TestBottleCrmConnector(ConnectorContract):
    """The shared contract, each test on a fresh org of the real server."""

    @pytest.fixture
    def harness(
        self,
        bottlecrm: BottleCrm,
        bottlecrm_org: BottleCrmOrg,
        bottlecrm_api: httpx.AsyncClient,
        losing_http: tuple[httpx.AsyncClient, LosingTransport],
    ) -> BottleCrmHarness:
        http, transport = losing_http
        connector = bottlecrm_connector(http, bottlecrm.url, bottlecrm_org.token)
        return BottleCrmHarness(connector, bottlecrm_api, transport)
