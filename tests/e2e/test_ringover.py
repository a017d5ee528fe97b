"""Over real HTTP: Ringover's signed webhooks, repeated and out of order, make one call each."""

from __future__ import annotations

import time
from typing import Any

import jwt
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

KEY = "rk_" + "9e2c4a6f1b3d5e7a" * 4
LINE = "33176360695"
JEAN = {
    "user_id": 123456789,
    "firstname": "Jean",
    "lastname": "Dupont",
    "email": "jean@example.com",
}
# Ringover's call ids are past 2^53: through a float the first would become ...2800.
BIG = 8_417_298_416_743_612_807


def _signature(key: str = KEY) -> dict[str, str]:
    token = jwt.encode({"iat": int(time.time())}, key, algorithm="HS512")
    return {"X-Ringover-Webhook-Signature": token}


def _envelope(resource: str, event: str, at: float, data: dict[str, Any]) -> dict[str, Any]:
    return {"resource": resource, "event": event, "timestamp": at, "data": data}


def _call(call_id: int, direction: str, number: str, start: float, **fields: Any) -> dict[str, Any]:
    inbound = direction == "inbound"
    return {
        "id": f"5762-{call_id}",
        "call_id": call_id,
        "channel_id": 7340032412,
        "start_time": start,
        "direction": direction,
        "from_number": number if inbound else LINE,
        "to_number": LINE if inbound else number,
        "is_internal": 0,
        "is_anonymous": 0,
        "is_ivr": 0,
        "user": JEAN,
        "status": "ringing",
        **fields,
    }


def _answered(call_id: int, direction: str, number: str, start: float) -> list[dict[str, Any]]:
    """An answered call: ringing, answered, hung up, then its recording."""
    answered, hangup = start + 8.25, start + 121.5
    record = f"https://cdn.ringover.com/records/{call_id}.mp3"

    def call(**fields: Any) -> dict[str, Any]:
        return _call(call_id, direction, number, start, **fields)

    return [
        _envelope("call", "ringing", start, call()),
        _envelope("call", "answered", answered, call(status="answered", answered_time=answered)),
        _envelope(
            "call",
            "hangup",
            hangup,
            call(status="hangup", answered_time=answered, hangup_time=hangup),
        ),
        _envelope(
            "aftercall",
            "record_available",
            hangup + 20,
            {"call_id": call_id, "record_link": record, "record_duration": "113s"},
        ),
    ]


def _unanswered(call_id: int, number: str, start: float, voicemail: bool) -> list[dict[str, Any]]:
    """A missed call, or one that went to voicemail, with the message after the call."""
    end = start + 30.5
    event = "voicemail" if voicemail else "missed"
    last = _call(call_id, "inbound", number, start, status=event, hangup_time=end, user=None)
    events = [
        _envelope("call", "ringing", start, _call(call_id, "inbound", number, start)),
        _envelope("call", event, end, last),
    ]
    if voicemail:
        link = f"https://cdn.ringover.com/voicemails/{call_id}.mp3"
        data = {"call_id": call_id, "voicemail_link": link, "voicemail_duration": "21s"}
        events.append(_envelope("aftercall", "voicemail_available", end + 15, data))
    return events


SCENARIOS = {
    # call id: (phone in the CRM, expected activity status)
    str(BIG): ("+14155550201", "answered"),
    str(BIG + 1): ("+14155550202", "missed"),
    str(BIG + 2): ("+14155550203", "voicemail"),
    str(BIG + 3): ("+14155550204", "answered"),
}


async def test_answered_missed_voicemail_and_outbound_calls(server: Server) -> None:
    start = time.time() - 900
    documents = [
        *_answered(BIG, "inbound", "14155550201", start),
        *_unanswered(BIG + 1, "14155550202", start, voicemail=False),
        *_unanswered(BIG + 2, "14155550203", start, voicemail=True),
        *_answered(BIG + 3, "outbound", "14155550204", start),
    ]
    async with server.client() as client:
        path = await create_source(client, "ringover", KEY)
        await deliver_twice_shuffled(client, path, documents, _signature(), seed=15)
        await wait_synced(client, *SCENARIOS)
        for phone, status in SCENARIOS.values():
            await wait_activity(server, client, phone, status=status)
        crm = await activities_by_phone(server, client)
        calls = {c["provider_call_id"]: c for c in (await client.get("/calls")).json()["calls"]}
    assert sorted(calls) == sorted(SCENARIOS)  # the ids exact, not rounded through a float
    assert sorted(crm) == sorted(phone for phone, _ in SCENARIOS.values())
    assert all(len(activities) == 1 for activities in crm.values())
    answered = calls[str(BIG)]
    assert (answered["state"], answered["duration"], answered["from_number"]) == (
        "ended",
        113,
        "+14155550201",
    )
    assert answered["recording_url"] == f"https://cdn.ringover.com/records/{BIG}.mp3"
    assert calls[str(BIG + 3)]["direction"] == "outgoing"


async def test_late_recording_comments_and_tags_land_on_the_same_activity(server: Server) -> None:
    call_id = BIG + 10
    ringing, answered, hangup, recorded = _answered(call_id, "inbound", "14155550211", time.time())
    notes = {"call_id": call_id, "channel_id": 1, "tags": ["sales"], "comments": "Wants 20 seats."}
    tagged = {"call_id": call_id, "tags": ["sales", "quote"]}
    async with server.client() as client:
        path = await create_source(client, "ringover", KEY)
        await deliver_twice_shuffled(client, path, [ringing, answered, hangup], _signature(), 1)
        await wait_synced(client, str(call_id))
        late = [
            recorded,
            _envelope("aftercall", "comments_updated", time.time(), notes),
            _envelope("aftercall", "tags_updated", time.time() + 1, tagged),
        ]
        await deliver_twice_shuffled(client, path, late, _signature(), seed=2)
        activity = await wait_activity(
            server,
            client,
            "+14155550211",
            recording_url=f"https://cdn.ringover.com/records/{call_id}.mp3",
            notes="Wants 20 seats.",
            tags=["sales", "quote"],
        )
    assert activity["status"] == "answered"


async def test_a_bad_signature_is_401_and_stores_nothing(server: Server) -> None:
    documents = _answered(BIG + 20, "inbound", "14155550221", time.time() - 900)
    async with server.client() as client:
        path = await create_source(client, "ringover", KEY)
        for document in documents:
            for headers in ({}, _signature(KEY[:-1] + "x"), {"X-Ringover-Webhook-Signature": "x"}):
                answer = await post(client, path, document, headers)
                assert answer.status_code == 401, answer.text
                assert answer.json()["error"] == "invalid_signature"
        contact = _envelope("call", "contact", time.time(), {"call_id": str(BIG)})
        skipped = await post(client, path, contact, _signature())
        malformed = _envelope("call", "ringing", time.time(), {"call_id": 8.4e18})
        refused = await post(client, path, malformed, _signature())
        assert await nothing_stored(client)
    assert skipped.status_code == 200
    assert "/lookups/ringover/{source_id}" in skipped.json()["ignored"]
    assert (refused.status_code, refused.json()["field"]) == (422, "data.call_id")
