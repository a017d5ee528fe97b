"""End to end over HTTP: Callbridge → the HubSpot fake (national formats, bursts, retries, 429s)."""

from __future__ import annotations

import asyncio

import pytest

from callbridge.connectors.hubspot.fake import FakeHubSpot
from callbridge.testing.webhooks import call_sequence
from tests.connectors.hubspot.hubspot_server import HubSpotServer

pytestmark = pytest.mark.slow


async def test_a_number_stored_in_a_national_format_gets_the_call(
    sqlite_server: HubSpotServer, fake: FakeHubSpot
) -> None:
    hubspot_server = sqlite_server
    jane = fake.state.add("contacts", {"firstname": "Jane", "phone": "(415) 555-0199"})
    async with hubspot_server.client() as client:
        for event in call_sequence("nat-1", "incoming", "+1 415 555 0199", answered=True):
            await hubspot_server.send(client, [event])
        await hubspot_server.wait_settled(["nat-1"])
    assert len(fake.state.objects["contacts"]) == 1, "no contact for a number HubSpot has"
    [logged] = hubspot_server.calls_on(jane["id"])
    assert logged["properties"]["hs_call_direction"] == "INBOUND"


async def test_fifty_concurrent_calls_from_one_unknown_number_make_one_contact(
    hubspot_server: HubSpotServer,
) -> None:
    number = "+14155550177"
    async with hubspot_server.client() as client:

        async def deliver(index: int) -> None:
            sequence = call_sequence(f"burst-{index}", "incoming", number, answered=index % 2 == 0)
            for event in sequence:
                await hubspot_server.send(client, [event])

        await asyncio.gather(*(deliver(i) for i in range(50)))
        await hubspot_server.wait_settled([f"burst-{i}" for i in range(50)])
    [contact] = hubspot_server.contacts(number)
    assert contact["properties"]["firstname"] == "New Callbridge Contact"
    logged = hubspot_server.calls_on(contact["id"])
    assert len({c["properties"]["callbridge_external_id"] for c in logged}) == len(logged) == 50


async def test_each_event_delivered_three_times_gives_one_engagement(
    sqlite_server: HubSpotServer, fake: FakeHubSpot
) -> None:
    hubspot_server = sqlite_server
    jane = fake.state.add("contacts", {"firstname": "Jane", "phone": "+14155550134"})
    async with hubspot_server.client() as client:
        for index in range(5):
            for event in call_sequence(f"dup-{index}", "incoming", "+14155550134", answered=True):
                for _ in range(3):
                    await hubspot_server.send(client, [event])
        await hubspot_server.wait_settled([f"dup-{i}" for i in range(5)])
        await asyncio.sleep(1)  # room for a stray duplicate job to show itself
    assert len(hubspot_server.calls_on(jane["id"])) == 5
    assert len(fake.state.objects["calls"]) == 5


async def test_a_429_burst_loses_nothing_and_duplicates_nothing(
    hubspot_server: HubSpotServer, fake: FakeHubSpot
) -> None:
    known = [fake.state.add("contacts", {"phone": f"+1415555020{i}"}) for i in range(5)]
    fake.state.force(429, times=25)
    async with hubspot_server.client() as client:
        for index in range(10):
            for event in call_sequence(
                f"rl-{index}", "incoming", f"+1415555020{index}", answered=True
            ):
                await hubspot_server.send(client, [event])
        await hubspot_server.wait_settled([f"rl-{i}" for i in range(10)], within=80)
    assert fake.state.rejected_429 == 25
    assert all(len(hubspot_server.calls_on(c["id"])) == 1 for c in known)
    for index in range(5, 10):
        [created] = hubspot_server.contacts(f"+1415555020{index}")
        assert len(hubspot_server.calls_on(created["id"])) == 1
    assert len(fake.state.objects["calls"]) == 10


async def test_the_agent_mapped_by_email_owns_the_engagement(
    sqlite_server: HubSpotServer, fake: FakeHubSpot
) -> None:
    """An employee whose e-mail a HubSpot owner has is that call's owner (hubspot_owner_id)."""
    fake.state.owners = [
        {"id": "4242", "email": "ada@example.com", "firstName": "Ada", "lastName": "L",
         "type": "PERSON", "archived": False},
    ]  # fmt: skip
    jane = fake.state.add("contacts", {"firstname": "Jane", "phone": "+14155550166"})
    async with sqlite_server.client() as client:
        made = await client.post("/users", json={"name": "Ada", "email": "Ada@example.com"})
        assert made.status_code == 201, made.text
        events = call_sequence(
            "owned-1", "incoming", "+14155550166", answered=True, agent_email="ada@example.com"
        )
        await sqlite_server.send(client, events)
        await sqlite_server.wait_settled(["owned-1"])
    [logged] = sqlite_server.calls_on(jane["id"])
    assert logged["properties"]["hubspot_owner_id"] == "4242"
