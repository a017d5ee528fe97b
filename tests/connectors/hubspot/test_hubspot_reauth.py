"""A HubSpot token revoked mid-run, over HTTP: pause, tell the admin, re-authorise, lose nothing.

The calls met by the refused token wait (``waiting``, not failed, not dead) and sync by
themselves once new credentials are entered: no replay by hand.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from callbridge.connectors.hubspot.fake import FakeHubSpot
from callbridge.testing.servers import eventually
from tests.connectors.hubspot.hubspot_server import HubSpotServer

pytestmark = pytest.mark.slow

JANE = "+14155550401"  # in HubSpot from the start
FIRST_UNKNOWN = "+14155550402"  # unknown; its contact is made before the token is revoked
SECOND_UNKNOWN = "+14155550403"  # unknown; first calls while the token is refused
OUTGOING_UNKNOWN = "+14155550404"
ROTATED = "pat-na1-rotated"
# Calls as (direction, number, answered), by provider call id, in the order they are made.
BEFORE = {
    "before-jane": ("incoming", JANE, True),
    "before-unknown": ("incoming", FIRST_UNKNOWN, False),
}
REVOKED = {"revoked-jane": ("incoming", JANE, True)}  # the first call to meet the refused token
PAUSED = {
    "paused-jane": ("incoming", JANE, False),
    "paused-first-unknown": ("incoming", FIRST_UNKNOWN, True),
    "paused-second-unknown": ("incoming", SECOND_UNKNOWN, True),
    "paused-second-unknown-again": ("incoming", SECOND_UNKNOWN, False),
    "paused-outgoing": ("outgoing", OUTGOING_UNKNOWN, True),
}
AFTER = {"after-second-unknown": ("incoming", SECOND_UNKNOWN, True)}  # made once re-authorised
EVERY_CALL = {**BEFORE, **REVOKED, **PAUSED, **AFTER}
# The first call of each number met by the refused token (the others queue behind it).
FIRST_OF_EACH_NUMBER = ["revoked-jane", "paused-first-unknown", "paused-second-unknown"]
FIRST_OF_EACH_NUMBER.append("paused-outgoing")


async def test_a_revoked_token_pauses_the_integration_and_its_calls_wait_for_new_credentials(
    hubspot_server: HubSpotServer, fake: FakeHubSpot
) -> None:
    """Calls met by a refused token wait; entering new credentials syncs each once."""
    server = hubspot_server
    jane = fake.state.add("contacts", {"firstname": "Jane", "phone": JANE})
    async with server.client() as client:
        await send_all(server, client, BEFORE)
        await server.wait_settled(BEFORE, frozenset({"done"}))
        # On PostgreSQL a call may have a second sync job (one per fold that saw it final):
        # let it run now, or it would meet the revoked token and join the dead letters.
        await server.wait_idle(client)
        written = snapshot(fake)

        fake.state.tokens.clear()  # the HubSpot admin revokes the private app's token
        await pause_with(server, client, REVOKED)
        requests_when_paused = len(fake.state.requests)
        await send_all(server, client, PAUSED)
        waiting = await call_ids(client, {**REVOKED, **PAUSED})
        await wait_waiting(server, client, waiting)

        shown = (await client.get(server.integration_path)).json()
        assert shown["status"] == "paused"
        assert shown["status_reason"].startswith("CRM refused the credentials: HubSpot refused")
        assert "Re-enter them: the waiting calls then sync." in shown["status_reason"]
        assert shown["status_reason_code"] == "credentials_refused"
        reasons = []
        for call_id in FIRST_OF_EACH_NUMBER:  # the 401, then "integration is paused"
            [sync] = hubspot_syncs(server, await detail(client, waiting[call_id]))
            assert sync["status"] == "waiting", (call_id, sync)
            assert "refused the credentials" in sync["reason"], (call_id, sync)
            reasons.append(sync["reason"])
        assert any("credentials (401)" in reason for reason in reasons)
        assert await dead_syncs(server, client) == [], "waiting is not dying"
        assert snapshot(fake) == written, "nothing is written to HubSpot while refused"
        assert len(fake.state.requests) == requests_when_paused, "a paused integration waits"

        refused = await client.patch(
            server.integration_path, json={"credentials": {"access_token": "pat-na1-revoked"}}
        )
        assert refused.status_code == 422
        assert refused.json()["detail"][0]["loc"] == ["body", "credentials"]
        assert (await client.get(server.integration_path)).json()["status"] == "paused"

        fake.state.tokens.add(ROTATED)  # the admin makes a new token and enters it
        entered = await client.patch(
            server.integration_path, json={"credentials": {"access_token": ROTATED}}
        )
        assert entered.status_code == 200, entered.text
        assert (entered.json()["status"], entered.json()["status_reason"]) == ("active", None)
        assert entered.json()["status_reason_code"] is None
        assert ROTATED not in entered.text

        await send_all(server, client, AFTER)
        # The waiting calls were woken when the credentials were entered: no replay by hand.
        await server.wait_settled(EVERY_CALL, frozenset({"done"}))
        await server.wait_idle(client)
        assert await dead_syncs(server, client) == []
        every = await call_ids(client, EVERY_CALL)

    assert_each_call_logged_once(server, every, jane)


def assert_each_call_logged_once(
    server: HubSpotServer, every: dict[str, str], jane: dict[str, Any]
) -> None:
    """Check each call has one engagement, on the one contact of its number."""
    for call_id, uuid in every.items():
        assert len(server.engagements(uuid)) == 1, f"{call_id} is not logged exactly once"
    assert len(server.fake.state.objects["calls"]) == len(EVERY_CALL)
    assert server.contacts(JANE) == [jane]
    by_number = {JANE: jane}
    for phone in (FIRST_UNKNOWN, SECOND_UNKNOWN, OUTGOING_UNKNOWN):
        [by_number[phone]] = server.contacts(phone)  # one contact per unknown number, no more
    for phone, contact in by_number.items():
        calls = [c for c, (_, number, _) in EVERY_CALL.items() if number == phone]
        logged = {e["properties"]["callbridge_external_id"] for e in server.calls_on(contact["id"])}
        assert logged == {f"callbridge:{every[c]}" for c in calls}


async def send_all(server: HubSpotServer, client: httpx.AsyncClient, calls: dict[str, Any]) -> None:
    """Deliver each whole call, one call after the other."""
    for call_id, call in calls.items():
        await server.send_call(client, call_id, *call)


async def pause_with(
    server: HubSpotServer, client: httpx.AsyncClient, calls: dict[str, Any]
) -> None:
    """Send ``calls`` and wait until the integration shows it is paused."""
    await send_all(server, client, calls)

    async def paused() -> bool:
        return bool((await client.get(server.integration_path)).json()["status"] == "paused")

    await eventually(paused, "the integration to pause", within=30)


async def call_ids(client: httpx.AsyncClient, calls: dict[str, Any]) -> dict[str, str]:
    """Return Callbridge's id of each call, by provider call id (waiting until all are folded)."""
    found: dict[str, str] = {}

    async def folded() -> bool:
        listed = (await client.get("/calls", params={"limit": 500})).json()["calls"]
        found.update(
            {c["provider_call_id"]: c["id"] for c in listed if c["provider_call_id"] in calls}
        )
        return len(found) == len(calls)

    await eventually(folded, f"{len(calls)} calls to be folded", within=30)
    return found


