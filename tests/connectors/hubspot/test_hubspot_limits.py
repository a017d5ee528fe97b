"""The rolling-window limits (a sliding log per limit, shared in the database), and the cache.

The limits must hold in *every* rolling window, whatever the arrival times: the properties
below generate arrivals and check each window of the granted takes, in memory and through
the database (SQLite and PostgreSQL), and with concurrent takers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from callbridge.connectors.hubspot import leases
from callbridge.connectors.hubspot.config import HubSpotConfig
from callbridge.connectors.hubspot.connector import HubSpotConnector
from callbridge.connectors.hubspot.fake import FakeHubSpot
from callbridge.connectors.hubspot.limits import (
    JITTER,
    SLACK_SECONDS,
    Demand,
    RateBucket,
    Take,
    due,
    room,
)
from callbridge.connectors.hubspot.tables import hubspot_rate_buckets
from callbridge.domain.phone import parse_e164
from callbridge.domain.record import ContactDraft
from callbridge.errors import RateLimited
from callbridge.runtime import Runtime
from tests.connectors.hubspot.hubspot_setup import MakeConnector

PHONE = parse_e164("+14155550134")
START = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def worst_window(times: Sequence[tuple[datetime, int]], window: float) -> int:
    """Return the most tokens granted in any rolling window of ``window`` seconds.

    A window holding the most takes can be slid until it starts at one of them, so checking
    the windows that start at each take covers every window.
    """
    span = timedelta(seconds=window)
    return max(
        (sum(n for t, n in times if start <= t < start + span) for start, _ in times), default=0
    )


LIMITS = st.sampled_from([("search", 4, 1.0), ("search", 5, 1.0), ("general", 90, 10.0),
                          ("general", 10, 10.0)])  # fmt: skip
ARRIVALS = st.lists(
    st.tuples(st.floats(min_value=0, max_value=0.7), st.integers(min_value=1, max_value=3)),
    min_size=1,
    max_size=120,
)


@settings(max_examples=300)
@given(limit=LIMITS, arrivals=ARRIVALS, retry=st.booleans())
def test_no_rolling_window_ever_holds_more_than_the_budget(
    limit: tuple[str, int, float], arrivals: list[tuple[float, int]], retry: bool
) -> None:
    """Arbitrary arrival times and sizes: every window of the granted takes fits the budget."""
    name, budget, window = limit
    log: list[Take] = []
    granted: list[tuple[datetime, int]] = []
    line: datetime | None = None
    now = START
    for gap, count in arrivals:
        now += timedelta(seconds=gap * window)
        demand = Demand(name, budget, window, count)
        if room(log, now, demand):
            log.append(Take(now, count))
            granted.append((now, count))
            continue
        when = due(log, now, line, demand)
        assert when > now, "a refused take is told to come back later, never now"
        line = when
        if retry:  # it comes back exactly when told, and nothing else came meanwhile
            assert room(log, when, demand), "a refused take finds its tokens when due"
    assert worst_window(granted, window) <= budget
    assert worst_window(granted, window + SLACK_SECONDS) <= budget, "the slack holds too"


@settings(max_examples=100)
@given(gaps=st.lists(st.floats(min_value=0, max_value=0.3), min_size=1, max_size=40))
def test_a_greedy_taker_gets_the_whole_budget_of_each_window(gaps: list[float]) -> None:
    """Exact, not only safe: a window with room is never refused (no budget wasted)."""
    demand = Demand("search", 4, 1.0, 1)
    log: list[Take] = []
    now = START
    for gap in gaps:
        now += timedelta(seconds=gap)
        in_window = sum(t.count for t in log if t.at > now - demand.span)
        assert room(log, now, demand) == (in_window < 4)
        if room(log, now, demand):
            log.append(Take(now, 1))


def test_a_refused_take_comes_after_the_takes_already_waiting() -> None:
    demand = Demand("general", 10, 10.0, 2)
    log = [Take(START, 10)]  # full until START + 10.2 s
    first = due(log, START, None, demand)
    assert first == START + demand.span
    second = due(log, START, first, demand)  # another refused take queues behind it
    assert second == first + timedelta(seconds=2 * demand.spacing)


def test_a_sync_refused_half_way_comes_back_for_what_it_will_take_again() -> None:
    log = [Take(START, 5), Take(START + timedelta(seconds=3), 5)]
    half_way = Demand("general", 10, 10.0, 1, need=8)  # 7 taken before, taken again on retry
    assert due(log, START + timedelta(seconds=4), None, half_way) == (
        START + timedelta(seconds=3) + half_way.span
    )


STEPS = st.lists(
    st.tuples(
        st.floats(min_value=0, max_value=0.6),  # seconds since the previous arrival
        st.integers(min_value=0, max_value=2),  # searches
        st.integers(min_value=1, max_value=3),  # general requests
        st.booleans(),  # whether the sync gives a search back (a contact had the number)
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=12)
@given(steps=STEPS)
async def test_the_database_limits_hold_in_every_rolling_window(
    integration_on: tuple[Runtime, str], steps: list[tuple[float, int, int, bool]]
) -> None:
    """Lookups from many workers (one bucket each), with refunds: both limits hold."""
    runtime, integration_id = integration_on
    async with runtime.sessions.begin() as session:
        await session.execute(
            delete(hubspot_rate_buckets).where(
                hubspot_rate_buckets.c.integration_id == integration_id
            )
        )
    clock = Clock()
    searches: list[tuple[datetime, int]] = []
    general: list[tuple[datetime, int]] = []
    for gap, searched, requests, refund in steps:
        clock.now += timedelta(seconds=gap)
        bucket = RateBucket(runtime.sessions, integration_id, clock)
        demands = [Demand("general", 10, 10.0, requests)]
        demands += [Demand("search", 4, 1.0, searched)] if searched else []
        try:
            await bucket.take(*demands)
        except RateLimited as refused:
            assert refused.retry_after > 0
            continue
        general.append((clock.now, requests))
        if searched and refund:
            await bucket.give_back(Demand("search", 4, 1.0, 1), Demand("general", 10, 10.0, 1))
            searched, requests = searched - 1, requests - 1
        searches.append((clock.now, searched))
        general[-1] = (clock.now, requests)
    assert worst_window(searches, 1.0) <= 4
    assert worst_window(general, 10.0) <= 10


LEASED_STEPS = st.lists(
    st.tuples(
        st.floats(min_value=0, max_value=0.4),  # seconds since the previous arrival
        # general requests: most within a lease, some large enough to fill the window past half
        st.one_of(
            st.integers(min_value=1, max_value=40), st.integers(min_value=200, max_value=2000)
        ),
        st.integers(min_value=0, max_value=3),  # of which given back
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=10)
@given(steps=LEASED_STEPS)
async def test_leased_tokens_keep_every_rolling_window_within_the_budget(
    integration_on: tuple[Runtime, str], steps: list[tuple[float, int, int]]
) -> None:
    """A limit large enough to lease (10,000 / 10 s, leases of 20): the bound holds all the same.

    Takes served from a lease are counted at the moment they were served, as a request sent
    then; the arrivals fill the window past half, so both regimes (leased, then taken one
    transaction at a time) are crossed.
    """
    runtime, integration_id = integration_on
    async with runtime.sessions.begin() as session:
        await session.execute(
            delete(hubspot_rate_buckets).where(
                hubspot_rate_buckets.c.integration_id == integration_id
            )
        )
    leases.forget_all()
    clock = Clock()
    granted: list[tuple[datetime, int]] = []
    for gap, requests, back in steps:
        clock.now += timedelta(seconds=gap)
        bucket = RateBucket(runtime.sessions, integration_id, clock)
        try:
            await bucket.take(Demand("general", 10_000, 10.0, requests))
        except RateLimited:
            continue
        if back:
            await bucket.give_back(Demand("general", 10_000, 10.0, back))
        granted.append((clock.now, requests - back))
    assert worst_window(granted, 10.0) <= 10_000


async def test_a_roomy_limit_is_leased_so_most_takes_need_no_transaction(
    integration_on: tuple[Runtime, str],
) -> None:
    """A lease is logged twice (its start and its end); its takes write nothing until it ends."""
    runtime, integration_id = integration_on
    leases.forget_all()
    clock = Clock()
    demand = Demand("general", 100_000, 10.0, 1)  # leases of 200 tokens (2 % of 1 s of it)

    async def log() -> list[float]:
        async with runtime.sessions() as session:
            rows = await session.execute(
                select(hubspot_rate_buckets.c.tokens).where(
                    hubspot_rate_buckets.c.integration_id == integration_id,
                    hubspot_rate_buckets.c.bucket.like("general#%"),
                )
            )
        return sorted(row.tokens for row in rows)

    bucket = RateBucket(runtime.sessions, integration_id, clock)
    await bucket.take(demand)
    assert await log() == [201, 201]
    for _ in range(150):
        await RateBucket(runtime.sessions, integration_id, clock).take(demand)
    await bucket.give_back(demand)  # back to the lease: the log is not touched
    assert await log() == [201, 201]
    assert bucket.roomy
    clock.now += timedelta(seconds=leases.LEASE_SECONDS)  # the lease has ended
    await bucket.take(demand)
    assert await log() == [201, 201, 201, 201]


async def test_a_small_limit_is_never_leased(integration_on: tuple[Runtime, str]) -> None:
    """HubSpot's own limits (100 / 10 s, 5 searches / s) are taken one transaction at a time."""
    runtime, integration_id = integration_on
    leases.forget_all()
    clock = Clock()
    for _ in range(3):
        await RateBucket(runtime.sessions, integration_id, clock).take(
            Demand("general", 100, 10.0, 1)
        )
    assert await logged_tokens(runtime, integration_id, "general") == 3


