"""Companies, deals, tasks, notes and owners on HubSpot, each written once per external id."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from callbridge.connectors.base import (
    PROTOCOLS,
    Capability,
    SupportsDeals,
    SupportsNotes,
    SupportsOwners,
    SupportsTasks,
    supports,
)
from callbridge.connectors.hubspot.fake import FakeHubSpot
from callbridge.connectors.hubspot.tables import hubspot_objects
from callbridge.domain.deal import DealDraft
from callbridge.domain.event import Utm
from callbridge.domain.phone import parse_e164
from callbridge.domain.record import ObjectType
from callbridge.domain.task import NoteDraft, TaskDraft
from callbridge.testing.contract import draft
from tests.connectors.hubspot.hubspot_setup import MakeConnector, define_ours

PHONE = parse_e164("+14155550134")


def links(fake: FakeHubSpot, kind: str, object_id: str) -> set[tuple[str, str, int]]:
    """Return (to type, to id, type id) of an object's associations."""
    return {(a[2], a[3], a[4]) for a in fake.state.associations if a[:2] == (kind, object_id)}


async def test_it_declares_only_what_it_implements(make_connector: MakeConnector) -> None:
    connector = make_connector()
    for protocol in (SupportsDeals, SupportsTasks, SupportsNotes, SupportsOwners):
        assert isinstance(connector, protocol)
    assert connector.capabilities == {c for c, p in PROTOCOLS.items() if isinstance(connector, p)}
    assert not supports(connector, Capability.ACTIVITY_REMOVAL)  # HubSpot calls are kept


async def test_contacts_by_mobile_and_companies_by_phone_are_found(
    make_connector: MakeConnector, fake: FakeHubSpot
) -> None:
    mobile = fake.state.add("contacts", {"firstname": "Mo", "mobilephone": "415.555.0134"})
    company = fake.state.add("companies", {"name": "Acme", "phone": "+1 (415) 555-0134"})
    fake.state.add("contacts", {"firstname": "Other country", "phone": "+44 4155550134"})
    found = await make_connector(company_search="always").find_by_phone(PHONE)
    assert {(r.id, r.object_type) for r in found} == {
        (mobile["id"], ObjectType.CONTACT),
        (f"company:{company['id']}", ObjectType.ACCOUNT),
    }


async def test_a_call_on_a_company_with_a_deal_is_one_request(
    make_connector: MakeConnector, fake: FakeHubSpot
) -> None:
    company = fake.state.add("companies", {"name": "Acme", "phone": "+14155550134"})
    deal = fake.state.add("deals", {"dealname": "Big"})
    define_ours(fake, "calls")
    connector = make_connector()
    call_id = await connector.log_call(draft(f"company:{company['id']}", deal_id=deal["id"]))
    assert fake.state.requests.count(("POST", "/crm/v3/objects/calls")) == 1
    assert links(fake, "calls", call_id) == {
        ("companies", company["id"], 182),
        ("deals", deal["id"], 206),
    }


def sent(fake: FakeHubSpot, since: int) -> list[str]:
    """Return the requests the fake received since the ``since``-th, as ``METHOD path``."""
    return [f"{method} {path}" for method, path in fake.state.requests[since:]]


async def test_a_known_contact_without_deals_costs_one_search_and_the_log(
    make_connector: MakeConnector, fake: FakeHubSpot
) -> None:
    contact = fake.state.add("contacts", {"firstname": "Jane", "phone": "(415) 555-0134"})
    define_ours(fake, "calls")
    # One sync: lookup, open-deal lookup, call log. The lookup uses more than half of this
    # budget (3 of 5), so the companies search is not sent speculatively with the contacts one.
    connector = make_connector(requests_per_10s=5)
    [found] = await connector.find_by_phone(PHONE)
    assert await connector.find_open_deal(found.id) is None
    await connector.log_call(draft(found.id))
    assert sent(fake, 0) == ["POST /crm/v3/objects/contacts/search", "POST /crm/v3/objects/calls"]
    assert found.id == contact["id"]


async def test_the_open_deal_is_looked_up_when_the_search_counts_deals(
    make_connector: MakeConnector, fake: FakeHubSpot
) -> None:
    contact = fake.state.add("contacts", {"firstname": "Jane", "phone": "+14155550134"})
    company = fake.state.add("companies", {"name": "Acme", "phone": "+14155550134"})
    deal = fake.state.add("deals", {"dealname": "Big", "dealstage": "qualifiedtobuy"})
    fake.state.associations |= {("contacts", contact["id"], "deals", deal["id"], 4)}
    connector = make_connector(company_search="always")
    await connector.find_by_phone(PHONE)
    before = len(fake.state.requests)
    found = await connector.find_open_deal(contact["id"])
    assert found is not None and found.id == deal["id"]
    assert sent(fake, before) == [
        f"GET /crm/v4/objects/contacts/{contact['id']}/associations/deals",
        "POST /crm/v3/objects/deals/batch/read",
    ]
    assert await connector.find_open_deal(f"company:{company['id']}") is None
    assert len(fake.state.requests) == before + 2, "the company has no deal: no request"


