"""Coalesced searches and batch creates end in the CRM state sequential syncs would leave.

Concurrent "syncs" (lookup, create the contact if none, log the call; retried on Transient and
RateLimited as the queue would) run against the fake under HubSpot's low-tier limits, so the
budget is the bottleneck and the connector coalesces. Per-number serialization is the queue's
(its lock key): the calls of one number run one after the other, numbers at once.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from callbridge.connectors.hubspot import batch_search, batching, pressure
from callbridge.connectors.hubspot.client import HubSpotClient, HubSpotRejected
from callbridge.connectors.hubspot.fake import FakeHubSpot
from callbridge.connectors.hubspot.tables import hubspot_objects, hubspot_phone_cache
from callbridge.domain.activity import ActivityDraft
from callbridge.domain.phone import parse_e164
from callbridge.domain.record import ContactDraft
from callbridge.errors import RateLimited, Transient
from callbridge.runtime import Runtime
from tests.connectors.hubspot.hubspot_setup import MakeConnector, define_ours

Budget = dict[str, int]
LOW_TIER: Budget = {"requests_per_10s": 100, "searches_per_second": 5}
MISSING = "999999999"  # a record deleted meanwhile: its call's create is refused


@dataclass(frozen=True)
class Number:
    """One caller: known to HubSpot or not, with its calls (True: on a deleted record)."""

    digits: int
    known: bool
    calls: tuple[bool, ...]

    @property
    def e164(self) -> str:
        """Return the caller's number."""
        return f"+1415555{self.digits:04d}"


numbers = st.lists(
    st.builds(
        Number,
        st.integers(0, 9999),
        st.booleans(),
        st.lists(st.sampled_from([False] * 5 + [True]), min_size=1, max_size=3).map(tuple),
    ),
    min_size=1,
    max_size=14,
    unique_by=lambda n: n.digits,
)


def activity(call_id: str, record_id: str) -> ActivityDraft:
    """Return an answered incoming call to log."""
    return ActivityDraft(
        external_id=call_id, record_id=record_id, direction="incoming", status="answered",
        subject="Call", started_at=datetime(2026, 12, 7, tzinfo=UTC), duration=30, agent=None,
        recording_url=None, notes=None, tags=(), disposition=None,
    )  # fmt: skip


async def sync(
    make: MakeConnector, number: Number, index: int, deleted: bool, budget: Budget = LOW_TIER
) -> str | None:
    """Sync one call like the pipeline: retried until done; None when HubSpot refuses it."""
    call_id = f"call-{number.digits}-{index}"
    for _ in range(30):
        connector = make(**budget)  # a connector per sync, as the pipeline builds them
        try:
            found = await connector.find_by_phone(parse_e164(number.e164))
            if found:
                record_id = found[0].id
            else:
                draft = ContactDraft("Caller", number.e164, external_id=f"claim-{call_id}")
                record_id = (await connector.create_contact(draft)).id
            return await connector.log_call(activity(call_id, MISSING if deleted else record_id))
        except (Transient, RateLimited) as err:
            await asyncio.sleep(min(getattr(err, "retry_after", 0.05), 1.0))
        except HubSpotRejected:
            return None
    raise AssertionError(f"{call_id} never synced")


async def run_all(make: MakeConnector, numbers: list[Number], budget: Budget = LOW_TIER) -> None:
    """Run every number's calls one after the other, the numbers all at once."""

    async def calls_of(number: Number) -> None:
        for index, deleted in enumerate(number.calls):
            await sync(make, number, index, deleted, budget)

    await asyncio.gather(*(calls_of(n) for n in numbers))


def check_end_state(fake: FakeHubSpot, numbers: list[Number], known: dict[str, str]) -> None:
    """Assert the CRM holds what sequential syncs would: one contact and one call each."""
    contacts = fake.state.objects.get("contacts", {})
    calls = fake.state.objects.get("calls", {})
    by_phone: dict[str, list[str]] = {}
    for object_id, stored in contacts.items():
        by_phone.setdefault(stored["properties"].get("phone", ""), []).append(object_id)
    logged = {c["properties"]["callbridge_external_id"]: i for i, c in calls.items()}
    assert len(logged) == len(calls), "a call was logged twice"
    expected_calls = 0
    for number in numbers:
        owners = by_phone.get(number.e164, [])
        if number.known:
            assert owners == [known[number.e164]], "a known caller got a contact"
        else:
            assert len(owners) == 1, f"{number.e164}: {len(owners)} contacts"
        for index, deleted in enumerate(number.calls):
            call = logged.get(f"call-{number.digits}-{index}")
            if deleted:
                assert call is None
                continue
            expected_calls += 1
            assert call is not None
            assert fake.state.associated("calls", call, "contacts") == owners
    assert len(calls) == expected_calls


async def reset(fake: FakeHubSpot, runtime: Runtime, integration_id: str) -> dict[str, str]:
    """Empty the fake's objects and the connector's tables; return nothing known yet."""
    async with runtime.engine.begin() as conn:
        for table in (hubspot_phone_cache, hubspot_objects):
            await conn.execute(delete(table).where(table.c.integration_id == integration_id))
    fake.state.objects.clear()
    fake.state.associations.clear()
    fake.state.requests.clear()
    fake.state.faults.clear()
    fake.state.search_delay = 0.0
    return {}


