"""The six contact creation policies (docs/behaviour.md) over HTTP, Callbridge to the HubSpot fake.

One server per database, shared by the module: each test sets the policy through the API on the
running server (a change applies to the next call, with no restart), then calls from numbers of
its own, so the tests do not depend on each other's order.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio

from callbridge.connectors.hubspot.fake import FakeHubSpot
from callbridge.rules.policy import CreationPolicy
from callbridge.testing.webhooks import call_sequence, generic_event
from tests.connectors.hubspot.hubspot_server import HubSpotServer, database, serving

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

# The kinds of call that exist, as (name, direction, outcome); together they hold every call type
# of §1.2: incoming, outgoing, missed (not answered, or dropped before the conversation was
# established) and answered (a conversation took place, then either side hung up).
KINDS = (
    ("incoming-missed", "incoming", "missed"),
    ("incoming-dropped", "incoming", "dropped"),
    ("incoming-answered", "incoming", "answered"),
    ("outgoing-answered", "outgoing", "answered"),
    ("outgoing-unanswered", "outgoing", "dropped"),
)
# Whether each kind of call from an unknown number creates a contact, by policy (docs/behaviour.md).
TABLE = {
    #                      in-missed, in-dropped, in-answered, out-answered, out-unanswered
    CreationPolicy.ALL: (True, True, True, True, True),
    CreationPolicy.INCOMING: (True, True, True, False, False),
    CreationPolicy.OUTGOING: (False, False, False, True, True),
    CreationPolicy.MISSED: (True, True, False, False, False),
    CreationPolicy.ANSWERED: (False, False, True, True, False),
    CreationPolicy.NONE: (False, False, False, False, False),
}
POLICIES = list(CreationPolicy)
DIRECTION = {"incoming": "INBOUND", "outgoing": "OUTBOUND"}


def number(policy: CreationPolicy, slot: int) -> str:
    """Return a number of its own for each policy and slot (0-4: a kind of call, 9: known)."""
    return f"+141555503{POLICIES.index(policy)}{slot}"


def events(call_id: str, direction: str, phone: str, outcome: str) -> list[dict[str, Any]]:
    """Return the events of a whole call; "dropped" ends it after 3 s of ringing, unanswered."""
    if outcome != "dropped":
        return call_sequence(call_id, direction, phone, answered=outcome == "answered")
    company = "+14155550100"
    parties = (
        {"from": phone, "to": company}
        if direction == "incoming"
        else {"from": company, "to": phone}
    )
    start = datetime.now(UTC)
    return [
        generic_event("call.ringing", call_id, at=start, direction=direction, **parties),
        generic_event(
            "call.ended", call_id, at=start + timedelta(seconds=3), duration=0,
            direction=direction, **parties,
        ),
    ]  # fmt: skip


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["sqlite", "postgres"])
async def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[HubSpotServer]:
    """One server and one fresh HubSpot fake per database, for the whole module."""
    directory = tmp_path_factory.mktemp(request.param)
    with FakeHubSpot() as fake, database(request.param, directory) as url:
        async with serving(url, directory, fake) as running:
            yield running


@pytest.mark.parametrize("policy", POLICIES, ids=str)
async def test_the_policy_decides_which_unknown_callers_become_hubspot_contacts(
    server: HubSpotServer, policy: CreationPolicy
) -> None:
    """Exactly the calls of the policy's row create a contact; every call is synced or explained."""
    known_number = number(policy, 9)
    known = server.fake.state.add("contacts", {"firstname": "Known", "phone": known_number})
    calls = {f"{policy}-{name}": (direction, number(policy, slot), outcome)
             for slot, (name, direction, outcome) in enumerate(KINDS)}  # fmt: skip
    calls[f"{policy}-known"] = ("incoming", known_number, "answered")
    async with server.client() as client:
        changed = await client.patch(server.integration_path, json={"creation_policy": policy})
        assert changed.status_code == 200, changed.text
        assert changed.json()["creation_policy"] == policy
        await asyncio.gather(
            *(server.send(client, events(call_id, *call)) for call_id, call in calls.items())
        )
        rows = await server.wait_settled(calls)
        await server.wait_idle(client)  # a redundant sync job must not add anything either
        details = {
            call_id: (await client.get(f"/calls/{row['call_id']}")).json()
            for call_id, row in rows.items()
        }

    for call_id, creates in zip(list(calls)[: len(KINDS)], TABLE[policy], strict=True):
        direction, phone, outcome = calls[call_id]
        assert details[call_id]["state"] == ("ended" if outcome == "answered" else "missed")
        sync = hubspot_sync(server, details[call_id])
        engagements = server.engagements(details[call_id]["id"])
        if creates:
            [contact] = server.contacts(phone)
            assert contact["properties"]["firstname"] == "New Callbridge Contact"
            assert sync["status"] == "done", sync
            assert sync["match_rule"] == "created a contact for the unknown caller"
            [engagement] = engagements
            assert [c["id"] for c in server.calls_on(contact["id"])] == [engagement["id"]]
            assert engagement["properties"]["hs_call_direction"] == DIRECTION[direction]
        else:
            assert server.contacts(phone) == [], f"{call_id} made a contact under {policy!r}"
            assert sync["status"] == "no_match", sync
            assert f"'{policy}'" in sync["reason"], sync["reason"]
            assert engagements == []
            [skipped] = hubspot_rows(server, details[call_id], "actions", "create_contact")
            assert (skipped["status"], skipped["target"]) == ("skipped", phone)
            assert skipped["reason"] == sync["reason"]
    made = [c for _, phone, _ in calls.values() for c in server.contacts(phone)]
    assert len(made) == sum(TABLE[policy]) + 1  # and the known contact

    # A caller HubSpot knows gets the call whatever the policy, and no contact is made for them.
    known_call = details[f"{policy}-known"]
    assert hubspot_sync(server, known_call)["status"] == "done"
    assert server.contacts(known_number) == [known]
    [logged] = server.calls_on(known["id"])
    assert server.engagements(known_call["id"]) == [logged]


async def test_a_policy_change_does_not_reach_back_to_a_call_already_decided(
    server: HubSpotServer,
) -> None:
    """Late data for a call decided under "none" makes no contact after the policy is "all"."""
    phone, call_id = "+14155550390", "decided-under-none"
    caller: dict[str, Any] = {"direction": "incoming", "from": phone, "to": "+14155550100"}
    async with server.client() as client:
        await client.patch(server.integration_path, json={"creation_policy": "none"})
        await server.send(client, events(call_id, "incoming", phone, "missed"))
        await server.wait_settled([call_id])
        await server.wait_idle(client)
        await client.patch(server.integration_path, json={"creation_policy": "all"})
        late = generic_event("call.updated", call_id, notes="left a message", **caller)
        await server.send(client, [late])
        await server.wait_idle(client)  # the late event's fold, and the sync it queues
        [row] = (await server.syncs([call_id])).values()
    assert server.contacts(phone) == []
    assert row["status"] == "no_match"


def hubspot_sync(server: HubSpotServer, detail: dict[str, Any]) -> dict[str, Any]:
    """Return the HubSpot integration's sync of a call, as the call's page shows it."""
    [sync] = hubspot_rows(server, detail, "syncs")
    return sync


def hubspot_rows(
    server: HubSpotServer, detail: dict[str, Any], part: str, action: str | None = None
) -> list[dict[str, Any]]:
    """Return the HubSpot integration's rows of one part of a call's page (syncs, actions)."""
    rows = [r for r in detail[part] if r["integration_id"] == server.integration_id]
    return [r for r in rows if action is None or r["action"] == action]
