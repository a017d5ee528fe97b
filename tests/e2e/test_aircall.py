"""Over real HTTP: Aircall's call webhooks, repeated and out of order, make one call each."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.e2e.e2e_server import Server, wait_synced
from tests.e2e.vendor_webhooks import (
    activities_by_phone,
    create_source,
    deliver_twice_shuffled,
    nothing_stored,
    post,
    wait_activity,
)

pytestmark = pytest.mark.slow

TOKEN = "4d7f1c2b9e0a4f6d8c3b5a7e9f1d2c4b"
LINE = "+33 1 76 36 06 95"
CLAIRE = {"id": 456123, "name": "Claire Martin", "email": "claire.martin@example.com"}
HUGO = {"id": 456789, "name": "Hugo Bernard", "email": "hugo.bernard@example.com"}


def _envelope(event: str, at: int, data: dict[str, Any]) -> dict[str, Any]:
    return {"resource": "call", "event": event, "timestamp": at, "token": TOKEN, "data": data}


def _call(call_id: int, direction: str, number: str, start: int, **fields: Any) -> dict[str, Any]:
    return {
        "id": call_id,
        "direct_link": f"https://api.aircall.io/v1/calls/{call_id}",
        "direction": direction,
        "status": "initial",
        "started_at": start,
        "answered_at": None,
        "ended_at": None,
        "duration": 0,
        "missed_call_reason": None,
        "raw_digits": number,
        "recording": None,
        "voicemail": None,
        "asset": None,
        "user": None,
        "number": {"id": 98765, "digits": LINE},
        "comments": [],
        "tags": [],
        **fields,
    }


def _answered(
    call_id: int, direction: str, number: str, start: int, transfer: bool = False
) -> list[dict[str, Any]]:
    """An answered call: created, ringing, answered, (transferred,) hung up, ended."""
    talk = {"status": "answered", "answered_at": start + 9, "user": CLAIRE}
    last = {**talk, "user": HUGO} if transfer else talk
    end = {**last, "status": "done", "ended_at": start + 104, "duration": 104}
    recording = f"https://aircall-recordings.s3.amazonaws.com/{call_id}.mp3?X-Amz-Expires=600"

    def call(**fields: Any) -> dict[str, Any]:
        return _call(call_id, direction, number, start, **fields)

    events = [
        _envelope("call.created", start, call(user=CLAIRE if direction == "outbound" else None)),
        _envelope("call.answered", start + 9, call(**talk)),
        _envelope("call.hungup", start + 104, call(**end)),
        _envelope("call.ended", start + 134, call(**end, recording=recording)),
    ]
    if direction == "inbound":
        events.append(_envelope("call.ringing_on_agent", start + 2, call(user=CLAIRE)))
    if transfer:
        events.append(_envelope("call.transferred", start + 50, call(**talk, transferred_to=HUGO)))
    return events


def _unanswered(call_id: int, number: str, start: int, voicemail: bool) -> list[dict[str, Any]]:
    """A missed call, or one that went to voicemail (both carry a missed-call reason)."""
    reason = "out_of_opening_hours" if voicemail else "agents_did_not_answer"
    left = {
        "voicemail": f"https://aircall-voicemails.s3.amazonaws.com/{call_id}.mp3"
        if voicemail
        else None,
        "asset": f"https://assets.aircall.io/voicemail/{call_id}" if voicemail else None,
    }
    end = {"status": "done", "ended_at": start + 40, "duration": 40, "missed_call_reason": reason}

    def call(**fields: Any) -> dict[str, Any]:
        return _call(call_id, "inbound", number, start, **fields)

    events = [
        _envelope("call.created", start, call()),
        _envelope("call.ringing_on_agent", start + 2, call(user=CLAIRE)),
        _envelope("call.hungup", start + 40, call(**end, **left)),
        _envelope("call.ended", start + 70, call(**end, **left)),
    ]
    if voicemail:
        events.append(_envelope("call.voicemail_left", start + 45, call(**end, **left)))
    return events


SCENARIOS = {
    # call id: (phone in the CRM, expected activity status, expected agent)
    "9001": ("+14155550101", "answered", "Claire Martin"),
    "9002": ("+14155550102", "missed", "Claire Martin"),  # the agent it rang
    "9003": ("+14155550103", "voicemail", "Claire Martin"),
    "9004": ("+14155550104", "answered", "Hugo Bernard"),
    "9005": ("+14155550105", "answered", "Claire Martin"),
}


async def test_answered_missed_voicemail_transferred_and_outbound_calls(server: Server) -> None:
    start = int(time.time()) - 900
    documents = [
        *_answered(9001, "inbound", "+1 415-555-0101", start),
        *_unanswered(9002, "+1 415-555-0102", start, voicemail=False),
        *_unanswered(9003, "+1 415-555-0103", start, voicemail=True),
        *_answered(9004, "inbound", "+1 415-555-0104", start, transfer=True),
        *_answered(9005, "outbound", "+1 415-555-0105", start),
    ]
    async with server.client() as client:
        path = await create_source(client, "aircall", TOKEN)
        await deliver_twice_shuffled(client, path, documents, {}, seed=15)
        details = await wait_synced(client, *SCENARIOS)
        for (phone, status, agent), detail in zip(SCENARIOS.values(), details, strict=True):
            await wait_activity(server, client, phone, status=status, agent=agent)
            assert [a["action"] for a in detail["actions"]].count("log_call") == 1
        crm = await activities_by_phone(server, client)
        calls = {c["provider_call_id"]: c for c in (await client.get("/calls")).json()["calls"]}
    assert sorted(crm) == sorted(phone for phone, _, _ in SCENARIOS.values())
    assert all(len(activities) == 1 for activities in crm.values())
    assert (calls["9001"]["state"], calls["9001"]["duration"]) == ("ended", 95)
    assert calls["9001"]["recording_url"] == "https://assets.aircall.io/recording/9001"
    assert (calls["9002"]["state"], calls["9002"]["disposition"]) == (
        "missed",
        "agents_did_not_answer",
    )
    assert calls["9003"]["recording_url"] == "https://assets.aircall.io/voicemail/9003"
    assert calls["9005"]["direction"] == "outgoing"


async def test_late_recording_comments_and_tags_land_on_the_same_activity(server: Server) -> None:
    start = int(time.time()) - 900
    created, answered, hungup, *_ = _answered(9101, "inbound", "+1 415-555-0111", start)
    done = hungup["data"]
    asset = "https://assets.aircall.io/recording/9101"
    recording = {**done, "recording": "https://aircall-recordings.s3.amazonaws.com/9101.mp3"}
    comment = [{"id": 1, "content": "Wants a quote for 20 seats."}]
    tags = [{"id": 55, "name": "sales"}]
    async with server.client() as client:
        path = await create_source(client, "aircall", TOKEN)
        await deliver_twice_shuffled(client, path, [created, answered, hungup], {}, seed=1)
        await wait_synced(client, "9101")
        late = [
            _envelope("call.comm_assets_generated", start + 160, {**recording, "asset": asset}),
            _envelope("call.commented", start + 200, {**done, "comments": comment}),
            _envelope("call.tagged", start + 230, {**done, "comments": comment, "tags": tags}),
        ]
        await deliver_twice_shuffled(client, path, late, {}, seed=2)
        activity = await wait_activity(
            server,
            client,
            "+14155550111",
            recording_url=asset,
            notes="Wants a quote for 20 seats.",
            tags=["sales"],
        )
    assert activity["status"] == "answered"


async def test_a_wrong_token_is_401_and_stores_nothing(server: Server) -> None:
    start = int(time.time()) - 900
    documents = _answered(9201, "inbound", "+1 415-555-0121", start)
    async with server.client() as client:
        path = await create_source(client, "aircall", TOKEN)
        for document in documents:
            forged = {**document, "token": TOKEN[:-1] + "0"}
            answer = await post(client, path, forged, {})
            assert answer.status_code == 401, answer.text
            assert answer.json()["error"] == "invalid_signature"
            tokenless = {k: v for k, v in document.items() if k != "token"}
            assert (await post(client, path, tokenless, {})).status_code == 401
        malformed = {**documents[0], "data": {**documents[0]["data"], "id": None}}
        refused = await post(client, path, malformed, {})
        generic = await client.post(path.replace("aircall", "generic"), content=b"{}")
        assert await nothing_stored(client)
    assert (refused.status_code, refused.json()["field"]) == (422, "data.id")
    assert generic.status_code == 404  # the URL names the provider of the source
