"""A CRM request lends its worker slot while it waits for the CRM (``queue.slots.parked``).

A sync costs no CPU while HubSpot or BottleCRM answers: the worker may run another job in its
slot meanwhile, so the worker's concurrency bounds the CPU work, not the CRM round trips.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from callbridge.connectors.bottlecrm.client import BottleCrmClient
from callbridge.queue import slots


class Lender:
    """A worker's slot as the requests see it: lent while they wait, taken back after."""

    def __init__(self) -> None:
        self.lent = 0
        self.in_flight_while_lent = 0
        self.requests = 0

    @contextlib.asynccontextmanager
    async def park(self) -> AsyncIterator[None]:
        """Count the lending; the request runs inside it."""
        self.lent += 1
        try:
            yield
        finally:
            self.lent -= 1


@settings(max_examples=20, deadline=None)
@given(status=st.sampled_from([200, 201, 204, 404, 429, 500]))
def test_every_bottlecrm_request_waits_with_its_slot_lent(status: int) -> None:
    lender = Lender()

    def answer(request: httpx.Request) -> httpx.Response:
        lender.in_flight_while_lent += lender.lent
        lender.requests += 1
        return httpx.Response(status, json={} if status != 204 else None)

    async def one() -> None:
        slots.bind(lender.park)
        async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
            client = BottleCrmClient(http, "http://bottlecrm.test", "token")
            with contextlib.suppress(Exception):  # each status's own error kind is tested elsewhere
                await client.call("GET", "/api/contacts/")

    asyncio.run(one())
    assert lender.requests == 1 and lender.in_flight_while_lent == 1 and lender.lent == 0
