"""End to end: HubSpot stores a create and answers 502 while its search lags; one object results.

``callbridge serve`` syncs real calls (signed webhooks) on SQLite and on PostgreSQL to the fake,
which commits the call engagement or the new contact and then answers an error, while its search
index lags 0, 2 or 5 s behind the writes. The fake's clock stands still during the sync, so a
lagging write stays unsearchable for as long as the sync retries: only then is the index let
catch up, to check what HubSpot's search finally shows.
"""

from __future__ import annotations

import itertools
import time

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from callbridge.connectors.hubspot.fake import ManualClock
from callbridge.testing.webhooks import call_sequence
from tests.connectors.hubspot.hubspot_server import HubSpotServer
from tests.connectors.hubspot.hubspot_setup import ROOMY

pytestmark = pytest.mark.slow
SEARCH = "/crm/v3/objects/contacts/search"
_numbers = itertools.count(300)


def next_number() -> str:
    """Return a number no earlier scenario of the test used."""
    return f"+1415555{next(_numbers):04d}"


async def searched(server: HubSpotServer, number: str) -> list[str]:
    """Return the contacts HubSpot's search shows with this exact phone."""
    filters = [{"propertyName": "phone", "operator": "EQ", "value": number}]
    async with server.fake_client() as client:
        answer = await client.post(SEARCH, json={"filterGroups": [{"filters": filters}]})
    return [item["id"] for item in answer.json()["results"]]


@settings(max_examples=4)
@given(
    target=st.sampled_from(["calls", "contacts"]),
    delay=st.sampled_from([0.0, 2.0, 5.0]),
    status=st.sampled_from([500, 502, 503, 504]),
)
@example(target="calls", delay=0.0, status=502)
@example(target="calls", delay=2.0, status=502)
@example(target="calls", delay=5.0, status=502)
@example(target="contacts", delay=0.0, status=502)
@example(target="contacts", delay=2.0, status=502)
@example(target="contacts", delay=5.0, status=502)
async def test_a_create_stored_then_answered_502_makes_one_object(
    hubspot_server: HubSpotServer, target: str, delay: float, status: int
) -> None:
    fake = hubspot_server.fake
    clock = ManualClock()
    fake.state.clock, fake.state.search_delay = clock, 0.0
    number = next_number()
    call_id = f"lost-{target}-{number[-4:]}"
    if target == "calls":  # a known caller: the engagement's answer is lost
        fake.state.add("contacts", {"firstname": "Jane", "phone": number})
    fake.state.search_delay = delay
    fake.state.fail_after_commit(target, status)
    async with hubspot_server.client() as client:
        await hubspot_server.send(client, call_sequence(call_id, "incoming", number, answered=True))
        await hubspot_server.wait_settled([call_id], within=90)
    assert not [f for f in fake.state.faults if f.object_type == target], "the fault was hit"
    [contact] = hubspot_server.contacts(number)
    assert len(hubspot_server.calls_on(contact["id"])) == 1
    clock.advance(delay)  # the index catches up: search shows the one contact
    assert await searched(hubspot_server, number) == [contact["id"]]


async def test_without_a_unique_key_the_sync_waits_for_the_search_index(
    hubspot_server: HubSpotServer,
) -> None:
    """A portal that cannot hold the unique key: the retry waits the index out, then finds."""
    fake = hubspot_server.fake
    fake.state.unique_limit = 0  # HubSpot refuses to define callbridge_key as unique
    fake.state.clock = time.monotonic  # a real lag this time: the sync must outwait it
    config = {**ROOMY, "base_url": fake.url, "search_settle_seconds": 4}
    async with hubspot_server.client() as client:
        answer = await client.patch(hubspot_server.integration_path, json={"config": config})
        assert answer.status_code == 200, answer.text
        for target in ("calls", "contacts"):
            number = next_number()
            call_id = f"settle-{target}-{number[-4:]}"
            fake.state.search_delay = 0.0
            if target == "calls":
                fake.state.add("contacts", {"firstname": "Jane", "phone": number})
            fake.state.search_delay = 2.0
            fake.state.fail_after_commit(target, 502)
            await hubspot_server.send(
                client, call_sequence(call_id, "incoming", number, answered=True)
            )
            await hubspot_server.wait_settled([call_id], within=90)
            [contact] = hubspot_server.contacts(number)
            assert len(hubspot_server.calls_on(contact["id"])) == 1
    assert "callbridge_key" not in fake.state.properties["calls"]
