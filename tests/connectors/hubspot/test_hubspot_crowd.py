"""A crowd of syncs coalesces even with a roomy budget; a lone sync sends its own requests.

Batches cost less CPU than their requests sent one by one, so the connector coalesces whenever
other syncs of the integration are inside a lookup or a create, not only when HubSpot's budget
is the bottleneck (``batching.coalescing``). Every guarantee holds as under pressure: the CRM
ends as sequential syncs would leave it (``test_hubspot_batching.check_end_state``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callbridge.connectors.hubspot import batch_search, batching, pressure
from callbridge.connectors.hubspot.client import HubSpotClient
from callbridge.connectors.hubspot.fake import FakeHubSpot
from callbridge.domain.phone import parse_e164
from callbridge.runtime import Runtime
from tests.connectors.hubspot.hubspot_setup import MakeConnector, define_ours
from tests.connectors.hubspot.test_hubspot_batching import (
    Budget,
    Number,
    check_end_state,
    numbers,
    reset,
    run_all,
)

ROOMY: Budget = {}  # the fixture's budgets, which no test reaches
OBJECTS = "/crm/v3/objects"


def prepare(fake: FakeHubSpot, callers: list[Number]) -> dict[str, str]:
    """Define our properties; add the known callers' contacts and return them by number."""
    for kind in ("contacts", "calls"):
        define_ours(fake, kind)
    return {n.e164: fake.state.add("contacts", {"phone": n.e164})["id"] for n in callers if n.known}


async def test_a_crowd_coalesces_with_a_roomy_budget(
    make_connector: MakeConnector, fake: FakeHubSpot, integration_id: str
) -> None:
    callers = [Number(i, i % 2 == 0, (False,)) for i in range(30)]
    known = prepare(fake, callers)
    await run_all(make_connector, callers, ROOMY)
    check_end_state(fake, callers, known)
    paths = [path for _, path in fake.state.requests]
    assert f"{OBJECTS}/calls/batch/create" in paths
    assert f"{OBJECTS}/contacts/batch/create" in paths
    singles = 15 * 4 + 15 * 3  # alone: 2 searches, (the contact,) the call
    assert len(paths) < singles / 2, f"{len(paths)} requests for 30 calls"
    assert not pressure.pressed(integration_id), "the budget was never the bottleneck"


async def test_a_lone_sync_sends_its_own_requests(
    make_connector: MakeConnector, fake: FakeHubSpot
) -> None:
    callers = [Number(7, False, (False,))]
    known = prepare(fake, callers)
    await run_all(make_connector, callers, ROOMY)
    check_end_state(fake, callers, known)
    searches = [f"{OBJECTS}/contacts/search", f"{OBJECTS}/companies/search"]
    creates = [f"{OBJECTS}/contacts", f"{OBJECTS}/calls"]
    assert sorted(path for _, path in fake.state.requests) == sorted(searches + creates)


Search = Callable[..., Awaitable[tuple[int, list[batch_search.Found]]]]


async def test_a_crowd_searches_contacts_and_companies_at_once(
    make_connector: MakeConnector, fake: FakeHubSpot, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[tuple[str, str]] = []
    searched: Search = batch_search.search

    async def search(kind: str, *args: object) -> tuple[int, list[batch_search.Found]]:
        events.append(("start", kind))
        try:
            return await searched(kind, *args)
        finally:
            events.append(("end", kind))

    monkeypatch.setattr(batch_search, "search", search)
    callers = [Number(i, False, (False,)) for i in range(10)]
    known = prepare(fake, callers)
    await run_all(make_connector, callers, ROOMY)
    check_end_state(fake, callers, known)
    assert ("start", "companies") in events, "the crowd's searches were not coalesced"
    assert events.index(("start", "companies")) < events.index(("end", "contacts")), (
        "the companies were searched only once the contacts search had answered"
    )


@settings(max_examples=6)
@given(callers=numbers, fault=st.sampled_from([None, "contacts", "calls"]), lagging=st.booleans())
async def test_a_roomy_crowd_ends_as_sequential_syncs(
    make_connector: MakeConnector,
    fake: FakeHubSpot,
    hs_runtime: Runtime,
    integration_id: str,
    callers: list[Number],
    fault: str | None,
    lagging: bool,
) -> None:
    await reset(fake, hs_runtime, integration_id)
    known = prepare(fake, callers)
    if lagging:  # new objects never show in search during the test
        fake.state.search_delay = 3600.0
    if fault:  # a write that commits, then its answer is lost
        fake.state.fail_after_commit(fault, 502)
    await run_all(make_connector, callers, ROOMY)
    check_end_state(fake, callers, known)


def fitting_by_trial(kind: str, lookups: list[batch_search.Lookup]) -> int:
    """Count the lookups that fit by building every trial body (the measure ``fitting`` keeps)."""
    count = 1
    while count < len(lookups):
        trial = batch_search.body(kind, lookups[: count + 1], after=10_000)
        values = [len(group["filters"][0]["values"]) for group in trial["filterGroups"]]
        if max(values) > batch_search.MAX_VALUES or len(json.dumps(trial)) > batch_search.MAX_BODY:
            break
        count += 1
    return count


NUMBERS = st.sampled_from(["+1415555{:04d}", "+3361234{:04d}", "+4930123{:04d}5"])


@settings(max_examples=60)
@given(
    shapes=st.lists(st.tuples(NUMBERS, st.integers(0, 9999)), min_size=1, max_size=90),
    region=st.sampled_from(["US", "FR", "DE"]),
    kind=st.sampled_from(["contacts", "companies"]),
)
def test_fitting_counts_as_building_every_body(
    shapes: list[tuple[str, int]], region: str, kind: str
) -> None:
    lookups = [(parse_e164(shape.format(digits)), region) for shape, digits in shapes]
    assert batch_search.fitting(kind, lookups) == fitting_by_trial(kind, lookups)


async def flushes_of(integration_id: str) -> list[list[int]]:
    """Submit 1, then 2 while 1 is out, then 3 and 4; return the batches sent."""
    sent: list[list[int]] = []
    gate = asyncio.Event()

    async def send(client: object, items: list[int]) -> tuple[int, list[int | BaseException]]:
        sent.append(list(items))
        await gate.wait()
        return len(items), [i * 10 for i in items]

    client = cast(HubSpotClient, SimpleNamespace(integration_id=integration_id))
    batch: batching.Batcher[int, int] = batching.batcher(client, "test", send)
    submitted = []
    for item in range(1, 5):
        submitted.append(asyncio.create_task(batch.submit(client, item)))
        for _ in range(3):  # the submit, then a flush it may start, run
            await asyncio.sleep(0)
    gate.set()
    assert await asyncio.gather(*submitted) == [10, 20, 30, 40]
    return sent


async def test_a_roomy_budget_lets_flushes_overlap() -> None:
    assert batching.ROOMY_LANES == 2
    assert await flushes_of("roomy") == [[1], [2], [3, 4]]


async def test_a_pressed_budget_sends_one_flush_at_a_time() -> None:
    pressure.press("pressed")
    assert await flushes_of("pressed") == [[1], [2, 3, 4]]
