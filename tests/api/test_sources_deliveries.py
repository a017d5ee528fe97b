"""A source's recent deliveries: accepted, ignored, duplicate and refused, newest first.

Refusals are kept without secrets (Aircall's token is in its body), bounded per source and
throttled; a foreign source's deliveries are a 404.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from callbridge.runtime import Runtime
from callbridge.testing.draining import drain
from callbridge.testing.webhooks import generic_event, signed
from tests.api.api_tenant import Tenant

AIRCALL_TOKEN = "4d7f1c2b9e0a4f6d8c3b5a7e9f1d2c4b"


def _stepping_clock(runtime: Runtime) -> None:
    """Make each reading of the runtime's clock a millisecond after the one before."""
    real, steps = runtime.clock, iter(range(10**9))
    runtime.clock = lambda: real() + timedelta(milliseconds=next(steps))


async def _generic(tenant: Tenant) -> tuple[str, str]:
    created = await tenant.client.post("/sources", json={"name": "PBX"})
    assert created.status_code == 201, created.text
    return created.json()["id"], created.json()["secret"]


async def _send(client: httpx.AsyncClient, path: str, body: bytes, headers: dict[str, str]) -> int:
    return (await client.post(path, content=body, headers=headers)).status_code


async def _deliveries(tenant: Tenant, source_id: str, query: str = "") -> list[dict[str, Any]]:
    answer = await tenant.client.get(f"/sources/{source_id}/deliveries{query}")
    assert answer.status_code == 200, answer.text
    shown: list[dict[str, Any]] = answer.json()["deliveries"]
    return shown


async def test_each_outcome_is_shown_newest_first(acme: Tenant, api_runtime: Runtime) -> None:
    _stepping_clock(api_runtime)
    source_id, secret = await _generic(acme)
    path = f"/webhooks/generic/{source_id}"
    ringing = generic_event("call.ringing", "c-1", direction="incoming", to="+14155550100")
    body, headers = signed(secret, ringing)
    assert await _send(acme.client, path, body, headers) == 200
    again, again_headers = signed(secret, ringing)  # a new webhook-id: the same event
    assert await _send(acme.client, path, again, again_headers) == 200
    assert await _send(acme.client, path, body, {**headers, "webhook-signature": "v1,AAAA"}) == 401
    bad = generic_event("call.ringing", "c-2", direction="sideways")
    bad_body, bad_headers = signed(secret, bad)
    assert await _send(acme.client, path, bad_body, bad_headers) == 422
    assert await _send(acme.client, f"/webhooks/aircall/{source_id}", body, headers) == 404
    await drain(api_runtime)
    shown = await _deliveries(acme, source_id)
    assert [d["outcome"] for d in shown] == [
        "refused",
        "refused",
        "refused",
        "duplicate",
        "accepted",
    ]
    assert [d["status"] for d in shown] == [404, 422, 401, 200, 200]
    assert [d["error"] for d in shown[:3]] == [
        "unknown_source",
        "invalid_payload",
        "invalid_signature",
    ]
    assert shown[1]["field"] == "call.direction"
    assert "direction" in shown[1]["body_excerpt"]
    assert "check the webhook URL" in shown[0]["reason"]
    times = [d["received_at"] for d in shown]
    assert times == sorted(times, reverse=True)
    [event] = shown[4]["events"]
    calls = (await acme.client.get("/calls")).json()["calls"]
    assert event["kind"] == "call.ringing"
    assert event["provider_call_id"] == "c-1"
    assert event["call_id"] == calls[0]["id"]
    assert shown[4]["delivery_id"] == headers["webhook-id"]
    assert shown[3]["events"] == [] and "already stored" in shown[3]["reason"]
    assert shown[3]["reason_code"] == {"code": "duplicate_delivery", "params": {}}
    assert [d["reason_code"] for d in (*shown[:3], shown[4])] == [None] * 4


async def test_an_ignored_vendor_event_says_why(acme: Tenant) -> None:
    created = await acme.client.post(
        "/sources", json={"provider": "aircall", "name": "Aircall", "secret": AIRCALL_TOKEN}
    )
    source_id = created.json()["id"]
    document = {
        "resource": "user",
        "event": "user.created",
        "timestamp": 1732622895,
        "token": AIRCALL_TOKEN,
        "data": {"id": 1},
    }
    answer = await acme.client.post(f"/webhooks/aircall/{source_id}", json=document)
    assert answer.status_code == 200, answer.text
    [shown] = await _deliveries(acme, source_id)
    assert shown["outcome"] == "ignored"
    assert shown["reason"] == answer.json()["ignored"]
    assert shown["reason_code"] == {
        "code": "not_a_call_event",
        "params": {"what": "Aircall event user.created"},
    }
    assert shown["events"] == []


TOKENS = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=12, max_size=64)


