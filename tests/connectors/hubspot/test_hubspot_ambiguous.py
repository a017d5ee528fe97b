"""A HubSpot create whose answer is lost after the commit is never repeated: one object made.

HubSpot's search index is frozen here (the fake's clock stands still), so whatever was written
stays unsearchable while the connector retries: only the unique key can find it.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callbridge.connectors.base import IntegrationContext
from callbridge.connectors.hubspot.connector import HubSpotConnector
from callbridge.connectors.hubspot.fake import FakeHubSpot, ManualClock
from callbridge.connectors.registry import factory
from callbridge.domain.deal import DealDraft
from callbridge.domain.record import ContactDraft
from callbridge.domain.task import NoteDraft, TaskDraft
from callbridge.errors import ConnectorError, RateLimited, Transient
from callbridge.runtime import Runtime
from callbridge.testing.contract import draft
from tests.connectors.hubspot.hubspot_setup import ROOMY, TOKEN, MakeConnector, define_ours

KINDS = {"call": "calls", "deal": "deals", "task": "tasks", "note": "notes", "contact": "contacts"}


class Clock:
    """The connector's clock, moved by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


Create = Callable[[HubSpotConnector], Awaitable[str]]


def creation(kind: str, record_id: str, number: str) -> Create:
    """Return one create of ``kind`` (with a fresh external id), as the sync would send it."""
    key = f"callbridge:{uuid.uuid4()}"

    async def create(connector: HubSpotConnector) -> str:
        if kind == "call":
            return await connector.log_call(draft(record_id, key))
        if kind == "deal":
            return (await connector.create_deal(DealDraft(key, "Call", record_id))).id
        if kind == "task":
            return await connector.create_task(TaskDraft(key, "Call back", "", record_id))
        if kind == "note":
            return await connector.add_note(NoteDraft(key, "Answered by Bob", record_id))
        contact = ContactDraft("New Callbridge Contact", number, external_id=key)
        return (await connector.create_contact(contact)).id

    return create


def made(fake: FakeHubSpot, kind: str, since: int) -> list[str]:
    """Return the ids of the objects of ``kind`` stored after the ``since``-th object id."""
    return [i for i in fake.state.objects.get(KINDS[kind], {}) if int(i) > since]


async def retried(create: Create, connector: Callable[[], HubSpotConnector]) -> str:
    """Run ``create`` as the queue does: again after each retryable error, at most 8 times."""
    for _ in range(8):
        try:
            return await create(connector())
        except (Transient, RateLimited):
            continue
    raise AssertionError("the create never succeeded")


@pytest.fixture
def frozen(fake: FakeHubSpot) -> ManualClock:
    """The fake's search index clock, standing still unless the test moves it."""
    clock = ManualClock(1000.0)
    fake.state.clock = clock
    return clock


@settings(max_examples=30)
@given(
    kind=st.sampled_from(sorted(KINDS)),
    delay=st.sampled_from([0.0, 2.0, 5.0]),
    status=st.sampled_from([500, 502, 503, 504]),
    refused=st.lists(st.sampled_from([429, 500, 502, 503]), max_size=3),
    new_run=st.booleans(),
)
async def test_a_lost_answer_is_found_by_the_unique_key(
    make_connector: MakeConnector,
    fake: FakeHubSpot,
    frozen: ManualClock,
    kind: str,
    delay: float,
    status: int,
    refused: list[int],
    new_run: bool,
) -> None:
    """Whatever fails after the commit (and on the retries' reads), one object is made."""
    jane = fake.state.add("contacts", {"firstname": "Jane", "phone": "+14155550134"})
    since = fake.state.next_id
    fake.state.search_delay = delay
    first = make_connector()
    create = creation(kind, jane["id"], f"+1415555{since % 10_000:04d}")
    fake.state.fail_after_commit(KINDS[kind], status)
    with pytest.raises(Transient):
        await create(first)
    [stored] = made(fake, kind, since)
    for code in refused:  # the retries' own requests fail too (429: rescheduled)
        fake.state.force(code, policy="SECONDLY")
    found = await retried(create, lambda: make_connector() if new_run else first)
    assert found == stored and made(fake, kind, since) == [stored]
    assert await retried(create, make_connector) == stored, "and every later run finds it too"


@pytest.mark.parametrize("kind", ["call", "contact"])
async def test_a_create_that_timed_out_is_found(
    hs_runtime: Runtime, integration_id: str, fake: FakeHubSpot, frozen: ManualClock, kind: str
) -> None:
    jane = fake.state.add("contacts", {"firstname": "Jane", "phone": "+14155550134"})
    fake.state.search_delay = 5.0
    async with httpx.AsyncClient(timeout=0.3) as http:
        context = IntegrationContext(
            integration_id=integration_id,
            company_id="unused",
            default_region="US",
            config={**ROOMY, "base_url": fake.url},
            credentials={"access_token": TOKEN},
            http=http,
            sessions=hs_runtime.sessions,
        )
        connector = factory("hubspot")(context)
        assert isinstance(connector, HubSpotConnector)
        create = creation(kind, jane["id"], "+14155550188")
        await create(connector)  # the properties are defined: the next create commits at once
        since = fake.state.next_id
        create = creation(kind, jane["id"], "+14155550189")
        fake.state.fail_after_commit(KINDS[kind], None, hold=1.0)
        with pytest.raises(Transient, match="in time"):
            await create(connector)
        assert await create(connector) == made(fake, kind, since)[0]
    assert len(made(fake, kind, since)) == 1


