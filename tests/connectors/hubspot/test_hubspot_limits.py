"""The shared token bucket and its waiting line, and the phone lookup cache."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from callbridge.connectors.hubspot.config import HubSpotConfig
from callbridge.connectors.hubspot.connector import HubSpotConnector
from callbridge.connectors.hubspot.limits import JITTER, LARGEST_TAKE, Demand, due, shape
from callbridge.connectors.hubspot.tables import hubspot_rate_buckets
from callbridge.domain.phone import parse_e164
from callbridge.domain.record import ContactDraft
from callbridge.errors import RateLimited
from callbridge.testing.fakes.hubspot import FakeHubSpot
from conftest import MakeConnector

PHONE = parse_e164("+14155550134")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.mark.parametrize("budget,window", [(90, 10.0), (100, 10.0), (4, 1.0), (250, 10.0)])
def test_no_window_holds_more_than_the_budget(budget: int, window: float) -> None:
    burst, rate = shape(budget, window)
    assert burst >= min(LARGEST_TAKE, budget - 1) and burst + rate * window == pytest.approx(budget)


def test_the_strict_bucket_leaves_at_least_95_percent_of_100_per_10s() -> None:
    burst, rate = shape(100, 10.0)
    assert (burst, rate) == (5, 9.5)


def simulate(budget: int, seconds: float, step: float) -> list[float]:
    """Take one token whenever the bucket has one, every ``step`` s; return the take times."""
    burst, rate = shape(budget, 10.0)
    tokens, taken, now = burst, [], 0.0
    while now < seconds:
        if tokens >= 1:
            tokens -= 1
            taken.append(now)
        now += step
        tokens = min(burst, tokens + rate * step)
    return taken


@pytest.mark.parametrize("budget", [20, 90, 100])
def test_a_greedy_taker_never_exceeds_the_budget_in_a_rolling_window(budget: int) -> None:
    taken = simulate(budget, 60.0, 0.01)
    assert max(sum(1 for t in taken if s <= t < s + 10) for s in taken) <= budget


GENERAL = Demand("general", 100, 10.0, 3)  # burst 5, 9.5 tokens per second


def test_a_refused_take_is_due_when_its_tokens_are_there() -> None:
    now = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    # 1 token of the 3 needed: the 2 missing ones take 2 / 9.5 s to come.
    assert due(now, 1.0, None, GENERAL) == now + timedelta(seconds=2 / 9.5)
    # A line that ended earlier does not matter.
    assert due(now, 1.0, now - timedelta(seconds=5), GENERAL) == now + timedelta(seconds=2 / 9.5)


def test_a_refused_take_comes_after_the_takes_already_waiting() -> None:
    now = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    line_end = now + timedelta(seconds=4)  # takes already refused are served until then
    assert due(now, 2.0, line_end, GENERAL) == line_end + timedelta(seconds=3 / 9.5)


def test_a_sync_refused_half_way_comes_back_for_what_it_will_take_again() -> None:
    now = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    half_way = Demand("general", 100, 10.0, 1, need=4)  # 3 taken before, taken again on retry
    assert due(now, 0.0, None, half_way) == now + timedelta(seconds=4 / 9.5)
    greedy = Demand("general", 100, 10.0, 1, need=50)  # never more than the bucket holds
    assert due(now, 0.0, None, greedy) == now + timedelta(seconds=5 / 9.5)


async def test_the_take_that_refuses_a_half_done_sync_asks_for_its_earlier_tokens(
    make_connector: MakeConnector,
) -> None:
    clock = Clock()
    connector = make_connector(requests_per_10s=100, clock=clock, company_search="never")
    await connector.find_by_phone(PHONE)  # 1 search + the call log: 2 of the 5 tokens
    await make_connector(requests_per_10s=100, clock=clock).client.reserve(3)  # empty it
    with pytest.raises(RateLimited) as caught:
        await connector.client.reserve(1)
    assert 3 / 9.5 <= caught.value.retry_after <= 3 / 9.5 * (1 + JITTER)


async def general_tokens(connector: HubSpotConnector) -> float:
    """Return the tokens left in the integration's general bucket, as last written."""
    async with connector.written._sessions() as session:
        row = (
            await session.execute(
                select(hubspot_rate_buckets.c.tokens).where(
                    hubspot_rate_buckets.c.bucket == "general"
                )
            )
        ).one()
    return float(row.tokens)