@settings(max_examples=15)
@given(sent=TOKENS, cut=st.integers(0, 400))
async def test_a_refused_aircall_body_keeps_no_token(acme: Tenant, sent: str, cut: int) -> None:
    created = await acme.client.post(
        "/sources", json={"provider": "aircall", "name": "Aircall", "secret": AIRCALL_TOKEN}
    )
    source_id = created.json()["id"]
    path = f"/webhooks/aircall/{source_id}"
    document = {"resource": "call", "event": "call.created", "token": sent, "data": {"id": 7}}
    body = json.dumps(document).encode()
    for delivered in (body, body[:cut]):
        assert await _send(acme.client, path, delivered, {}) == 401
    wrong_field = json.dumps({**document, "token": AIRCALL_TOKEN, "timestamp": "x"}).encode()
    assert await _send(acme.client, path, wrong_field, {}) == 422
    shown = await _deliveries(acme, source_id)
    assert [d["status"] for d in shown] == [422, 401, 401]
    for refused in shown:
        assert sent not in refused["body_excerpt"]
        assert AIRCALL_TOKEN not in refused["body_excerpt"]
        assert len(refused["body_excerpt"]) <= 500
    assert '"token": "[redacted]"' in shown[0]["body_excerpt"]


async def test_pages_follow_limit_and_offset(acme: Tenant, api_runtime: Runtime) -> None:
    _stepping_clock(api_runtime)
    source_id, secret = await _generic(acme)
    path = f"/webhooks/generic/{source_id}"
    for number in range(7):
        event = generic_event("call.ringing", f"p-{number}", direction="incoming")
        body, headers = signed(secret, event)
        if number % 3 == 2:
            headers["webhook-signature"] = "v1,AAAA"
        await _send(acme.client, path, body, headers)
    everything = await _deliveries(acme, source_id, "?limit=500")
    assert len(everything) == 7

    @settings(max_examples=25)
    @given(limit=st.integers(1, 9), offset=st.integers(0, 9))
    def pages(limit: int, offset: int) -> None:
        chosen.append((limit, offset))

    chosen: list[tuple[int, int]] = []
    pages()
    for limit, offset in chosen:
        page = await _deliveries(acme, source_id, f"?limit={limit}&offset={offset}")
        assert page == everything[offset : offset + limit]


async def test_a_foreign_source_shows_nothing(acme: Tenant, globex: Tenant) -> None:
    source_id, secret = await _generic(globex)
    body, headers = signed(secret, generic_event("call.ringing", "g-1", direction="incoming"))
    await _send(globex.client, f"/webhooks/generic/{source_id}", body, headers)
    for unknown in (source_id, "00000000-0000-0000-0000-000000000000"):
        for path in (f"/sources/{unknown}/deliveries", f"/sources/{unknown}"):
            answer = await acme.client.get(path)
            assert answer.status_code == 404, answer.text
            assert answer.json() == {
                "detail": f"no source {unknown} in this company",
                "code": "no_source",
                "params": {"source_id": unknown},
            }
    assert len(await _deliveries(globex, source_id)) == 1


async def test_a_body_over_the_limit_is_shown_refused(acme: Tenant, api_runtime: Runtime) -> None:
    source_id, _ = await _generic(acme)
    limit = api_runtime.settings.max_body_bytes
    answer = await acme.client.post(f"/webhooks/generic/{source_id}", content=b"x" * (limit + 1))
    assert answer.status_code == 413, answer.text
    [shown] = await _deliveries(acme, source_id)
    assert (shown["outcome"], shown["status"], shown["error"]) == ("refused", 413, "too_large")
    assert shown["reason"] == answer.json()["detail"]
    assert shown["body_excerpt"] == ""


KINDS = ["accepted", "duplicate", "ignored", "bad_signature", "bad_field", "wrong_provider"]
EXPECTED = {
    "accepted": ("accepted", 200),
    "duplicate": ("duplicate", 200),
    "ignored": ("ignored", 200),
    "bad_signature": ("refused", 401),
    "bad_field": ("refused", 422),
    "wrong_provider": ("refused", 404),
}


async def _deliver(tenant: Tenant, source_id: str, secret: str, kind: str, number: int) -> None:
    """Send one delivery of ``kind`` to a generic source (``duplicate`` repeats call g-0's)."""
    call = "g-0" if kind == "duplicate" else f"g-{number}"
    event = generic_event("call.ringing", call, direction="incoming", event_id=f"e-{call}")
    if kind == "bad_field":
        event["call"]["direction"] = "sideways"
    if kind == "ignored":
        event["type"] = "user.created"
    body, headers = signed(secret, event)
    if kind == "bad_signature":
        headers["webhook-signature"] = "v1,AAAA"
    provider = "aircall" if kind == "wrong_provider" else "generic"
    await _send(tenant.client, f"/webhooks/{provider}/{source_id}", body, headers)


@settings(max_examples=10)
@given(kinds=st.lists(st.sampled_from(KINDS), min_size=1, max_size=6))
async def test_any_sequence_is_listed_newest_first(
    acme: Tenant, api_runtime: Runtime, kinds: list[str]
) -> None:
    _stepping_clock(api_runtime)
    source_id, secret = await _generic(acme)
    first = ["accepted", *kinds]  # call g-0 is stored first, so a duplicate repeats it
    for number, kind in enumerate(first):
        await _deliver(acme, source_id, secret, kind, number)
    shown = await _deliveries(acme, source_id)
    assert [(d["outcome"], d["status"]) for d in shown] == [EXPECTED[k] for k in reversed(first)]
    for delivery in shown:
        assert bool(delivery["events"]) == (delivery["outcome"] == "accepted")
        assert (delivery["body_excerpt"] is None) == (delivery["outcome"] != "refused")
