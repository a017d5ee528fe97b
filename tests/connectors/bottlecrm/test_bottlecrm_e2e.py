"""End to end: signed webhooks → a real Callbridge server on SQLite → a real BottleCRM server."""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from callbridge.testing.bottlecrm_server import BottleCrm, BottleCrmOrg
from callbridge.testing.servers import eventually
from callbridge.testing.webhooks import call_sequence, generic_event
from tests.connectors.bottlecrm.bottlecrm_setup import LOOPBACK, store_contact
from tests.e2e.e2e_server import Server, make_server

pytestmark = pytest.mark.slow

DONE = {"done", "no_match", "skipped"}


@dataclass
class Bridge:
    """A running Callbridge server whose company has a BottleCRM integration."""

    server: Server
    integration_id: str
    client: httpx.AsyncClient
    crm: httpx.AsyncClient  # BottleCRM's REST API, as the org's admin

    async def send_call(self, call_id: str, number: str, *, answered: bool, **extra: Any) -> None:
        """Deliver every event of one incoming call."""
        for event in call_sequence(call_id, "incoming", number, answered=answered, **extra):
            assert (await self.server.send(self.client, event)).status_code == 200

    async def set_policy(self, policy: str) -> None:
        """Change the integration's contact creation policy through the API."""
        path = f"/integrations/{self.integration_id}"
        answer = await self.client.patch(path, json={"creation_policy": policy})
        assert answer.status_code == 200, answer.text

    async def sync_of(self, provider_call_id: str) -> dict[str, Any] | None:
        """Return the call's sync to BottleCRM once it is finished, else None."""
        calls = (await self.client.get("/calls", params={"limit": 500})).json()["calls"]
        for call in calls:
            if call["provider_call_id"] == provider_call_id:
                detail = (await self.client.get(f"/calls/{call['id']}")).json()
                for sync in detail["syncs"]:
                    if sync["integration_id"] == self.integration_id and sync["status"] in DONE:
                        return {**sync, "actions": detail["actions"]}
        return None

    async def wait_synced(self, *call_ids: str) -> list[dict[str, Any]]:
        """Wait until every call is synced to BottleCRM; return their syncs."""
        found: dict[str, dict[str, Any]] = {}

        async def all_synced() -> bool:
            for call_id in set(call_ids) - set(found):
                sync = await self.sync_of(call_id)
                if sync is not None:
                    found[call_id] = sync
            return len(found) == len(call_ids)

        try:
            await eventually(all_synced, f"{len(call_ids)} BottleCRM sync(s)", within=60)
        except AssertionError as err:
            dead = (await self.client.get("/jobs/dead")).json()
            raise AssertionError(f"{err}; synced {sorted(found)}; dead jobs: {dead}") from None
        return [found[call_id] for call_id in call_ids]

    async def contacts_with(self, number: str) -> list[dict[str, Any]]:
        """Return BottleCRM's contacts with this number, as its own lookup finds them."""
        answer = await self.crm.post("/api/contacts/duplicates/", json={"phone": number})
        return list(answer.json()["duplicates"])

    async def interactions(self, contact_id: str) -> list[dict[str, Any]]:
        """Return the interactions on one contact."""
        answer = await self.crm.get("/api/interactions/", params={"contact": contact_id})
        return list(answer.json()["interactions"])

    async def deal_of(self, contact_id: str) -> dict[str, Any]:
        """Return the only opportunity of a contact, its owners as profile ids."""
        detail = (await self.crm.get(f"/api/contacts/{contact_id}/")).json()
        opportunities = detail["opportunities"]
        assert len(opportunities) == 1, f"contact {contact_id}: {opportunities}"
        [summary] = opportunities
        deal = (await self.crm.get(f"/api/opportunities/{summary['id']}/")).json()
        found = deal["opportunity_obj"]
        return {**found, "assigned_to": [owner["id"] for owner in found["assigned_to"]]}


@pytest.fixture
async def bridge(
    sqlite_url: str,
    tmp_path: Path,
    bottlecrm: BottleCrm,
    bottlecrm_org: BottleCrmOrg,
    bottlecrm_api: httpx.AsyncClient,
) -> AsyncIterator[Bridge]:
    """Callbridge on SQLite with a BottleCRM integration on the test's org."""
    server = await make_server(sqlite_url, tmp_path)
    server.env["CALLBRIDGE_ALLOWED_PRIVATE_HOSTS"] = LOOPBACK  # BottleCRM is on loopback
    server.start()
    try:
        async with server.client() as client:
            body = {
                "connector": "bottlecrm",
                "name": "BottleCRM",
                "config": {"base_url": bottlecrm.url},
            }
            created = await client.post("/integrations", json=body)
            assert created.status_code == 201, created.text
            integration_id = created.json()["id"]
            # As an admin would: the token is tested against BottleCRM, then sealed.
            token = {"credentials": {"token": bottlecrm_org.token}}
            patched = await client.patch(f"/integrations/{integration_id}", json=token)
            assert patched.status_code == 200, patched.text
            yield Bridge(server, integration_id, client, bottlecrm_api)
    finally:
        server.kill(signal.SIGTERM)


