"""HubSpot, over HTTP against the fake, passes the shared connector contract suite."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from callbridge.connectors.base import Connector
from callbridge.testing.contract import ConnectorContract
from callbridge.testing.fakes.hubspot import FakeHubSpot
from conftest import MakeConnector


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


class TestHubSpotConnector(ConnectorContract):
    """The shared contract, against HubSpot on the fake."""

    @pytest.fixture
    def harness(self, make_connector: MakeConnector, fake: FakeHubSpot) -> HubSpotHarness:
        return HubSpotHarness(make_connector(), fake)