async def test_a_deal_we_made_is_looked_up_even_before_hubspot_counts_it(
    make_connector: MakeConnector, fake: FakeHubSpot, monkeypatch: pytest.MonkeyPatch
) -> None:
    contact = fake.state.add("contacts", {"firstname": "Jane", "phone": "+14155550134"})
    made = await make_connector().create_deal(
        DealDraft("callbridge:deal-1", "Call from Jane", contact["id"])
    )
    # HubSpot computes num_associated_deals a few seconds after the association.
    monkeypatch.setattr(fake.state, "deal_count", lambda kind, object_id: None)
    connector = make_connector()
    await connector.find_by_phone(PHONE)
    found = await connector.find_open_deal(contact["id"])
    assert found is not None and found.id == made.id


async def test_a_cached_number_still_looks_the_open_deal_up(
    make_connector: MakeConnector, fake: FakeHubSpot
) -> None:
    contact = fake.state.add("contacts", {"firstname": "Jane", "phone": "+14155550134"})
    await make_connector().find_by_phone(PHONE)
    deal = fake.state.add("deals", {"dealname": "Typed in HubSpot since"})
    fake.state.associations |= {("contacts", contact["id"], "deals", deal["id"], 4)}
    connector = make_connector()  # the next sync: its lookup comes from the cache
    await connector.find_by_phone(PHONE)
    found = await connector.find_open_deal(contact["id"])
    assert found is not None and found.id == deal["id"]


async def test_deals_are_created_once_with_utm_and_found_open(
    make_connector: MakeConnector, fake: FakeHubSpot
) -> None:
    contact = fake.state.add("contacts", {"firstname": "Jane", "phone": "+14155550134"})
    connector = make_connector(deal_pipeline="default", deal_stage="qualifiedtobuy")
    wanted = DealDraft("callbridge:deal-1", "Call from Jane", contact["id"], utm=Utm("google"))
    deal = await connector.create_deal(wanted)
    assert (await connector.create_deal(wanted)).id == deal.id
    stored = fake.state.objects["deals"][deal.id]["properties"]
    assert (stored["utm_source"], stored["dealstage"]) == ("google", "qualifiedtobuy")
    assert ("contacts", contact["id"], 3) in links(fake, "deals", deal.id)
    await connector.set_deal_owner(deal.id, "77")
    found = await connector.find_open_deal(contact["id"])
    assert found is not None and (found.id, found.owner) == (deal.id, "77")
    fake.state.update("deals", deal.id, {"dealstage": "closedwon"})
    assert await connector.find_open_deal(contact["id"]) is None


async def test_tasks_and_notes_are_written_once(
    make_connector: MakeConnector, fake: FakeHubSpot
) -> None:
    contact = fake.state.add("contacts", {"firstname": "Jane", "phone": "+14155550134"})
    connector = make_connector()
    due = datetime(2026, 11, 22, 13, 0, tzinfo=UTC)
    task = TaskDraft("callbridge:task-1", "Call back", "Missed call", contact["id"], due_at=due)
    task_id = await connector.create_task(task)
    assert await make_connector().create_task(task) == task_id
    assert fake.state.objects["tasks"][task_id]["properties"]["hs_timestamp"].startswith(
        "2026-11-22T13:00"
    )
    assert ("contacts", contact["id"], 204) in links(fake, "tasks", task_id)
    note = NoteDraft("callbridge:note-1", "Answered by Bob", contact["id"])
    note_id = await connector.add_note(note)
    assert await connector.add_note(note) == note_id
    assert len(fake.state.objects["notes"]) == 1


async def test_an_interrupted_create_is_found_not_repeated(
    make_connector: MakeConnector, fake: FakeHubSpot
) -> None:
    contact = fake.state.add("contacts", {"firstname": "Jane", "phone": "+14155550134"})
    connector = make_connector()
    first = await connector.log_call(draft(contact["id"]))
    # A crash between HubSpot's answer and our write: the claim is pending, the call exists.
    async with connector.written._sessions.begin() as session:
        mine = hubspot_objects.c.integration_id == connector.written._integration_id
        await session.execute(update(hubspot_objects).where(mine).values(object_id=None))
    assert await make_connector().log_call(draft(contact["id"])) == first
    assert len(fake.state.objects["calls"]) == 1


async def test_owners_are_listed_across_pages(
    make_connector: MakeConnector, fake: FakeHubSpot
) -> None:
    fake.state.owners = [
        {"id": str(i), "email": f"agent{i}@example.com", "firstName": "Agent", "lastName": str(i),
         "type": "PERSON", "archived": False}
        for i in range(150)
    ]  # fmt: skip
    users = await make_connector().list_users()
    assert len(users) == 150
    assert (users[7].id, users[7].email, users[7].name) == ("7", "agent7@example.com", "Agent 7")
