"""The default matrix end to end over HTTP on the local CRM: each scenario's exact CRM state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from callbridge.testing.webhooks import call_sequence, generic_event
from tests.e2e.e2e_server import Server, wait_synced

pytestmark = pytest.mark.slow

JANE = "+14155550134"
T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
RECORDING = "https://rec.example.com/call.mp3"
UTM = {"source": "google", "medium": "cpc", "campaign": "winter"}


@dataclass
class Company:
    """The people and records every scenario starts from."""

    ann: str
    bob: str
    tom: str
    jane: str
    deal: str


async def seed(server: Server, client: httpx.AsyncClient) -> Company:
    """Create Ann and Bob (agents), Tom (TOP manager), Jane (Bob's client) and her open deal."""
    ids = {}
    for name, role in (("Ann", "agent"), ("Bob", "agent"), ("Tom", "top_manager")):
        user = await client.post(
            "/users", json={"name": name, "email": f"{name.lower()}@acme.test", "role": role}
        )
        ids[name] = user.json()["id"]
    jane = (
        await client.post(
            server.records_path,
            json={"name": "Jane Client", "phones": ["(415) 555-0134"], "owner": ids["Bob"]},
        )
    ).json()
    path = f"/integrations/{server.company.integration_id}/deals"
    deal = (
        await client.post(
            path, json={"record_id": jane["id"], "name": "Jane renewal", "owner": ids["Bob"]}
        )
    ).json()
    return Company(ids["Ann"], ids["Bob"], ids["Tom"], jane["id"], deal["id"])


async def crm_state(server: Server, client: httpx.AsyncClient) -> dict[str, Any]:
    """Return the local CRM's records, activities, deals, tasks and notes."""
    base = f"/integrations/{server.company.integration_id}"
    listing = (await client.get(server.records_path, params={"limit": 500})).json()["records"]
    details = [(await client.get(f"{server.records_path}/{r['id']}")).json() for r in listing]
    return {
        "records": {d["id"]: d for d in details},
        "deals": (await client.get(f"{base}/deals")).json(),
        "tasks": (await client.get(f"{base}/tasks")).json(),
        "notes": (await client.get(f"{base}/notes")).json(),
    }


async def run_call(server: Server, client: httpx.AsyncClient, events: list[Any]) -> Any:
    """Deliver a call's events and wait for its sync."""
    for event in events:
        assert (await server.send(client, event)).status_code == 200
    [detail] = await wait_synced(client, events[0]["call"]["id"])
    return detail


def _at(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def new_contact(state: dict[str, Any], jane: str) -> dict[str, Any]:
    """Return the one record created by the call."""
    [created] = [r for key, r in state["records"].items() if key != jane]
    return dict(created)


async def test_incoming_new_client_answered(server: Server) -> None:
    async with server.client() as client:
        people = await seed(server, client)
        events = call_sequence(
            "m-1",
            "incoming",
            "+14155550171",
            answered=True,
            start=T0,
            agent_email="ann@acme.test",
            recording_url=RECORDING,
            utm=UTM,
        )
        detail = await run_call(server, client, events)
        state = await crm_state(server, client)
    contact = new_contact(state, people.jane)
    assert (contact["name"], contact["phones"]) == ("New Callbridge Contact", ["+14155550171"])
    [deal] = [d for d in state["deals"] if d["id"] != people.deal]
    assert (deal["record_id"], deal["owner"], deal["name"]) == (
        contact["id"],
        people.ann,
        "Call from +1 415-555-0171",
    )
    assert deal["utm"] == UTM
    [activity] = contact["activities"]
    assert (activity["deal_id"], activity["recording_url"]) == (deal["id"], RECORDING)
    assert state["tasks"] == [] and state["notes"] == []
    assert state["records"][people.jane]["activities"] == []
    assert detail["syncs"][0]["scenario"] == "incoming.new.answered.known"
    assert detail["syncs"][0]["matrix_version"] == 0


async def test_incoming_existing_client_answered_by_someone_else(server: Server) -> None:
    async with server.client() as client:
        people = await seed(server, client)
        events = call_sequence(
            "m-2",
            "incoming",
            JANE,
            answered=True,
            start=T0,
            agent_email="ann@acme.test",
            recording_url=RECORDING,
        )
        await run_call(server, client, events)
        state = await crm_state(server, client)
    assert len(state["records"]) == 1 and len(state["deals"]) == 1
    [activity] = state["records"][people.jane]["activities"]
    assert (activity["deal_id"], activity["recording_url"]) == (people.deal, RECORDING)
    [note] = state["notes"]
    assert (note["record_id"], note["deal_id"]) == (people.jane, people.deal)
    assert note["body"].startswith("Answered by Ann")
    assert note["body"].endswith("the responsible manager is Bob")
    assert state["tasks"] == []


async def test_incoming_new_client_missed(server: Server) -> None:
    async with server.client() as client:
        people = await seed(server, client)
        events = call_sequence("m-3", "incoming", "+14155550172", answered=False, start=T0)
        await run_call(server, client, events)
        state = await crm_state(server, client)
    contact = new_contact(state, people.jane)
    [deal] = [d for d in state["deals"] if d["id"] != people.deal]
    assert (deal["record_id"], deal["owner"]) == (contact["id"], people.tom)
    [task] = state["tasks"]
    assert (task["record_id"], task["deal_id"], task["assignee"]) == (
        contact["id"],
        deal["id"],
        people.tom,
    )
    assert _at(task["due_at"]) == T0 + timedelta(seconds=20, hours=4)
    assert task["title"].startswith("Call back +1 415-555-0172")
    [activity] = contact["activities"]
    assert (activity["status"], activity["deal_id"]) == ("missed", None)
    assert state["notes"] == []


async def test_incoming_existing_client_missed(server: Server) -> None:
    async with server.client() as client:
        people = await seed(server, client)
        events = call_sequence("m-4", "incoming", JANE, answered=False, start=T0)
        await run_call(server, client, events)
        state = await crm_state(server, client)
    assert len(state["records"]) == 1 and len(state["deals"]) == 1
    [task] = state["tasks"]
    assert (task["record_id"], task["deal_id"], task["assignee"]) == (
        people.jane,
        people.deal,
        people.bob,
    )
    assert _at(task["due_at"]) == T0 + timedelta(seconds=20, hours=4)
    assert state["notes"] == []
    assert len(state["records"][people.jane]["activities"]) == 1


async def test_outgoing_answered(server: Server) -> None:
    async with server.client() as client:
        people = await seed(server, client)
        events = call_sequence(
            "m-5",
            "outgoing",
            JANE,
            answered=True,
            start=T0,
            agent_email="ann@acme.test",
            recording_url=RECORDING,
        )
        await run_call(server, client, events)
        state = await crm_state(server, client)
    [activity] = state["records"][people.jane]["activities"]
    assert (activity["direction"], activity["deal_id"]) == ("outgoing", people.deal)
    assert activity["recording_url"] == RECORDING
    assert len(state["deals"]) == 1 and state["tasks"] == [] and state["notes"] == []


async def test_unknown_employee_gets_the_top_manager_a_mapping_task(server: Server) -> None:
    async with server.client() as client:
        people = await seed(server, client)
        events = call_sequence(
            "m-6", "incoming", JANE, answered=True, start=T0, agent_email="zed@unknown.test"
        )
        detail = await run_call(server, client, events)
        state = await crm_state(server, client)
    [task] = state["tasks"]
    assert (task["assignee"], task["record_id"], task["deal_id"]) == (
        people.tom,
        people.jane,
        people.deal,
    )
    assert task["title"].startswith("Check the user mapping for zed@unknown.test")
    assert state["notes"] == []  # the unknown agent cannot be compared with Bob
    assert detail["syncs"][0]["scenario"] == "incoming.existing.answered.unknown"
    skipped = [a for a in detail["actions"] if a["action"] == "note_who_answered"]
    assert skipped[0]["status"] == "skipped" and skipped[0]["reason"]


@pytest.mark.parametrize("call_id", ["idem-new-answered", "idem-new-missed"])
async def test_every_event_three_times_and_reordered_gives_the_same_state(
    server: Server, call_id: str
) -> None:
    answered = call_id.endswith("-answered")
    async with server.client() as client:
        people = await seed(server, client)
        events = call_sequence(
            call_id,
            "incoming",
            "+14155550173",
            answered=answered,
            start=T0,
            agent_email="ann@acme.test" if answered else None,
            utm=UTM,
        )
        events.append(
            generic_event(
                "call.recording", call_id, at=T0 + timedelta(minutes=5), recording_url=RECORDING
            )
        )
        for event in reversed(events):
            for _ in range(3):
                await server.send(client, event)
        await wait_synced(client, call_id)
        await wait_synced(client, call_id)
        state = await crm_state(server, client)
    contact = new_contact(state, people.jane)
    assert len(contact["activities"]) == 1
    assert contact["activities"][0]["recording_url"] == RECORDING
    assert len(state["deals"]) == 2
    assert len(state["tasks"]) == (0 if answered else 1)
    assert state["notes"] == []
