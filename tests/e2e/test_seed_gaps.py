"""Over real HTTP, on SQLite and PostgreSQL: the seed behaviours issue 14 found missing.

A new client's contact is owned as its deal; the "not answered by the responsible manager" note
names the manager; a call waits out the selection grace window only when there is a choice.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from callbridge.sync.executors.note import UNNAMED
from callbridge.testing.servers import eventually
from callbridge.testing.webhooks import call_sequence
from tests.e2e.e2e_server import Server, call_detail, wait_synced
from tests.e2e.test_matrix import JANE, T0, crm_state, new_contact, run_call, seed

pytestmark = pytest.mark.slow


async def test_a_new_clients_contact_deal_and_task_go_to_the_same_person(server: Server) -> None:
    async with server.client() as client:
        people = await seed(server, client)
        missed = call_sequence("g-1", "incoming", "+14155550181", answered=False, start=T0)
        await run_call(server, client, missed)
        state = await crm_state(server, client)
        contact = new_contact(state, people.jane)
        [deal] = [d for d in state["deals"] if d["record_id"] == contact["id"]]
        [task] = state["tasks"]
        assert contact["owner"] == deal["owner"] == task["assignee"] == people.tom

        answered = call_sequence(
            "g-2", "incoming", "+14155550182", answered=True, start=T0,
            agent_email="ann@acme.test",
        )  # fmt: skip
        await run_call(server, client, answered)
        state = await crm_state(server, client)
    [second] = [r for r in state["records"].values() if r["phones"] == ["+14155550182"]]
    [deal] = [d for d in state["deals"] if d["record_id"] == second["id"]]
    assert second["owner"] == deal["owner"] == people.ann


async def test_the_note_names_the_responsible_manager(server: Server) -> None:
    async with server.client() as client:
        people = await seed(server, client)
        ghost = await client.post(
            server.records_path,
            json={"name": "Gus Client", "phones": ["(415) 555-0183"], "owner": "crm-ghost"},
        )
        assert ghost.status_code == 201, ghost.text
        for call_id, number in (("n-1", JANE), ("n-2", "+14155550183")):
            events = call_sequence(
                call_id, "incoming", number, answered=True, start=T0, agent_email="ann@acme.test"
            )
            await run_call(server, client, events)
        state = await crm_state(server, client)
    bodies = {note["record_id"]: note["body"] for note in state["notes"]}
    assert bodies[people.jane].startswith("Answered by Ann")
    assert bodies[people.jane].endswith("; the responsible manager is Bob")
    assert bodies[ghost.json()["id"]].endswith(
        "; the responsible manager is " + UNNAMED.format("crm-ghost")
    )


async def _selection_on(server: Server, client: httpx.AsyncClient, grace: int) -> None:
    config = {"select_contact_manually": True, "selection_grace_seconds": grace}
    path = f"/integrations/{server.company.integration_id}"
    assert (await client.patch(path, json={"config": config})).status_code == 200


async def _records(server: Server, client: httpx.AsyncClient, phone: str, n: int) -> list[str]:
    ids = []
    for i, kind in enumerate(["contact", "lead", "contact"][:n]):
        body = {"name": f"Jane {i}", "object_type": kind, "phones": [phone]}
        ids.append((await client.post(server.records_path, json=body)).json()["id"])
    return ids


async def _activities(server: Server, client: httpx.AsyncClient, ids: list[str]) -> list[int]:
    found = [(await client.get(f"{server.records_path}/{i}")).json() for i in ids]
    return [len(record["activities"]) for record in found]


async def test_a_call_waits_for_the_agent_only_when_there_is_a_choice(server: Server) -> None:
    async with server.client() as client:
        team = await client.post(
            "/teams", json={"name": "Sales", "permissions": ["is_multicrm_sync"]}
        )
        body = {"name": "Cid", "email": "cid@acme.test", "team_id": team.json()["id"]}
        assert (await client.post("/users", json=body)).status_code == 201

        # One record: nothing to choose, so the call does not wait out a ten-minute window.
        await _selection_on(server, client, 600)
        [only] = await _records(server, client, "(415) 555-0191", 1)
        events = call_sequence(
            "w-1", "incoming", "+14155550191", answered=True, agent_email="cid@acme.test"
        )
        [one] = await run_call_detail(server, client, events)
        assert await _activities(server, client, [only]) == [1]
        assert one["syncs"][0]["match_rule"] == "the only record matching the number"

        # Three records: the sync waits for the window's end, then the automatic rule decides.
        grace = 8
        await _selection_on(server, client, grace)
        ids = await _records(server, client, "(415) 555-0192", 3)
        events = call_sequence(
            "w-2", "incoming", "+14155550192", answered=True, agent_email="cid@acme.test"
        )
        started = time.monotonic()
        for event in events:
            assert (await server.send(client, event)).status_code == 200
        waiting = await _waiting(client, "w-2")
        assert await _activities(server, client, ids) == [0, 0, 0]
        [done] = await wait_synced(client, "w-2")
        elapsed = time.monotonic() - started
        counts = await _activities(server, client, ids)
    sync = waiting["syncs"][0]
    assert "waiting for the agent's choice: 3 records match" in sync["reason"]
    assert (sync["attempts"], len(sync["matched"])) == (0, 3)
    assert elapsed >= grace - 1, "the automatic rule decides only when the window ends"
    assert done["syncs"][0]["match_rule"].startswith("automatic")
    assert done["syncs"][0]["attempts"] == 1
    assert counts == [0, 0, 1], "a contact before the lead, the most recently updated one"


async def run_call_detail(
    server: Server, client: httpx.AsyncClient, events: list[Any]
) -> list[dict[str, Any]]:
    """Deliver a call's events and return its detail once synced (within a minute)."""
    for event in events:
        assert (await server.send(client, event)).status_code == 200
    return await wait_synced(client, events[0]["call"]["id"])


async def _waiting(client: httpx.AsyncClient, provider_call_id: str) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    async def is_waiting() -> bool:
        detail = await call_detail(client, provider_call_id)
        if detail and detail["syncs"] and detail["syncs"][0]["status"] == "waiting":
            seen.update(detail)
        return bool(seen)

    await eventually(is_waiting, what="the sync to wait for the agent's choice")
    return seen