async def logged_tokens(runtime: Runtime, integration_id: str, name: str) -> float:
    """Return the tokens in a limit's log."""
    async with runtime.sessions() as session:
        rows = await session.execute(
            select(hubspot_rate_buckets.c.tokens).where(
                hubspot_rate_buckets.c.integration_id == integration_id,
                hubspot_rate_buckets.c.bucket.like(f"{name}#%"),
            )
        )
    return float(sum(row.tokens for row in rows))


async def test_concurrent_workers_share_one_limit(integration_on: tuple[Runtime, str]) -> None:
    """Thirty takers at one instant, each with its own session: exactly the budget gets in."""
    runtime, integration_id = integration_on
    clock = Clock()

    async def one() -> bool:
        try:
            await RateBucket(runtime.sessions, integration_id, clock).take(
                Demand("search", 4, 1.0, 1)
            )
        except RateLimited:
            return False
        return True

    outcomes = await asyncio.gather(*(one() for _ in range(30)))
    assert sum(outcomes) == 4
    clock.now += timedelta(seconds=1 + SLACK_SECONDS)
    assert await one(), "the window has passed"


async def test_a_refused_take_is_told_to_come_when_its_tokens_are_there(
    integration_on: tuple[Runtime, str],
) -> None:
    runtime, integration_id = integration_on
    clock = Clock()
    search = Demand("search", 4, 1.0, 2)
    await RateBucket(runtime.sessions, integration_id, clock).take(search)
    clock.now += timedelta(seconds=0.5)
    await RateBucket(runtime.sessions, integration_id, clock).take(search)
    waits = []
    for _ in range(2):
        with pytest.raises(RateLimited, match="search") as caught:
            await RateBucket(runtime.sessions, integration_id, clock).take(search)
        waits.append(caught.value.retry_after)
    # The first two tokens leave the window 1.2 s after the first take, 0.7 s from now; the
    # second refused take comes after the first's two tokens (0.6 s at 4 per 1.2 s).
    assert 0.7 <= waits[0] <= 0.7 + JITTER * 0.6
    assert 1.3 <= waits[1] <= 1.3 + JITTER * 0.6
    clock.now += timedelta(seconds=waits[0])
    await RateBucket(runtime.sessions, integration_id, clock).take(search)


