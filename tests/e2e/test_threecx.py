"""Over real HTTP: 3CX's call journals, repeated and shuffled, make one call and one activity each;
its contact lookup then finds the callers the syncs created."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from callbridge.domain.event import Direction
from callbridge.telephony.threecx import call_id
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

KEY = "k3cx_" + "4b7d1e9a2c5f8036" * 3
AUTH = {"Authorization": "Basic " + base64.b64encode(f"callbridge:{KEY}".encode()).decode()}


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _journal(call_type: str, number: str, start: float, talk: int) -> dict[str, Any]:
    """A journal as the template's ReportCall scenario posts it: every value a string."""
    answered = call_type in ("Inbound", "Outbound")
    return {
        "call_type": call_type,
        "number": number,
        "agent": "101",
        "agent_email": "ann@example.com",
        "agent_first_name": "Ann",
        "agent_last_name": "Lee",
        "duration": time.strftime("%H:%M:%S", time.gmtime(talk)),
        "started_at": _iso(start),
        "answered_at": _iso(start + 7) if answered else "0001-01-01T00:00:00Z",
        "ended_at": _iso(start + 7 + talk),
    }


# 3CX number as sent, call type, the CRM phone, the activity status, the call's direction.
SCENARIOS = [
    ("0014155550301", "Inbound", "+14155550301", "answered", Direction.INCOMING),
    ("0014155550302", "Missed", "+14155550302", "missed", Direction.INCOMING),
    ("4155550303", "Outbound", "+14155550303", "answered", Direction.OUTGOING),
]


async def test_journals_make_one_call_each_and_the_lookup_finds_them(server: Server) -> None:
    start = float(int(time.time()) - 900)
    documents = [
        _journal(kind, sent, start + i, 95 if status == "answered" else 0)
        for i, (sent, kind, _, status, _) in enumerate(SCENARIOS)
    ]
    ids = [
        call_id(
            "+" + sent[2:] if sent.startswith("00") else sent,
            direction,
            datetime.fromtimestamp(start + i, UTC),
        )
        for i, (sent, _, _, _, direction) in enumerate(SCENARIOS)
    ]
    async with server.client() as client:
        path = await create_source(client, "3cx", KEY)
        source_id = path.rsplit("/", 1)[-1]
        await deliver_twice_shuffled(client, path, documents, AUTH, seed=15)
        await wait_synced(client, *ids)
        for _, _, phone, status, _ in SCENARIOS:
            await wait_activity(server, client, phone, status=status)
        crm = await activities_by_phone(server, client)
        calls = (await client.get("/calls")).json()["calls"]
        found = await client.get(
            f"/lookups/3cx/{source_id}", params={"number": "0014155550301"}, headers=AUTH
        )
    assert sorted(c["provider_call_id"] for c in calls) == sorted(ids)
    assert sorted(crm) == sorted(phone for _, _, phone, _, _ in SCENARIOS)
    assert all(len(activities) == 1 for activities in crm.values())
    [contact] = found.json()["contacts"]
    assert (contact["phone"], contact["type"]) == ("+14155550301", "contact")


async def test_a_bad_key_is_401_and_stores_nothing(server: Server) -> None:
    document = _journal("Inbound", "0014155550311", time.time() - 900, 60)
    async with server.client() as client:
        path = await create_source(client, "3cx", KEY)
        wrong = base64.b64encode(f"callbridge:{KEY[:-1]}x".encode()).decode()
        for headers in ({}, {"Authorization": f"Basic {wrong}"}, {"Authorization": "Bearer x"}):
            answer = await post(client, path, document, headers)
            assert answer.status_code == 401, answer.text
            assert answer.json()["error"] == "invalid_signature"
        assert await nothing_stored(client)
