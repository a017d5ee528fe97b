"""A CRM request lends its worker slot while it waits for the CRM (``queue.slots.parked``).

A sync costs no CPU while HubSpot or BottleCRM answers: the worker may run another job in its
slot meanwhile, so the worker's concurrency bounds the CPU work, not the CRM round trips.
"""

from __future__ import annotations

import asyncio
import contextlib

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from callbridge.connectors.bottlecrm.client import BottleCrmClient
from callbridge.queue import slots
from tests.queue.test_slots import Slot


@settings(max_examples=20)
@given(status=st.sampled_from([200, 201, 204, 404, 429, 500]))
def test_every_bottlecrm_request_waits_with_its_slot_lent(status: int) -> None:
    slot, lent_while_sent = Slot(), []

    def answer(request: httpx.Request) -> httpx.Response:
        lent_while_sent.append(slot.lent)
        return httpx.Response(status, json={} if status != 204 else None)

    async def one() -> None:
        slots.bind(slot.park)
        async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
            client = BottleCrmClient(http, "http://bottlecrm.test", "token")
            with contextlib.suppress(Exception):  # each status's own error kind is tested elsewhere
                await client.call("GET", "/api/contacts/")

    asyncio.run(one())
    assert lent_while_sent == [1] and slot.lent == 0