@settings(max_examples=6)
@given(
    callers=numbers,
    fault=st.sampled_from([None, "contacts", "calls"]),
    lagging=st.booleans(),
)
async def test_coalesced_syncs_end_as_sequential_ones(
    make_connector: MakeConnector,
    fake: FakeHubSpot,
    hs_runtime: Runtime,
    integration_id: str,
    callers: list[Number],
    fault: str | None,
    lagging: bool,
) -> None:
    known = await reset(fake, hs_runtime, integration_id)
    for kind in ("contacts", "calls"):
        define_ours(fake, kind)
    for number in callers:
        if number.known:
            known[number.e164] = fake.state.add("contacts", {"phone": number.e164})["id"]
    if lagging:  # new objects never show in search during the test
        fake.state.search_delay = 3600.0
    if fault:  # a write that commits, then its answer is lost
        fake.state.fail_after_commit(fault, 502)
    await run_all(make_connector, callers)
    check_end_state(fake, callers, known)


async def test_a_backlog_is_coalesced(make_connector: MakeConnector, fake: FakeHubSpot) -> None:
    for kind in ("contacts", "calls"):
        define_ours(fake, kind)
    callers = [Number(i, i % 2 == 0, (False,)) for i in range(40)]
    known = {
        n.e164: fake.state.add("contacts", {"phone": n.e164})["id"] for n in callers if n.known
    }
    await run_all(make_connector, callers)
    check_end_state(fake, callers, known)
    paths = [path for _, path in fake.state.requests]
    assert any(p.endswith("/calls/batch/create") for p in paths)
    assert len(paths) < 40 * 2, f"{len(paths)} requests for 40 calls"
    assert fake.state.rejected_429 == 0


@settings(max_examples=15)
@given(
    stored=st.lists(
        st.tuples(st.integers(0, 30), st.sampled_from(["e164", "national", "dashed", "mobile"])),
        max_size=20,
    ),
    wanted=st.lists(st.integers(0, 30), min_size=1, max_size=25),
)
async def test_one_search_splits_back_as_single_searches(
    make_connector: MakeConnector,
    fake: FakeHubSpot,
    hs_runtime: Runtime,
    integration_id: str,
    stored: list[tuple[int, str]],
    wanted: list[int],
) -> None:
    await reset(fake, hs_runtime, integration_id)
    for digits, style in stored:
        e164 = f"+1415555{digits:04d}"
        shown = {"e164": e164, "national": f"(415) 555-{digits:04d}"}
        shown |= {"dashed": f"415-555-{digits:04d}", "mobile": e164}
        fake.state.add("contacts", {"mobilephone" if style == "mobile" else "phone": shown[style]})
    connector = make_connector()
    lookups = [(parse_e164(f"+1415555{d:04d}"), "US") for d in wanted]
    taken, found = await batch_search.search("contacts", connector.client, lookups)
    assert taken == len(lookups)  # 25 numbers fit in one search body
    for (phone, _), records in zip(lookups, found, strict=True):
        alone = await connector._search_contacts(phone)
        assert sorted(r.id for r, _ in records) == sorted(r.id for r, _ in alone)


def test_crowding_is_counted_per_integration() -> None:
    assert not pressure.crowded("a")
    with pressure.inside("a"), pressure.inside("a"):
        assert pressure.crowded("a") and not pressure.crowded("b")
    assert not pressure.crowded("a")


async def test_a_batch_holds_what_waited_and_a_lone_item_goes_at_once() -> None:
    sent: list[list[int]] = []
    gate = asyncio.Event()

    async def send(client: object, items: list[int]) -> tuple[int, list[int | BaseException]]:
        sent.append(list(items))
        await gate.wait()
        taken = items[:3]  # at most 3 a batch: the rest waits for the next flush
        return len(taken), [ValueError(i) if i == 4 else i * 10 for i in taken]

    batch: batching.Batcher[int, int] = batching.Batcher(send)
    client = cast(HubSpotClient, object())
    first = asyncio.create_task(batch.submit(client, 1))
    for _ in range(3):  # the submit, then its flush, start: no batching window
        await asyncio.sleep(0)
    assert sent == [[1]], "a lone item is sent at once"
    rest = [asyncio.create_task(batch.submit(client, i)) for i in range(2, 7)]
    for _ in range(3):
        await asyncio.sleep(0)
    gate.set()
    assert await first == 10
    outcomes = await asyncio.gather(*rest, return_exceptions=True)
    assert sent == [[1], [2, 3, 4, 5, 6], [5, 6]]
    assert [o if isinstance(o, int) else "error" for o in outcomes] == [20, 30, "error", 50, 60]


async def test_an_item_submitted_as_the_last_flush_ends_is_still_sent() -> None:
    """A flush that has just ended (its set entry not yet dropped) does not strand a new item.

    The flush here ends within its first step, so the second submit runs before the callback
    that forgets the flush: counted as under way, it left the item waiting forever (a sync that
    never ended, found by the HubSpot policies test under load).
    """
    sent: list[list[int]] = []

    async def send(client: object, items: list[int]) -> tuple[int, list[int | BaseException]]:
        sent.append(list(items))
        return len(items), [i * 10 for i in items]

    batch: batching.Batcher[int, int] = batching.Batcher(send)
    client = cast(HubSpotClient, object())
    first = asyncio.create_task(batch.submit(client, 1))
    await asyncio.sleep(0)  # the first submit starts its flush, which is ready to run next
    second = asyncio.create_task(batch.submit(client, 2))  # runs right after the flush ends
    assert await asyncio.wait_for(first, timeout=5) == 10
    assert await asyncio.wait_for(second, timeout=5) == 20
    assert sent == [[1], [2]]