async def dead_syncs(server: HubSpotServer, client: httpx.AsyncClient) -> list[dict[str, Any]]:
    """Return the dead sync jobs of the HubSpot integration, as the API lists them."""
    dead = (await client.get("/jobs/dead")).json()
    mine = [j for j in dead if j["payload"].get("integration_id") == server.integration_id]
    return [j for j in mine if j["task"] == "sync"]


async def wait_waiting(
    server: HubSpotServer, client: httpx.AsyncClient, calls: dict[str, str]
) -> None:
    """Wait until the calls' HubSpot syncs say they wait (for the paused integration)."""

    seen: dict[str, list[tuple[str, str]]] = {}

    async def all_waiting() -> bool:
        for call_id, uuid in calls.items():
            syncs = hubspot_syncs(server, await detail(client, uuid))
            seen[call_id] = [(s["status"], s["reason"]) for s in syncs]
        # A call from the same number as a waiting one queues behind it (one number, one
        # sync at a time): it has no sync row yet.
        statuses = [[status for status, _ in found] for found in seen.values()]
        return all(found in ([], ["waiting"]) for found in statuses) and all(
            seen[call_id] for call_id in FIRST_OF_EACH_NUMBER
        )

    try:
        await eventually(all_waiting, f"the syncs of {len(calls)} calls to wait", within=30)
    except AssertionError as err:  # say where they were
        raise AssertionError(f"{err}: {seen}") from None


async def detail(client: httpx.AsyncClient, call_uuid: str) -> dict[str, Any]:
    """Return a call's page."""
    answer = await client.get(f"/calls/{call_uuid}")
    assert answer.status_code == 200, answer.text
    page: dict[str, Any] = answer.json()
    return page


def hubspot_syncs(server: HubSpotServer, page: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the HubSpot integration's syncs on a call's page."""
    return [s for s in page["syncs"] if s["integration_id"] == server.integration_id]


def snapshot(fake: FakeHubSpot) -> dict[str, int]:
    """Count the objects of each type in the fake."""
    return {kind: len(objects) for kind, objects in fake.state.objects.items()}