async def logged(connector: HubSpotConnector, name: str) -> float:
    """Return the tokens in a limit's log, as written."""
    async with connector.written._sessions() as session:
        rows = await session.execute(
            select(hubspot_rate_buckets.c.tokens).where(
                hubspot_rate_buckets.c.integration_id == connector.client.integration_id,
                hubspot_rate_buckets.c.bucket.like(f"{name}#%"),
            )
        )
    return float(sum(row.tokens for row in rows))


async def test_two_connectors_of_one_integration_share_the_limit(
    make_connector: MakeConnector, fake: FakeHubSpot
) -> None:
    clock = Clock()
    limits = {"requests_per_10s": 6, "clock": clock, "company_search": "never"}
    workers = [make_connector(**limits) for _ in range(4)]  # four "workers"
    # A lookup takes its search and the call log after it: 2 of the 6 general tokens.
    for worker in workers[:3]:
        await worker.find_by_phone(PHONE)
    sent = len(fake.state.requests)
    with pytest.raises(RateLimited) as caught:
        await workers[3].find_by_phone(PHONE)  # the window is full: the sync does not start
    assert 10 + SLACK_SECONDS <= caught.value.retry_after <= 10.2 + JITTER * 2 * 10.2 / 6
    assert len(fake.state.requests) == sent, "a full window sends nothing"
    clock.now += timedelta(seconds=caught.value.retry_after)
    await workers[3].find_by_phone(PHONE)
    assert workers[3].client.prepaid == 1


