"""The shared token bucket, and the phone lookup cache with its invalidation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from callbridge.connectors.hubspot.limits import shape
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
    assert burst >= min(4, budget - 1) and burst + rate * window == pytest.approx(budget)


async def test_two_connectors_of_one_integration_share_the_bucket(
    make_connector: MakeConnector, fake: FakeHubSpot
) -> None:
    clock = Clock()
    limits = {"requests_per_10s": 20, "clock": clock, "search_companies": False}
    first, second = make_connector(**limits), make_connector(**limits)  # two "workers"
    # Burst of 8; a lookup takes its search and the sync's 5 usual requests up front: 6 tokens.
    await first.find_by_phone(PHONE)
    sent = len(fake.state.requests)
    with pytest.raises(RateLimited) as caught:
        await second.find_by_phone(PHONE)  # 2 tokens left: the sync does not start at all
    assert caught.value.retry_after == pytest.approx(6 / 1.2, rel=0.5), "until the burst is back"
    assert len(fake.state.requests) == sent, "an empty bucket sends nothing"
    clock.now += timedelta(seconds=caught.value.retry_after)
    await second.find_by_phone(PHONE)
    assert second.client.prepaid == 5


async def test_the_search_budget_is_separate_and_shared(make_connector: MakeConnector) -> None:
    clock = Clock()
    connector = make_connector(searches_per_second=3, clock=clock)
    await connector.find_by_phone(PHONE)  # contacts + companies: 2 of the burst of 3
    with pytest.raises(RateLimited, match="search"):
        await make_connector(searches_per_second=3, clock=clock).find_by_phone(PHONE)
    clock.now += timedelta(seconds=2)
    await connector.find_by_phone(PHONE)


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
    assert len(fake.state.requests) == sent + 2


async def test_creating_a_contact_invalidates_the_number(
    make_connector: MakeConnector, fake: FakeHubSpot
) -> None:
    fake.state.add("contacts", {"firstname": "Jane", "phone": "+14155550134"})
    connector = make_connector()
    assert len(await connector.find_by_phone(PHONE)) == 1
    created = await connector.create_contact(ContactDraft("New Callbridge Contact", PHONE.e164))
    found = await connector.find_by_phone(PHONE)
    assert created.id in [record.id for record in found] and len(found) == 2


async def test_misses_are_not_cached(make_connector: MakeConnector, fake: FakeHubSpot) -> None:
    connector = make_connector()
    assert await connector.find_by_phone(PHONE) == []
    typed = fake.state.add("contacts", {"firstname": "Typed in HubSpot", "phone": "4155550134"})
    assert [r.id for r in await connector.find_by_phone(PHONE)] == [typed["id"]]
