"""A HubSpot request lends its worker slot while it waits for HubSpot (``queue.slots.parked``)."""

from __future__ import annotations

import httpx

from callbridge.domain.phone import parse_e164
from callbridge.queue import slots
from tests.connectors.hubspot.hubspot_setup import MakeConnector
from tests.queue.test_slots import Slot


async def test_every_hubspot_request_waits_with_its_slot_lent(
    make_connector: MakeConnector,
) -> None:
    slot = Slot()
    slots.bind(slot.park)
    connector = make_connector()
    seen: list[int] = []
    original = connector.client.http.request

    async def request(*args: object, **kwargs: object) -> httpx.Response:
        seen.append(slot.lent)
        return await original(*args, **kwargs)  # type: ignore[arg-type]

    connector.client.http.request = request  # type: ignore[method-assign]
    try:
        await connector.find_by_phone(parse_e164("+14155550123"))
    finally:
        connector.client.http.request = original  # type: ignore[method-assign]
    assert seen and all(lent == 1 for lent in seen), seen
    assert slot.lent == 0  # every slot taken back