async def test_the_creation_policy_decides_and_a_change_applies_to_the_next_call(
    bridge: Bridge,
) -> None:
    number = "+14155550188"
    await bridge.set_policy("none")
    await bridge.send_call("cp-none", number, answered=False)
    [none] = await bridge.wait_synced("cp-none")
    await bridge.set_policy("answered")
    await bridge.send_call("cp-missed", number, answered=False)
    [missed] = await bridge.wait_synced("cp-missed")
    assert (none["status"], missed["status"]) == ("no_match", "no_match")
    assert await bridge.contacts_with(number) == []
    await bridge.send_call("cp-answered", number, answered=True)
    [answered] = await bridge.wait_synced("cp-answered")
    [contact] = await bridge.contacts_with(number)
    assert answered["status"] == "done"
    assert contact["name"] == "New Callbridge Contact"
    [logged] = await bridge.interactions(contact["id"])
    assert (logged["kind"], logged["outcome"], logged["direction"]) == (
        "call",
        "connected",
        "inbound",
    )


async def test_a_number_stored_in_a_national_format_matches_the_e164_caller(
    bridge: Bridge,
) -> None:
    jane = await store_contact(bridge.crm, "Jane", "Caller", "(415) 555-0134")
    await bridge.send_call("national-1", "+14155550134", answered=True, duration=184)
    [sync] = await bridge.wait_synced("national-1")
    assert sync["status"] == "done"
    mine = [a["action"] for a in sync["actions"] if a["integration_id"] == bridge.integration_id]
    assert mine[0] == "log_call" and "create_contact" not in mine
    assert [c["id"] for c in await bridge.contacts_with("+14155550134")] == [jane]
    [logged] = await bridge.interactions(jane)
    assert (logged["duration_seconds"], logged["outcome"]) == (184, "connected")
    assert logged["subject"] == "Incoming call from +1 415-555-0134"


async def test_concurrent_calls_from_one_unknown_number_make_one_contact(bridge: Bridge) -> None:
    number = "+14155550177"
    call_ids = [f"burst-{i}" for i in range(15)]
    await asyncio.gather(
        *(bridge.send_call(c, number, answered=i % 2 == 0) for i, c in enumerate(call_ids))
    )
    syncs = await bridge.wait_synced(*call_ids)
    assert {sync["status"] for sync in syncs} == {"done"}
    [contact] = await bridge.contacts_with(number)
    logged = await bridge.interactions(contact["id"])
    assert len(logged) == len(call_ids)
    assert sorted(i["outcome"] for i in logged) == ["connected"] * 8 + ["no_answer"] * 7


async def test_retried_events_and_late_data_give_one_interaction(bridge: Bridge) -> None:
    jane = await store_contact(bridge.crm, "Jane", "Caller", "415-555-0155")
    for event in call_sequence("retry-1", "incoming", "+14155550155", answered=True):
        msg_id = f"msg_{uuid.uuid4().hex}"
        for delivery in [msg_id, msg_id, msg_id, None, None]:  # same delivery, then new ids
            assert (await bridge.server.send(bridge.client, event, msg_id=delivery)).is_success
    await bridge.wait_synced("retry-1")
    recording = generic_event("call.recording", "retry-1", recording_url="https://rec.test/1.mp3")
    for _ in range(2):
        await bridge.server.send(bridge.client, recording)

    async def recorded() -> bool:
        logged = await bridge.interactions(jane)
        return any("Recording: https://rec.test/1.mp3" in i["body"] for i in logged)

    await eventually(recorded, "the late recording on the interaction", within=30)
    await asyncio.sleep(1)  # room for any stray duplicate to show up
    [logged] = await bridge.interactions(jane)
    assert logged["body"].rstrip().endswith("]") and "[callbridge:" in logged["body"]


async def test_the_default_matrix_writes_deals_tasks_and_recording_links(
    bridge: Bridge, bottlecrm_org: BottleCrmOrg
) -> None:
    for name, email, role in [
        ("Tina Top", bottlecrm_org.admin_email, "top_manager"),
        ("Alan Agent", bottlecrm_org.agent_email, "agent"),
    ]:
        user = {"name": name, "email": email, "role": role}
        assert (await bridge.client.post("/users", json=user)).status_code == 201
    recording = "https://rec.test/matrix.mp3"
    await bridge.send_call("mx-missed", "+14155550166", answered=False)
    await bridge.send_call(
        "mx-answered",
        "+14155550167",
        answered=True,
        agent_email=bottlecrm_org.agent_email,
        recording_url=recording,
    )
    syncs = await bridge.wait_synced("mx-missed", "mx-answered")
    assert [sync["status"] for sync in syncs] == ["done", "done"]
    [missed] = await bridge.contacts_with("+14155550166")
    [answered] = await bridge.contacts_with("+14155550167")
    missed_deal = await bridge.deal_of(missed["id"])
    answered_deal = await bridge.deal_of(answered["id"])
    assert missed_deal["assigned_to"] == [bottlecrm_org.admin_profile_id]
    assert answered_deal["assigned_to"] == [bottlecrm_org.agent_profile_id]
    tasks = (await bridge.crm.get("/api/tasks/", params={"title": "Call back"})).json()["tasks"]
    assert [(t["title"], [a["id"] for a in t["assigned_to"]]) for t in tasks] == [
        ("Call back +1 415-555-0166", [bottlecrm_org.admin_profile_id])
    ]
    [logged] = await bridge.interactions(answered["id"])
    assert f"Recording: {recording}" in logged["body"]
