"""Over real HTTP: the agent chooses the record(s) a call is logged on (docs/selection.md)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from callbridge.testing.servers import eventually
from callbridge.testing.webhooks import call_sequence
from tests.e2e.e2e_server import Server, call_detail, wait_synced

pytestmark = pytest.mark.slow

NUMBER = "+14155550134"
# A second fold of the final call may sync again: it keeps the records the rule chose.
RULED = ("automatic: object type priority", "kept: the records this call was already logged on")


@dataclass
class Desk:
    """The company set up for selection: two agents with tokens, and three matching records."""

    ann: dict[str, str]
    bob: dict[str, str]
    ann_id: str
    bob_id: str
    contact: dict[str, Any]
    contact_bis: dict[str, Any]
    lead: dict[str, Any]


async def _desk(
    server: Server, client: httpx.AsyncClient, *, permission: bool = True, option: bool = True,
    grace: float = 0,
) -> Desk:  # fmt: skip
    perms = ["is_multicrm_sync"] if permission else []
    team = (await client.post("/teams", json={"name": "Sales", "permissions": perms})).json()
    headers, ids = [], []
    for name in ("ann", "bob"):
        body = {"name": name.title(), "email": f"{name}@acme.test", "team_id": team["id"]}
        user = (await client.post("/users", json=body)).json()
        token = (await client.post(f"/users/{user['id']}/tokens")).json()["token"]
        headers.append({"Authorization": f"Bearer {token}"})
        ids.append(user["id"])
    config = {"select_contact_manually": option, "selection_grace_seconds": grace}
    await client.patch(f"/integrations/{server.company.integration_id}", json={"config": config})
    made = []
    for name, kind in (("Jane", "contact"), ("Jane bis", "contact"), ("Jane Lead", "lead")):
        body = {"name": name, "object_type": kind, "phones": ["(415) 555-0134"]}
        made.append((await client.post(server.records_path, json=body)).json())
    return Desk(headers[0], headers[1], ids[0], ids[1], *made)


def _pick(server: Server, *records: dict[str, Any]) -> list[dict[str, str]]:
    integration = server.company.integration_id
    return [{"integration_id": integration, "record_id": r["id"]} for r in records]


async def _activities(server: Server, client: httpx.AsyncClient, record: dict[str, Any]) -> int:
    found = (await client.get(f"{server.records_path}/{record['id']}")).json()
    return len(found["activities"])


async def _send(server: Server, client: httpx.AsyncClient, events: list[dict[str, Any]]) -> None:
    for event in events:
        assert (await server.send(client, event)).status_code == 200


async def _call_id(client: httpx.AsyncClient, provider_call_id: str) -> str:
    found: dict[str, str] = {}

    async def folded() -> bool:
        detail = await call_detail(client, provider_call_id)
        if detail:
            found["id"] = detail["id"]
        return bool(detail)

    await eventually(folded, what=f"call {provider_call_id} to be folded")
    return found["id"]


@contextlib.asynccontextmanager
async def _stream(server: Server, headers: dict[str, str]) -> AsyncIterator[asyncio.Queue[Any]]:
    """Open an agent's SSE stream; yield a queue of (event, data) once the stream is ready."""
    events: asyncio.Queue[Any] = asyncio.Queue()
    async with (
        httpx.AsyncClient(base_url=server.url, timeout=None, headers=headers) as client,
        client.stream("GET", "/dialer/events") as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")

        async def read() -> None:
            kind = None
            async for line in response.aiter_lines():
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: "):
                    await events.put((kind, json.loads(line[6:])))

        task = asyncio.create_task(read())
        try:
            assert (await asyncio.wait_for(events.get(), 10))[0] == "ready"
            yield events
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
                await task


async def _next(events: asyncio.Queue[Any], kind: str, within: float = 15) -> dict[str, Any]:
    async def first() -> dict[str, Any]:
        while True:
            got, data = await events.get()
            if got == kind:
                return dict(data)

    return await asyncio.wait_for(first(), within)


async def test_pre_call_choice_of_a_contact_and_a_lead_logs_on_both(server: Server) -> None:
    async with server.client() as client:
        desk = await _desk(server, client, grace=30)
        body = {"number": NUMBER, "choices": _pick(server, desk.contact_bis, desk.lead)}
        intent = await client.post("/dialer/intents", json=body, headers=desk.ann)
        assert intent.status_code == 201, intent.text
        assert [c["check"] for c in intent.json()["confirmed"]] == [True, True]
        events = call_sequence(
            "pre-1", "outgoing", NUMBER, answered=True, agent_email="ann@acme.test"
        )
        await _send(server, client, events)
        [detail] = await wait_synced(client, "pre-1")
        counts = [
            await _activities(server, client, r)
            for r in (desk.contact, desk.contact_bis, desk.lead)
        ]
    assert counts == [0, 1, 1]
    assert detail["syncs"][0]["match_rule"] == "pre-call: chosen by Ann before dialling"
    assert len(detail["syncs"][0]["matched"]) == 3, "the history keeps what the number matched"
    assert {(s["how"], s["chosen_by_name"], s["current"]) for s in detail["selections"]} == {
        ("pre-call", "Ann", True)
    }


async def test_click_to_dial_logs_on_the_pages_record_without_gating(server: Server) -> None:
    async with server.client() as client:
        desk = await _desk(server, client, permission=False, option=False)
        body = {"number": NUMBER, "crm_record_id": desk.lead["id"]}
        assert (
            await client.post("/dialer/intents", json=body, headers=desk.ann)
        ).status_code == 201
        events = call_sequence(
            "ctd-1", "outgoing", NUMBER, answered=True, agent_email="ann@acme.test"
        )
        await _send(server, client, events)
        [detail] = await wait_synced(client, "ctd-1")
        counts = [await _activities(server, client, r) for r in (desk.contact, desk.lead)]
    assert counts == [0, 1]
    assert detail["syncs"][0]["match_rule"].startswith("click-to-dial")


async def test_in_call_choice_goes_to_the_right_agents_stream_and_is_honoured(
    server: Server,
) -> None:
    async with server.client() as client:
        desk = await _desk(server, client, grace=30)
        ringing, *rest = call_sequence(
            "in-1", "incoming", NUMBER, answered=True, agent_email="ann@acme.test"
        )
        async with _stream(server, desk.ann) as ann, _stream(server, desk.bob) as bob:
            await _send(server, client, [ringing])
            call = await _next(ann, "call")
            assert call["state"] == "ringing" and call["count"] == 3
            assert list(call["groups"]) == ["contact", "lead"]
            chosen = await client.post(
                f"/dialer/calls/{call['call_id']}/selection",
                json={"choices": _pick(server, desk.lead)},
                headers=desk.ann,
            )
            assert chosen.status_code == 200, chosen.text
            assert chosen.json()["applies"] == "at the end of the call"
            assert (await _next(ann, "selection"))["confirmed"][0]["record_id"] == desk.lead["id"]
            await asyncio.sleep(0.5)
            assert bob.empty(), "another agent's stream must stay silent"
        await _send(server, client, rest)
        [detail] = await wait_synced(client, "in-1")
        counts = [await _activities(server, client, r) for r in (desk.contact, desk.lead)]
    assert counts == [0, 1]
    assert detail["syncs"][0]["match_rule"] == "in-call: chosen by Ann during or after the call"


async def test_a_choice_in_the_grace_window_is_honoured_before_the_sync(server: Server) -> None:
    async with server.client() as client:
        desk = await _desk(server, client, grace=4)
        events = call_sequence(
            "grace-1", "incoming", NUMBER, answered=True, agent_email="ann@acme.test"
        )
        await _send(server, client, events)
        call_id = await _call_id(client, "grace-1")
        await eventually(lambda: _state_is(client, "grace-1", "ended"), what="the call to be over")
        body = {"choices": _pick(server, desk.lead)}
        chosen = await client.post(
            f"/dialer/calls/{call_id}/selection", json=body, headers=desk.ann
        )
        assert chosen.status_code == 200
        [detail] = await wait_synced(client, "grace-1")
        counts = [await _activities(server, client, r) for r in (desk.contact, desk.lead)]
    assert counts == [0, 1]
    assert "move_call" not in [a["action"] for a in detail["actions"]]


async def test_a_choice_in_a_long_grace_window_is_applied_at_once(server: Server) -> None:
    async with server.client() as client:
        desk = await _desk(server, client, grace=600)  # ten minutes: the test would time out
        events = call_sequence(
            "grace-2", "incoming", NUMBER, answered=True, agent_email="ann@acme.test"
        )
        await _send(server, client, events)
        call_id = await _call_id(client, "grace-2")
        await eventually(lambda: _state_is(client, "grace-2", "ended"), what="the call to be over")
        body = {"choices": _pick(server, desk.lead)}
        chosen = await client.post(
            f"/dialer/calls/{call_id}/selection", json=body, headers=desk.ann
        )
        assert chosen.status_code == 200 and chosen.json()["applies"].startswith("now")
        [detail] = await wait_synced(client, "grace-2")
        counts = [await _activities(server, client, r) for r in (desk.contact, desk.lead)]
    assert counts == [0, 1]
    assert detail["syncs"][0]["match_rule"] == "in-call: chosen by Ann during or after the call"


async def _state_is(client: httpx.AsyncClient, provider_call_id: str, state: str) -> bool:
    detail = await call_detail(client, provider_call_id)
    return bool(detail) and detail is not None and detail["state"] == state


async def test_a_late_choice_moves_the_activity(server: Server) -> None:
    async with server.client() as client:
        desk = await _desk(server, client, grace=0)
        events = call_sequence(
            "late-1", "incoming", NUMBER, answered=True, agent_email="ann@acme.test"
        )
        await _send(server, client, events)
        [before] = await wait_synced(client, "late-1")
        assert await _activities(server, client, desk.contact_bis) == 1, "the automatic rule"
        body = {"choices": _pick(server, desk.lead)}
        moved = await client.post(
            f"/dialer/calls/{before['id']}/selection", json=body, headers=desk.ann
        )
        assert moved.json()["applies"] == "now: the call is synced again"

        async def on_the_lead() -> bool:
            return await _activities(server, client, desk.lead) == 1

        await eventually(on_the_lead, what="the activity to move to the lead")
        await eventually(lambda: _no_activity(server, client, desk.contact_bis), what="removal")
        after = await call_detail(client, "late-1")
    assert after is not None
    assert [a["status"] for a in after["actions"] if a["action"] == "move_call"] == ["done"]
    assert [lnk["record_id"] for lnk in after["activities"]] == [desk.lead["id"]]
    assert before["syncs"][0]["match_rule"].startswith(RULED)


async def _no_activity(server: Server, client: httpx.AsyncClient, record: dict[str, Any]) -> bool:
    return await _activities(server, client, record) == 0


async def test_without_a_choice_the_automatic_rule_decides(server: Server) -> None:
    async with server.client() as client:
        desk = await _desk(server, client, grace=1)
        events = call_sequence(
            "auto-1", "incoming", NUMBER, answered=True, agent_email="ann@acme.test"
        )
        await _send(server, client, events)
        [detail] = await wait_synced(client, "auto-1")
        counts = [await _activities(server, client, r) for r in (desk.contact_bis, desk.lead)]
    assert counts == [1, 0], "contact first, then the most recently updated"
    assert detail["syncs"][0]["match_rule"].startswith(RULED)
    assert detail["selections"] == []


@pytest.mark.parametrize(("permission", "option", "missing"), [
    (False, True, "is_multicrm_sync"), (True, False, "select_contact_manually"),
])  # fmt: skip
async def test_gating_off_answers_403_and_the_rule_decides(
    server: Server, permission: bool, option: bool, missing: str
) -> None:
    async with server.client() as client:
        desk = await _desk(server, client, permission=permission, option=option)
        events = call_sequence(
            "gate-1", "incoming", NUMBER, answered=True, agent_email="ann@acme.test"
        )
        await _send(server, client, events[:1])
        call_id = await _call_id(client, "gate-1")
        body = {"choices": _pick(server, desk.lead)}
        refused = await client.post(
            f"/dialer/calls/{call_id}/selection", json=body, headers=desk.ann
        )
        await _send(server, client, events[1:])
        [detail] = await wait_synced(client, "gate-1")
        counts = [await _activities(server, client, r) for r in (desk.contact_bis, desk.lead)]
    assert refused.status_code == 403
    assert missing in refused.json()["detail"]
    assert counts == [1, 0]
    assert detail["syncs"][0]["match_rule"].startswith(RULED)


async def test_two_contacts_422_and_another_agents_call_404(server: Server) -> None:
    async with server.client() as client:
        desk = await _desk(server, client, grace=30)
        events = call_sequence(
            "own-1", "incoming", NUMBER, answered=True, agent_email="ann@acme.test"
        )
        await _send(server, client, events[:1])
        call_id = await _call_id(client, "own-1")
        path = f"/dialer/calls/{call_id}/selection"
        two = {"choices": _pick(server, desk.contact, desk.contact_bis)}
        conflict = await client.post(path, json=two, headers=desk.ann)
        one = {"choices": _pick(server, desk.lead)}
        foreign = await client.post(path, json=one, headers=desk.bob)
        listing = await client.get(f"/dialer/calls/{call_id}/candidates", headers=desk.bob)
        by_admin = await client.post(path, json=one)  # the company API key acts as an admin
    assert conflict.status_code == 422
    assert "two contact records" in conflict.json()["detail"][0]["msg"]
    assert foreign.status_code == 404 and listing.status_code == 404
    assert by_admin.status_code == 200