async def test_a_take_is_all_or_nothing_across_limits(make_connector: MakeConnector) -> None:
    clock = Clock()
    limits = {"requests_per_10s": 100, "searches_per_second": 2, "clock": clock}
    connector = make_connector(**limits)
    await connector.find_by_phone(PHONE)  # contacts + companies: both search tokens
    before = await logged(connector, "general")
    with pytest.raises(RateLimited, match="search"):
        await make_connector(**limits).find_by_phone(PHONE)
    assert await logged(connector, "general") == before, "no general token taken for nothing"


async def test_the_search_limit_is_separate_and_shared(make_connector: MakeConnector) -> None:
    clock = Clock()
    connector = make_connector(searches_per_second=3, clock=clock)
    await connector.find_by_phone(PHONE)  # contacts + companies: 2 of 3
    with pytest.raises(RateLimited, match="search"):
        await make_connector(searches_per_second=3, clock=clock).find_by_phone(PHONE)
    clock.now += timedelta(seconds=1 + SLACK_SECONDS)
    await connector.find_by_phone(PHONE)


async def test_tokens_not_needed_are_given_back(
    make_connector: MakeConnector, fake: FakeHubSpot
) -> None:
    clock = Clock()
    contact = fake.state.add("contacts", {"firstname": "Jane", "phone": "+14155550134"})
    connector = make_connector(requests_per_10s=100, clock=clock)
    # The open-deal lookup reserves its 2 requests and the call log; there is no deal to read.
    assert await connector.find_open_deal(contact["id"]) is None
    assert connector.client.prepaid == 1
    assert await logged(connector, "general") == 3 - 1


async def test_only_a_buckets_own_takes_are_given_back(
    integration_on: tuple[Runtime, str],
) -> None:
    """A refund never lowers another worker's take (that would let too much through)."""
    runtime, integration_id = integration_on
    clock = Clock()
    mine, theirs = (RateBucket(runtime.sessions, integration_id, clock) for _ in range(2))
    await mine.take(Demand("search", 4, 1.0, 1))
    await theirs.take(Demand("search", 4, 1.0, 3))
    await mine.give_back(Demand("search", 4, 1.0, 3))  # asks back more than it took
    with pytest.raises(RateLimited):
        await theirs.take(Demand("search", 4, 1.0, 2))
    await theirs.take(Demand("search", 4, 1.0, 1))


async def test_a_cached_number_without_deals_reserves_no_batch_read(
    make_connector: MakeConnector, fake: FakeHubSpot
) -> None:
    clock = Clock()
    contact = fake.state.add("contacts", {"firstname": "Jane", "phone": "+14155550134"})
    await make_connector(requests_per_10s=100, clock=clock).find_by_phone(PHONE)
    clock.now += timedelta(seconds=11)  # the window is empty again
    connector = make_connector(requests_per_10s=100, clock=clock)
    await connector.find_by_phone(PHONE)  # from the cache, which saw no deal
    assert await connector.find_open_deal(contact["id"]) is None  # still asked to HubSpot
    assert (connector.client.prepaid, await logged(connector, "general")) == (1, 2)


async def test_a_found_number_is_served_from_the_cache(
    make_connector: MakeConnector, fake: FakeHubSpot
) -> None:
    contact = fake.state.add("contacts", {"firstname": "Jane", "phone": "(415) 555-0134"})
    connector = make_connector()
    first = await connector.find_by_phone(PHONE)
    sent = len(fake.state.requests)
    assert await make_connector().find_by_phone(PHONE) == first  # another worker, same cache
    assert len(fake.state.requests) == sent
    assert [r.id for r in first] == [contact["id"]]


async def test_the_cache_expires(make_connector: MakeConnector, fake: FakeHubSpot) -> None:
    clock = Clock()
    fake.state.add("contacts", {"firstname": "Jane", "phone": "+14155550134"})
    # A busy budget (each lookup takes 3 of 5): no speculative companies search.
    connector = make_connector(clock=clock, cache_seconds=60, requests_per_10s=5)
    await connector.find_by_phone(PHONE)
    sent = len(fake.state.requests)
    clock.now += timedelta(seconds=61)
    await connector.find_by_phone(PHONE)
    assert len(fake.state.requests) == sent + 1  # a known contact: one search


