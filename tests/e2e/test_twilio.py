"""Over real HTTP: Twilio's signed call legs, repeated and out of order, make one call each."""

from __future__ import annotations

import time
from email.utils import formatdate
from urllib.parse import urlencode

import httpx
import pytest
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from tests.e2e.e2e_server import Server, wait_synced
from tests.e2e.vendor_webhooks import (
    activities_by_phone,
    create_source,
    deliver_all_twice,
    nothing_stored,
    wait_activity,
)

pytestmark = pytest.mark.slow

TOKEN = "3c9a7e5f1b2d4c6e8a0b2d4f6a8c0e1f"
ACCOUNT = "AC" + "0123456789abcdef" * 2
LINE = "+14155550100"
RECORDINGS = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/"


def sid(prefix: str, n: int) -> str:
    """Return a Twilio SID: two letters and 32 hex digits."""
    return f"{prefix}{n:032x}"


def _leg(
    call: str, status: str, at: float, direction: str, frm: str, to: str, **more: str
) -> dict[str, str]:
    """A status callback's parameters, as Twilio posts them."""
    return {
        "AccountSid": ACCOUNT,
        "ApiVersion": "2010-04-01",
        "CallSid": call,
        "CallStatus": status,
        "Direction": direction,
        "From": frm,
        "Caller": frm,
        "To": to,
        "Called": to,
        "CallbackSource": "call-progress-events",
        "Timestamp": formatdate(at, usegmt=False),
        **more,
    }


def _child(
    parent: str, n: int, agent: str, start: float, answer: float | None, end: float
) -> list[dict[str, str]]:
    """A <Dial>ed agent's leg: initiated, ringing, then answered and completed, or no-answer."""
    child, caller = sid("CA", n), "+14155550999"

    def leg(status: str, at: float, **more: str) -> dict[str, str]:
        return _leg(child, status, at, "outbound-dial", caller, agent, ParentCallSid=parent, **more)

    legs = [leg("initiated", start), leg("ringing", start)]
    if answer is None:
        return [*legs, leg("no-answer", end, CallDuration="0")]
    talk = str(round(end - answer))
    return [*legs, leg("in-progress", answer), leg("completed", end, CallDuration=talk)]


def _recording(call: str, n: int, start: float, seconds: int, source: str) -> dict[str, str]:
    """A completed recording's status callback."""
    return {
        "AccountSid": ACCOUNT,
        "CallSid": call,
        "RecordingSid": sid("RE", n),
        "RecordingUrl": RECORDINGS + sid("RE", n),
        "RecordingStatus": "completed",
        "RecordingDuration": str(seconds),
        "RecordingChannels": "1",
        "RecordingStartTime": formatdate(start),
        "RecordingSource": source,
    }


def _inbound(n: int, number: str, start: float, outcome: str) -> list[dict[str, str]]:
    """An inbound call: the caller's leg, the agents' legs, and the recording or voicemail."""
    parent = sid("CA", n)
    end = start + 130

    def parent_leg(status: str, at: float, **more: str) -> dict[str, str]:
        return _leg(parent, status, at, "inbound", number, LINE, **more)

    legs = [parent_leg("ringing", start), parent_leg("in-progress", start + 1)]
    if outcome == "answered":
        legs += _child(parent, n + 1, "client:alice", start + 2, start + 10, start + 120)
        legs.append(_recording(parent, n, start + 10, 110, "DialVerb"))
    elif outcome == "transferred":  # alice answers, then the call is redirected to bob
        legs += _child(parent, n + 1, "client:alice", start + 2, start + 10, start + 60)
        legs += _child(
            parent, n + 2, "sip:bob@acme.sip.twilio.com", start + 61, start + 65, start + 120
        )
    else:  # missed, or voicemail: alice does not answer
        legs += _child(parent, n + 1, "client:alice", start + 2, None, start + 30)
        if outcome == "voicemail":
            legs.append(_recording(parent, n, start + 32, 20, "RecordVerb"))
    return [*legs, parent_leg("completed", end, CallDuration="130")]


def _outbound(n: int, number: str, start: float) -> list[dict[str, str]]:
    """A call placed by the API to a customer, answered, with the recording in its completed."""
    call = sid("CA", n)

    def leg(status: str, at: float, **more: str) -> dict[str, str]:
        return _leg(call, status, at, "outbound-api", LINE, number, **more)

    recording = {"RecordingUrl": RECORDINGS + sid("RE", n), "RecordingSid": sid("RE", n)}
    return [
        leg("initiated", start),
        leg("ringing", start),
        leg("in-progress", start + 9),
        leg("completed", start + 69, CallDuration="60", **recording),
    ]


