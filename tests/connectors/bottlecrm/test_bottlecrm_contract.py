"""BottleCRM passes the connector contract suite, against a real BottleCRM server."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from callbridge.connectors.base import Connector
from callbridge.connectors.bottlecrm.mapping import call_from_body, split_name
from callbridge.testing.contract import ConnectorContract
from conftest import store_contact


@dataclass
class BottleCrmHarness:
    """Store records and read calls back through BottleCRM's own REST API."""

    connector: Connector
    api: httpx.AsyncClient

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


class TestBottleCrmConnector(ConnectorContract):
    """The shared contract, each test on a fresh org of the real server."""

    @pytest.fixture
    def harness(self, connector: Connector, bottlecrm_api: httpx.AsyncClient) -> BottleCrmHarness:
        return BottleCrmHarness(connector, bottlecrm_api)
