"""HubSpot, over HTTP against the fake, passes the shared connector contract suite."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import pytest

from callbridge.connectors.base import Connector
from callbridge.connectors.hubspot.fake import FakeHubSpot, ManualClock
from callbridge.testing.contract import ConnectorContract
from tests.connectors.hubspot.hubspot_setup import MakeConnector

# Seconds HubSpot's search lags behind writes while a create's answer is lost (the fake's clock
# stands still from then on, so nothing written after that is ever searchable in the test).
INDEX_DELAY = 5.0


@dataclass
class HubSpotHarness:
    """Store contacts as a person typing in HubSpot would; read engagements back."""

    connector: Connector
    fake: FakeHubSpot

    async def store_record(self, name: str, raw_phone: str) -> str:
        """Create a contact in the fake with its phone as typed."""
        return str(self.fake.state.add("contacts", {"firstname": name, "phone": raw_phone})["id"])

    async def read_call(self, record_id: str, activity_id: str) -> dict[str, Any]:
        """Return the calls engagement's properties under the suite's names."""
        props = self.fake.state.objects["calls"][activity_id]["properties"]
        assert (record_id, activity_id) in {
            (a[3], a[1]) for a in self.fake.state.associations if a[0] == "calls"
        }
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


class TestHubSpotConnector(ConnectorContract):
    """The shared contract, against HubSpot on the fake."""

    @pytest.fixture
    def harness(self, make_connector: MakeConnector, fake: FakeHubSpot) -> HubSpotHarness:
        return HubSpotHarness(make_connector(), fake)
