"""A server killed (SIGKILL) again and again while it syncs: every call's page stays true.

Calls from unknown numbers are delivered in batches; after each, the server is killed at a random
moment while its worker creates contacts and logs calls, and restarted. Once every call is
synced, the CRM must hold one contact per number with one activity per call, and each call's
page must say Callbridge created that contact and logged the call on it (never "the only record
matching the number", never an ``update_call`` in place of the ``log_call``).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
from pathlib import Path
from typing import Any

import pytest

from callbridge.testing.webhooks import call_sequence
from tests.e2e.e2e_server import make_server, records, wait_synced

pytestmark = pytest.mark.slow

CALLS = int(os.environ.get("CALLBRIDGE_KILL_TEST_CALLS", "40"))
KILLS = int(os.environ.get("CALLBRIDGE_KILL_TEST_KILLS", "10"))
CREATED = "created a contact for the unknown caller"


def wrong_history(detail: dict[str, Any], contact: dict[str, Any]) -> list[str]:
    """Return what the call's page gets wrong about the contact created and the call logged."""
    wrong = []
    [synced] = detail["syncs"]
    actions = {a["action"]: a for a in detail["actions"]}
    if synced["match_rule"] != CREATED:
        wrong.append(f"match_rule {synced['match_rule']!r}")
    if synced["matched"]:
        wrong.append("the contact it created is listed as matched by number")
    created = actions.get("create_contact")
    if created is None or (created["status"], created["result_id"]) != ("done", contact["id"]):
        wrong.append(f"create_contact {created}")
    activity = next(a for a in contact["activities"] if a["external_id"].endswith(detail["id"]))
    logged = actions.get("log_call")
    if logged is None or (logged["status"], logged["result_id"]) != ("done", str(activity["id"])):
        wrong.append(f"log_call {logged}")
    updated = actions.get("update_call")
    if updated is not None and (logged is None or updated["id"] < logged["id"]):
        wrong.append("update_call in place of log_call")
    return wrong


async def test_call_pages_stay_true_across_repeated_sigkills(
    database_url: str, tmp_path: Path
) -> None:
    server = await make_server(database_url, tmp_path)
    server.start()
    numbers = {f"kill-{i}": f"+1415556{i:04d}" for i in range(CALLS)}
    calls = list(numbers.items())
    try:
        async with server.client() as client:
            # Deliver in batches, each followed by a kill while its syncs run, and a restart.
            for batch in range(KILLS):
                for index, (call_id, number) in enumerate(calls[batch::KILLS]):
                    answered = index % 2 == 0
                    for event in call_sequence(call_id, "incoming", number, answered=answered):
                        assert (await server.send(client, event)).status_code == 200
                await asyncio.sleep(random.uniform(0.0, 0.3))
                server.kill(signal.SIGKILL)
                server.start()
            details = await wait_synced(client, *numbers)
            crm = await records(server, client)
    finally:
        server.kill(signal.SIGTERM)
    by_phone = {}
    for record in crm:
        assert len(record["phones"]) == 1
        assert record["phones"][0] not in by_phone, f"two contacts for {record['phones']}"
        by_phone[record["phones"][0]] = record
    assert len(by_phone) == CALLS
    wrong = {}
    for (call_id, number), detail in zip(numbers.items(), details, strict=True):
        contact = by_phone[number]
        assert len(contact["activities"]) == 1, contact
        if problems := wrong_history(detail, contact):
            wrong[call_id] = problems
    assert not wrong, f"{len(wrong)} of {CALLS} calls tell a wrong history: {wrong}"