SEARCHES = {"contacts": "/crm/v3/objects/contacts/search"}
SEARCHES["companies"] = "/crm/v3/objects/companies/search"


@pytest.mark.parametrize(
    ("mode", "contact", "searched"),
    [
        ("when_no_contact", True, ["contacts"]),
        ("when_no_contact", False, ["contacts", "companies"]),
        ("always", True, ["contacts", "companies"]),
        ("never", False, ["contacts"]),
    ],
)
async def test_companies_are_searched_as_the_setting_says(
    make_connector: MakeConnector, fake: FakeHubSpot, mode: str, contact: bool, searched: list[str]
) -> None:
    """By default a known contact costs one search; companies are looked at when none has it.

    The budget here is more than half used by the lookup (3 of 5), so nothing is speculative.
    """
    company = fake.state.add("companies", {"name": "Switchboard", "phone": "+14155550134"})
    if contact:
        fake.state.add("contacts", {"firstname": "Jane", "phone": "+14155550134"})
    connector = make_connector(company_search=mode, requests_per_10s=5, clock=Clock())
    found = await connector.find_by_phone(PHONE)
    assert [path for _, path in fake.state.requests] == [SEARCHES[kind] for kind in searched]
    # Paid up front: the searches made and the request that follows; nothing more is kept.
    assert connector.client.taken == len(searched) + 1
    assert await logged(connector, "general") == len(searched) + 1
    assert (f"company:{company['id']}" in [r.id for r in found]) == ("companies" in searched)


@pytest.mark.parametrize("contact", [True, False])
async def test_with_room_in_the_budget_both_searches_go_at_once(
    make_connector: MakeConnector, fake: FakeHubSpot, contact: bool
) -> None:
    """Less than half the budget used: contacts and companies are searched together.

    The companies found are dropped when a contact has the number (as if never searched), and
    the search is not given back: HubSpot counted it.
    """
    company = fake.state.add("companies", {"name": "Switchboard", "phone": "+14155550134"})
    if contact:
        fake.state.add("contacts", {"firstname": "Jane", "phone": "+14155550134"})
    connector = make_connector(requests_per_10s=100, clock=Clock())
    found = await connector.find_by_phone(PHONE)
    assert sorted(path for _, path in fake.state.requests) == sorted(SEARCHES.values())
    assert connector.client.taken == 3
    assert await logged(connector, "general") == 3
    assert (f"company:{company['id']}" in [r.id for r in found]) == (not contact)


def test_settings_saved_with_search_companies_are_still_read() -> None:
    """``search_companies: true/false`` (the earlier setting) maps to always / never."""
    assert HubSpotConfig.model_validate({"search_companies": False}).company_search == "never"
    assert HubSpotConfig.model_validate({"search_companies": True}).company_search == "always"
    assert HubSpotConfig().company_search == "when_no_contact"


async def test_creating_a_contact_adds_it_to_the_number(
    make_connector: MakeConnector, fake: FakeHubSpot
) -> None:
    fake.state.add("contacts", {"firstname": "Jane", "phone": "+14155550134"})
    connector = make_connector()
    assert len(await connector.find_by_phone(PHONE)) == 1
    created = await connector.create_contact(ContactDraft("New Callbridge Contact", PHONE.e164))
    found = await connector.find_by_phone(PHONE)
    assert created.id in [record.id for record in found] and len(found) == 2


async def test_a_created_contact_is_found_before_hubspot_search_shows_it(
    make_connector: MakeConnector, fake: FakeHubSpot
) -> None:
    connector = make_connector()
    assert await connector.find_by_phone(PHONE) == []
    created = await connector.create_contact(ContactDraft("New Callbridge Contact", PHONE.e164))
    fake.state.objects["contacts"].clear()  # HubSpot's search lags behind its writes
    sent = len(fake.state.requests)
    assert [r.id for r in await make_connector().find_by_phone(PHONE)] == [created.id]
    assert len(fake.state.requests) == sent, "the next call needs no search"


async def test_misses_are_not_cached(make_connector: MakeConnector, fake: FakeHubSpot) -> None:
    connector = make_connector()
    assert await connector.find_by_phone(PHONE) == []
    typed = fake.state.add("contacts", {"firstname": "Typed in HubSpot", "phone": "4155550134"})
    assert [r.id for r in await connector.find_by_phone(PHONE)] == [typed["id"]]
