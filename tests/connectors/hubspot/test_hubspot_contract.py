"""HubSpot, over HTTP against the fake, passes the suites of every capability it declares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import pytest

from callbridge.connectors.base import Connector
from callbridge.connectors.hubspot.connector import HubSpotConnector
from callbridge.connectors.hubspot.fake import FakeHubSpot, ManualClock
from callbridge.testing.contract import contract_test_class
from tests.connectors.hubspot.hubspot_setup import MakeConnector

# Seconds HubSpot's search lags behind writes while a create's answer is lost (the fake's clock
# stands still from then on, so nothing written after that is ever searchable in the test).
INDEX_DELAY = 5.0
# The portal's owners: deals are given to them, employees are mapped to them by e-mail.
OWNERS = [
    {"id": "77", "email": "ann@example.com", "firstName": "Ann", "lastName": "Admin"},
    {"id": "78", "email": "bob@example.com", "firstName": "Bob", "lastName": "Agent"},
]


@dataclass
class HubSpotHarness:
    """Store contacts as a person typing in HubSpot would; read engagements back."""

    connector: Connector
    fake: FakeHubSpot
    make: MakeConnector

    async def in_region(self, region: str) -> HubSpotHarness:
        """Return the same portal set in ``region``, and a connector reading numbers there."""
        self.fake.state.region = region
        return HubSpotHarness(self.make(region=region), self.fake, self.make)

    async def store_record(self, name: str, raw_phone: str) -> str:
        """Create a contact in the fake with its phone as typed."""
        return str(self.fake.state.add("contacts", {"firstname": name, "phone": raw_phone})["id"])

    async def read_call(self, record_id: str, activity_id: str) -> dict[str, Any]:
        """Return the calls engagement's properties under the suite's names."""
        props = self.fake.state.objects["calls"][activity_id]["properties"]
        assert activity_id in await self.calls_on(record_id)
        return {"recording_url": props.get("hs_call_recording_url"), "notes": props["hs_call_body"]}

    async def calls_on(self, record_id: str) -> list[str]:
        """Return the engagements associated with the contact."""
        return self.fake.state.associated("contacts", record_id, "calls")

    async def contacts_with(self, phone_e164: str) -> list[str]:
        """Return the contacts stored with this exact number (HubSpot's own view, no search)."""
        contacts = self.fake.state.objects.get("contacts", {}).values()
        return [c["id"] for c in contacts if c["properties"].get("phone") == phone_e164]

    async def fail_after_commit(self, kind: Literal["call", "contact"]) -> None:
        """Freeze the search index behind the writes, and lose the next create's answer (502)."""
        self.fake.state.clock = ManualClock()
        self.fake.state.search_delay = INDEX_DELAY
        self.fake.state.fail_after_commit(f"{kind}s", 502)

    async def known_users(self) -> dict[str, str | None]:
        """Return the portal's owners."""
        return {str(owner["id"]): owner.get("email") for owner in self.fake.state.owners}

    async def deals_on(self, record_id: str) -> list[str]:
        """Return the deals associated with the contact."""
        return self.fake.state.associated("contacts", record_id, "deals")

    async def deal_owner(self, deal_id: str) -> str | None:
        """Return the deal's ``hubspot_owner_id``."""
        owner = self.fake.state.objects["deals"][deal_id]["properties"].get("hubspot_owner_id")
        return str(owner) if owner else None

    async def tasks_on(self, record_id: str) -> list[str]:
        """Return the tasks associated with the contact."""
        return self.fake.state.associated("contacts", record_id, "tasks")

    async def notes_on(self, record_id: str) -> list[str]:
        """Return the notes associated with the contact."""
        return self.fake.state.associated("contacts", record_id, "notes")


@pytest.fixture
def harness(make_connector: MakeConnector, fake: FakeHubSpot) -> HubSpotHarness:
    """HubSpot on a fresh fake portal with two owners."""
    fake.state.owners = [{**owner, "type": "PERSON", "archived": False} for owner in OWNERS]
    return HubSpotHarness(make_connector(), fake, make_connector)


TestHubSpotConnector = contract_test_class(
    HubSpotConnector.capabilities, name="TestHubSpotConnector"
)