async def post(
    client: httpx.AsyncClient, server: Server, path: str, values: dict[str, str], token: str = TOKEN
) -> httpx.Response:
    """Post a form signed as Twilio signs it: the full URL it posts to and the parameters."""
    signature = RequestValidator(token).compute_signature(server.url + path, values)
    headers = {"content-type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
    return await client.post(path, content=urlencode(values).encode(), headers=headers)


SCENARIOS = {
    # parent CallSid: (phone in the CRM, expected activity status)
    sid("CA", 100): ("+14155550201", "answered"),
    sid("CA", 200): ("+14155550202", "missed"),
    sid("CA", 300): ("+14155550203", "voicemail"),
    sid("CA", 400): ("+14155550204", "answered"),
    sid("CA", 500): ("+14155550205", "answered"),
}


async def test_answered_missed_voicemail_transferred_and_outbound_calls(server: Server) -> None:
    start = time.time() - 900
    deliveries = [
        *_inbound(100, "+14155550201", start, "answered"),
        *_inbound(200, "+14155550202", start, "missed"),
        *_inbound(300, "+14155550203", start, "voicemail"),
        *_inbound(400, "+14155550204", start, "transferred"),
        *_outbound(500, "+14155550205", start),
    ]
    async with server.client() as client:
        alice = {"name": "Alice", "email": "alice@example.com", "telephony_user_id": "client:alice"}
        bob = {"name": "Bob", "telephony_user_id": "sip:bob@acme.sip.twilio.com"}
        users = [(await client.post("/users", json=u)).json()["id"] for u in (alice, bob)]
        path = await create_source(client, "twilio", TOKEN)
        await deliver_all_twice(lambda v: post(client, server, path, v), deliveries, seed=15)
        await wait_synced(client, *SCENARIOS)
        for phone, status in SCENARIOS.values():
            await wait_activity(server, client, phone, status=status)
        crm = await activities_by_phone(server, client)
        calls = {c["provider_call_id"]: c for c in (await client.get("/calls")).json()["calls"]}
    assert sorted(calls) == sorted(SCENARIOS)  # the legs of each call folded into one
    assert all(len(activities) == 1 for activities in crm.values())
    answered = calls[sid("CA", 100)]
    assert (answered["state"], answered["duration"], answered["from_number"]) == (
        "ended",
        110,
        "+14155550201",
    )
    assert answered["recording_url"] == RECORDINGS + sid("RE", 100)
    assert answered["user_id"] == users[0]
    assert calls[sid("CA", 300)]["recording_url"] == RECORDINGS + sid("RE", 300)
    assert calls[sid("CA", 400)]["user_id"] == users[1]  # transferred to bob
    outbound = calls[sid("CA", 500)]
    assert (outbound["direction"], outbound["to_number"], outbound["duration"]) == (
        "outgoing",
        "+14155550205",
        60,
    )


async def test_a_late_recording_lands_on_the_same_activity(server: Server) -> None:
    legs = _inbound(600, "+14155550211", time.time() - 300, "answered")
    recording = next(values for values in legs if "RecordingStatus" in values)
    calls = [values for values in legs if values is not recording]
    async with server.client() as client:
        path = await create_source(client, "twilio", TOKEN)
        await deliver_all_twice(lambda v: post(client, server, path, v), calls, seed=1)
        await wait_synced(client, sid("CA", 600))
        await deliver_all_twice(lambda v: post(client, server, path, v), [recording], seed=2)
        activity = await wait_activity(
            server, client, "+14155550211", recording_url=RECORDINGS + sid("RE", 600)
        )
    assert activity["status"] == "answered"


async def test_a_bad_signature_is_401_and_stores_nothing(server: Server) -> None:
    legs = _inbound(700, "+14155550221", time.time() - 900, "answered")
    async with server.client() as client:
        path = await create_source(client, "twilio", TOKEN)
        for values in legs:
            wrong = await post(client, server, path, values, token="0" * 32)
            unsigned = await client.post(path, content=urlencode(values).encode())
            assert (wrong.status_code, unsigned.status_code) == (401, 401), wrong.text
            assert wrong.json()["error"] == "invalid_signature"
        absent = {**_recording(sid("CA", 700), 700, time.time(), 0, "DialVerb")}
        absent["RecordingStatus"] = "absent"
        skipped = await post(client, server, path, absent)
        malformed = await post(client, server, path, {**legs[0], "Timestamp": "yesterday"})
        assert await nothing_stored(client)
    assert skipped.status_code == 200
    assert skipped.json()["ignored"].startswith("Twilio's recording status 'absent'")
    assert (malformed.status_code, malformed.json()["field"]) == (422, "Timestamp")
