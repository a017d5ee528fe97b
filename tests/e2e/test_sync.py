"""Over real HTTP: exactly-once logging, one contact per unknown number, durable ingest."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from callbridge.testing.servers import eventually
from callbridge.testing.webhooks import call_sequence, generic_event
from tests.e2e.e2e_server import Server, records, wait_synced

pytestmark = pytest.mark.slow


async def test_the_same_event_delivered_five_times_logs_one_activity(server: Server) -> None:
    async with server.client() as client:
        created = await client.post(
            server.records_path, json={"name": "Jane Caller", "phones": ["(415) 555-0134"]}
        )
        events = call_sequence("dup-1", "incoming", "+14155550134", answered=True)
        for event in events:
            msg_id = f"msg_{uuid.uuid4().hex}"
            answers = [await server.send(client, event, msg_id=msg_id) for _ in range(3)]
            answers += [await server.send(client, event) for _ in range(2)]  # new delivery ids
            assert [a.status_code for a in answers] == [200] * 5
            assert [a.json()["duplicate"] for a in answers] == [False] + [True] * 4
        [detail] = await wait_synced(client, "dup-1")
        await asyncio.sleep(1)  # give any stray duplicate job the time to show up
        jane = (await client.get(f"{server.records_path}/{created.json()['id']}")).json()
    assert len(jane["activities"]) == 1
    assert jane["activities"][0]["status"] == "answered"
    assert detail["syncs"][0]["match_rule"] == "the only record matching the number"
    assert [a["action"] for a in detail["actions"]].count("log_call") == 1


async def test_fifty_concurrent_calls_from_one_unknown_number_make_one_contact(
    server: Server,
) -> None:
    number = "+14155550177"
    async with server.client() as client:
        calls = [
            call_sequence(f"burst-{i}", "incoming", number, answered=i % 2 == 0) for i in range(50)
        ]

        async def deliver(events: list[dict[str, Any]]) -> None:
            for event in events:
                assert (await server.send(client, event)).status_code == 200

        await asyncio.gather(*(deliver(events) for events in calls))
        await wait_synced(client, *(f"burst-{i}" for i in range(50)))
        crm = await records(server, client)
    assert len(crm) == 1
    assert crm[0]["phones"] == [number]
    assert crm[0]["name"] == "New Callbridge Contact"
    assert len(crm[0]["activities"]) == 50
    assert len({a["external_id"] for a in crm[0]["activities"]}) == 50


async def test_a_number_stored_in_a_national_format_matches_the_e164_caller(
    server: Server,
) -> None:
    async with server.client() as client:
        us = (
            await client.post(
                server.records_path, json={"name": "Odd US", "phones": ["(415) 555-0199"]}
            )
        ).json()
        fr = (
            await client.post(
                server.records_path, json={"name": "Odd FR", "phones": ["+33 (0)6 12 34 56 78"]}
            )
        ).json()
        for call_id, number in (("nat-us", "+1 415 555 0199"), ("nat-fr", "0033 6 12 34 56 78")):
            for event in call_sequence(call_id, "incoming", number, answered=True):
                await server.send(client, event)
        await wait_synced(client, "nat-us", "nat-fr")
        crm = await records(server, client)
    by_id = {r["id"]: r for r in crm}
    assert len(crm) == 2, "no contact may be created for a number already in the CRM"
    assert len(by_id[us["id"]]["activities"]) == 1
    assert len(by_id[fr["id"]]["activities"]) == 1


async def test_late_recording_and_notes_update_the_same_activity(server: Server) -> None:
    async with server.client() as client:
        for event in call_sequence("late-1", "incoming", "+14155550155", answered=True):
            await server.send(client, event)
        await wait_synced(client, "late-1")
        await server.send(
            client,
            generic_event(
                "call.recording", "late-1", recording_url="https://rec.example.com/late-1.mp3"
            ),
        )
        await server.send(
            client,
            generic_event("call.updated", "late-1", notes="asked for a quote", tags=["sales"]),
        )

        async def updated() -> bool:
            crm = await records(server, client)
            activity = crm[0]["activities"][0]
            return bool(activity["recording_url"] and activity["notes"])

        await eventually(updated, what="the late recording and notes")
        crm = await records(server, client)
    assert len(crm) == 1 and len(crm[0]["activities"]) == 1
    activity = crm[0]["activities"][0]
    assert activity["recording_url"] == "https://rec.example.com/late-1.mp3"
    assert (activity["notes"], activity["tags"]) == ("asked for a quote", ["sales"])


async def test_no_external_number_never_matches_nor_creates(server: Server) -> None:
    async with server.client() as client:
        await client.patch("/company", json={"own_numbers": ["(415) 555-0100"]})
        for call_id, number in (("anon", "anonymous"), ("sos", "911"), ("own", "+14155550100")):
            for event in call_sequence(call_id, "incoming", number, answered=False):
                await server.send(client, event)
        details = await wait_synced(client, "anon", "sos", "own")
        crm = await records(server, client)
    assert crm == []
    reasons = [d["syncs"][0]["no_number_reason"] for d in details]
    assert reasons == ["anonymous", "emergency", "own_number"]
    assert all(d["syncs"][0]["status"] == "skipped" for d in details)


async def test_a_policy_change_applies_to_the_next_call(server: Server) -> None:
    path = f"/integrations/{server.company.integration_id}"
    async with server.client() as client:
        assert (await client.patch(path, json={"creation_policy": "missed"})).status_code == 200
        for event in call_sequence("p-answered", "incoming", "+14155550161", answered=True):
            await server.send(client, event)
        [answered] = await wait_synced(client, "p-answered")
        for event in call_sequence("p-missed", "incoming", "+14155550162", answered=False):
            await server.send(client, event)
        await wait_synced(client, "p-missed")
        crm = await records(server, client)
    assert answered["syncs"][0]["status"] == "no_match"
    assert "policy 'missed' does not cover" in answered["syncs"][0]["reason"]
    assert [r["phones"] for r in crm] == [["+14155550162"]]
