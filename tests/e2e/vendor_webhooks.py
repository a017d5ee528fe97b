"""Driving a vendor's webhooks (Aircall, Ringover, 3CX, Twilio) through a real server, shuffled and
repeated."""

from __future__ import annotations

import json
import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx

from callbridge.testing.servers import eventually
from tests.e2e.e2e_server import Server, records

D = TypeVar("D")


async def create_source(client: httpx.AsyncClient, provider: str, secret: str) -> str:
    """Create a source of ``provider`` with the platform's secret; return its webhook path."""
    answer = await client.post(
        "/sources", json={"provider": provider, "name": provider.title(), "secret": secret}
    )
    assert answer.status_code == 201, answer.text
    created = answer.json()
    assert created["secret"] == secret
    path: str = created["webhook_path"]
    assert path == f"/webhooks/{provider}/{created['id']}"
    return path


async def post(
    client: httpx.AsyncClient, path: str, document: Any, headers: dict[str, str]
) -> httpx.Response:
    """Post one JSON document as the platform would."""
    body = json.dumps(document).encode()
    return await client.post(
        path, content=body, headers={"content-type": "application/json", **headers}
    )


async def deliver_twice_shuffled(
    client: httpx.AsyncClient,
    path: str,
    documents: list[dict[str, Any]],
    headers: dict[str, str],
    seed: int,
) -> None:
    """Deliver every JSON document twice, all in a shuffled order; each answer must be a 2xx."""
    await deliver_all_twice(lambda document: post(client, path, document, headers), documents, seed)


async def deliver_all_twice(
    send: Callable[[D], Awaitable[httpx.Response]], deliveries: list[D], seed: int
) -> None:
    """Send every delivery twice, all in a shuffled order; each answer must be a 200, and one
    of each delivery's two a duplicate."""
    twice = deliveries + deliveries
    random.Random(seed).shuffle(twice)
    answers = [await send(delivery) for delivery in twice]
    assert [a.status_code for a in answers] == [200] * len(twice), [a.text for a in answers]
    assert sum(a.json()["duplicate"] for a in answers) == len(deliveries)


async def activities_by_phone(server: Server, client: httpx.AsyncClient) -> dict[str, list[Any]]:
    """Return each CRM record's activities, keyed by the record's only phone number."""
    crm = await records(server, client)
    by_phone: dict[str, list[Any]] = {}
    for record in crm:
        [phone] = record["phones"]
        by_phone[phone] = record["activities"]
    return by_phone


async def wait_activity(
    server: Server, client: httpx.AsyncClient, phone: str, **wanted: Any
) -> dict[str, Any]:
    """Wait until the only activity on ``phone``'s record has the ``wanted`` values; return it."""
    seen: dict[str, Any] = {}

    async def updated() -> bool:
        activities = (await activities_by_phone(server, client)).get(phone, [])
        if len(activities) != 1:
            return False
        seen.update(activities[0])
        return all(activities[0].get(key) == value for key, value in wanted.items())

    try:
        await eventually(updated, what=f"the activity on {phone} to show {wanted}", within=60)
    except AssertionError as err:
        raise AssertionError(f"{err}; last seen: {seen}") from None
    return seen


async def nothing_stored(client: httpx.AsyncClient) -> bool:
    """Tell whether the company has no call and no dead job."""
    calls = (await client.get("/calls")).json()["calls"]
    dead = (await client.get("/jobs/dead")).json()
    return bool(calls == [] and dead == [])
