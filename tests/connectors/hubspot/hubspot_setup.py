"""What the HubSpot tests share: the fake's token, budgets no test reaches, our own properties."""

from __future__ import annotations

from collections.abc import Callable

from callbridge.connectors.hubspot.connector import HubSpotConnector
from callbridge.connectors.hubspot.fake import FakeHubSpot
from callbridge.testing.servers import LOOPBACK

__all__ = ["LOOPBACK", "ROOMY", "TOKEN", "MakeConnector", "define_ours"]

TOKEN = "pat-na1-test"
# Budgets no test reaches unless it means to: tests of behaviour are not about the limits.
ROOMY = {"requests_per_10s": 10_000, "searches_per_second": 1000, "create_custom_properties": True}
# The make_connector fixture: HubSpot connectors on the fake, config and credentials overridable.
MakeConnector = Callable[..., HubSpotConnector]


def define_ours(fake: FakeHubSpot, kind: str) -> None:
    """Define Callbridge's custom properties on an object type, as a consenting setup would."""
    fake.state.properties[kind] |= {"callbridge_external_id", "callbridge_record_id"}
    fake.state.properties[kind].add("callbridge_key")
    fake.state.unique.setdefault(kind, set()).add("callbridge_key")