async def refuse_unique(fake: FakeHubSpot, kinds: list[str], how: str) -> dict[str, Any]:
    """Make a portal where the unique key cannot be used; return the connector's settings."""
    if how == "limit_reached":
        fake.state.unique_limit = 0
        return {}
    for kind in kinds:  # defined by hand, without uniqueness
        fake.state.properties[kind] |= {"callbridge_external_id", "callbridge_record_id"}
        if how == "not_unique":
            fake.state.properties[kind].add("callbridge_key")
    return {"create_custom_properties": how == "not_unique"}


@pytest.mark.parametrize("how", ["limit_reached", "not_unique", "no_consent"])
@settings(max_examples=8)
@given(kind=st.sampled_from(["call", "contact"]), delay=st.sampled_from([0.0, 2.0, 5.0]))
async def test_without_the_key_an_empty_search_is_believed_only_once_settled(
    make_connector: MakeConnector,
    fake: FakeHubSpot,
    frozen: ManualClock,
    how: str,
    kind: str,
    delay: float,
) -> None:
    jane = fake.state.add("contacts", {"firstname": "Jane", "phone": "+14155550134"})
    settings_ = await refuse_unique(fake, ["calls", "contacts"], how)
    clock = Clock()
    connector = make_connector(clock=clock, **settings_)
    since = fake.state.next_id
    fake.state.search_delay = delay
    create = creation(kind, jane["id"], f"+1415555{since % 10_000:04d}")
    fake.state.fail_after_commit(KINDS[kind], 502)
    with pytest.raises(Transient):
        await create(connector)
    [stored] = made(fake, kind, since)
    if delay > 0:  # the search cannot show it yet: wait, do not create again
        with pytest.raises(RateLimited) as waiting:
            await create(connector)
        assert waiting.value.retry_after == pytest.approx(60, abs=1)
        assert made(fake, kind, since) == [stored]
        clock.now += timedelta(seconds=waiting.value.retry_after)
        frozen.advance(delay)
    assert await create(connector) == stored
    assert made(fake, kind, since) == [stored]


async def test_a_portal_refusing_the_key_still_gets_contacts(
    make_connector: MakeConnector, fake: FakeHubSpot
) -> None:
    """No consent to create properties: contacts are created as before, without the key."""
    connector = make_connector(create_custom_properties=False)
    created = await connector.create_contact(ContactDraft("A", "+14155550134", external_id="k1"))
    assert "callbridge_key" not in fake.state.objects["contacts"][created.id]["properties"]
    with pytest.raises(ConnectorError, match="create_custom_properties"):
        await connector.log_call(draft(created.id))


async def test_with_the_key_defined_an_unsure_create_costs_one_read(
    make_connector: MakeConnector, fake: FakeHubSpot, frozen: ManualClock
) -> None:
    jane = fake.state.add("contacts", {"firstname": "Jane", "phone": "+14155550134"})
    define_ours(fake, "calls")
    fake.state.search_delay = 5.0
    fake.state.fail_after_commit("calls", 502)
    with pytest.raises(Transient):
        await make_connector().log_call(draft(jane["id"]))
    before = len(fake.state.requests)
    connector = make_connector()
    found = await connector.find_call(jane["id"], "callbridge:contract-1")
    [stored] = fake.state.objects["calls"]
    assert found == stored
    [(method, path)] = fake.state.requests[before:]
    assert method == "GET" and path.startswith("/crm/v3/objects/calls/call-")
    assert await connector.log_call(draft(jane["id"])) == stored
    assert len(fake.state.requests) == before + 1, "the claim is complete: no request"


async def test_a_create_sent_without_the_key_is_not_read_back_by_it(
    make_connector: MakeConnector, fake: FakeHubSpot, frozen: ManualClock
) -> None:
    """A claim from before the key (or sent while the portal had none) waits for the search."""
    jane = fake.state.add("contacts", {"firstname": "Jane", "phone": "+14155550134"})
    define_ours(fake, "calls")  # the portal has the unique key now
    clock = Clock()
    connector = make_connector(clock=clock)
    fake.state.search_delay = 5.0
    activity = draft(jane["id"], "callbridge:before-the-key")
    # What an interrupted create of an earlier version left: the call, without its key, and a
    # pending claim that does not say it was keyed.
    await connector.written.claim("call", activity.external_id, jane["id"], keyed=False)
    stored = fake.state.add("calls", {"callbridge_external_id": activity.external_id,
                                      "callbridge_record_id": jane["id"]})  # fmt: skip
    with pytest.raises(RateLimited):
        await connector.log_call(activity)
    clock.now += timedelta(seconds=60)
    frozen.advance(5.0)
    assert await connector.log_call(activity) == stored["id"]
    assert list(fake.state.objects["calls"]) == [stored["id"]]