async def test_two_connectors_of_one_integration_share_the_bucket(
    make_connector: MakeConnector, fake: FakeHubSpot
) -> None:
    clock = Clock()
    limits = {"requests_per_10s": 20, "clock": clock, "company_search": "never"}
    workers = [make_connector(**limits) for _ in range(3)]  # three "workers"
    # Burst of 4, refill 1.6/s; a lookup takes its search and the call log after it: 2 tokens.
    await workers[0].find_by_phone(PHONE)
    await workers[1].find_by_phone(PHONE)
    sent = len(fake.state.requests)
    with pytest.raises(RateLimited) as caught:
        await workers[2].find_by_phone(PHONE)  # the bucket is empty: the sync does not start
    assert 2 / 1.6 <= caught.value.retry_after <= 2 / 1.6 * (1 + JITTER), "when 2 tokens are in"
    assert len(fake.state.requests) == sent, "an empty bucket sends nothing"
    clock.now += timedelta(seconds=caught.value.retry_after)
    await workers[2].find_by_phone(PHONE)
    assert workers[2].client.prepaid == 1


async def test_syncs_refused_together_come_back_one_after_the_other(
    make_connector: MakeConnector, fake: FakeHubSpot
) -> None:
    clock = Clock()
    limits = {"requests_per_10s": 20, "clock": clock, "company_search": "never"}
    await make_connector(**limits).client.reserve(4)  # empty the bucket (burst 4)
    waits = []
    for _ in range(3):
        with pytest.raises(RateLimited) as caught:
            await make_connector(**limits).find_by_phone(PHONE)
        waits.append(caught.value.retry_after)
    # Each needs 2 tokens at 1.6/s: due after 1.25 s, 2.5 s, 3.75 s (plus up to 10 % jitter).
    for index, wait in enumerate(waits, start=1):
        assert index * 1.25 <= wait <= index * 1.25 + 0.125
    sent = len(fake.state.requests)
    start = clock.now
    for wait in waits:  # each one, back when it was told to, finds its tokens
        clock.now = start + timedelta(seconds=wait)
        await make_connector(**limits).find_by_phone(PHONE)
    assert len(fake.state.requests) == sent + 3


async def test_a_take_is_all_or_nothing_across_buckets(make_connector: MakeConnector) -> None:
    clock = Clock()
    limits = {"requests_per_10s": 100, "searches_per_second": 2, "clock": clock}
    connector = make_connector(**limits)
    await connector.find_by_phone(PHONE)  # contacts + companies: both search tokens
    left = await general_tokens(connector)
    with pytest.raises(RateLimited, match="search"):
        await make_connector(**limits).find_by_phone(PHONE)
    assert await general_tokens(connector) == left, "no general token taken for nothing"


async def test_the_search_budget_is_separate_and_shared(make_connector: MakeConnector) -> None:
    clock = Clock()
    connector = make_connector(searches_per_second=3, clock=clock)
    await connector.find_by_phone(PHONE)  # contacts + companies: 2 of the burst of 3
    with pytest.raises(RateLimited, match="search"):
        await make_connector(searches_per_second=3, clock=clock).find_by_phone(PHONE)
    clock.now += timedelta(seconds=2)
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
    assert await general_tokens(connector) == 5 - 3 + 1


async def test_a_cached_number_without_deals_reserves_no_batch_read(
    make_connector: MakeConnector, fake: FakeHubSpot
) -> None:
    clock = Clock()
    contact = fake.state.add("contacts", {"firstname": "Jane", "phone": "+14155550134"})
    await make_connector(requests_per_10s=100, clock=clock).find_by_phone(PHONE)
    clock.now += timedelta(seconds=1)  # the bucket is full again
    connector = make_connector(requests_per_10s=100, clock=clock)
    await connector.find_by_phone(PHONE)  # from the cache, which saw no deal
    assert await connector.find_open_deal(contact["id"]) is None  # still asked to HubSpot
    assert (connector.client.prepaid, await general_tokens(connector)) == (1, 5 - 2)


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
    connector = make_connector(clock=clock, cache_seconds=60)
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
    """By default a known contact costs one search; companies are looked at when none has it."""
    company = fake.state.add("companies", {"name": "Switchboard", "phone": "+14155550134"})
    if contact:
        fake.state.add("contacts", {"firstname": "Jane", "phone": "+14155550134"})
    connector = make_connector(company_search=mode, requests_per_10s=100, clock=Clock())
    found = await connector.find_by_phone(PHONE)
    assert [path for _, path in fake.state.requests] == [SEARCHES[kind] for kind in searched]
    # Paid up front: the searches made and the request that follows; nothing more is kept.
    assert connector.client.taken == len(searched) + 1
    assert await general_tokens(connector) == 100 // 20 - len(searched) - 1
    assert (f"company:{company['id']}" in [r.id for r in found]) == ("companies" in searched)


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
