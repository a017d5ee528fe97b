"""Leads, deals, tasks, notes and owners, against the real BottleCRM server."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from callbridge.connectors.base import (
    Connector,
    SupportsDeals,
    SupportsNotes,
    SupportsOwners,
    SupportsTasks,
)
from callbridge.connectors.bottlecrm.mapping import deal_values, task_values
from callbridge.domain.deal import DealDraft
from callbridge.domain.event import Utm
from callbridge.domain.phone import parse_e164
from callbridge.domain.record import ObjectType
from callbridge.domain.task import NoteDraft, TaskDraft
from callbridge.testing.bottlecrm_server import BottleCrmOrg
from callbridge.testing.contract import draft
from tests.connectors.bottlecrm.bottlecrm_setup import store_contact

pytestmark = pytest.mark.slow


async def store_lead(api: httpx.AsyncClient, phone: str, owner: str) -> str:
    """Create a lead over BottleCRM's API."""
    body = {
        "title": "Inbound enquiry",
        "first_name": "Lena",
        "last_name": "Lead",
        "phone": phone,
        "status": "assigned",
        "assigned_to": [owner],
        "teams": [],
        "contacts": [],
    }
    answer = await api.post("/api/leads/", json=body)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id"])


def deal_for(contact: str, owner: str, external_id: str, **extra: Any) -> DealDraft:
    """A deal draft for a call from Jane's number, owned by ``owner``."""
    name = "Inbound call from +1 415-555-0134"
    return DealDraft(external_id=external_id, name=name, record_id=contact, owner=owner, **extra)


def task_for(contact: str, assignee: str, external_id: str, **extra: Any) -> TaskDraft:
    """A call-back task draft for Jane's number, assigned to ``assignee``."""
    return TaskDraft(
        external_id=external_id,
        title="Call back +1 415-555-0134",
        body="Missed call at 09:00",
        record_id=contact,
        assignee=assignee,
        **extra,
    )


async def as_stored(api: httpx.AsyncClient, module: str, record_id: str) -> dict[str, Any]:
    """Return a deal (``opportunities``) or task (``tasks``) as BottleCRM stores it."""
    key = {"opportunities": "opportunity_obj", "tasks": "task_obj"}[module]
    return dict((await api.get(f"/api/{module}/{record_id}/")).json()[key])


async def test_a_contact_and_a_lead_with_one_number_are_both_found(
    connector: Connector, bottlecrm_api: httpx.AsyncClient, bottlecrm_org: BottleCrmOrg
) -> None:
    contact = await store_contact(bottlecrm_api, "Jane", "Caller", "415.555.0134")
    lead = await store_lead(bottlecrm_api, "+1 (415) 555 0134", bottlecrm_org.agent_profile_id)
    found = await connector.find_by_phone(parse_e164("+14155550134"))
    assert {(r.id, r.object_type) for r in found} == {
        (contact, ObjectType.CONTACT),
        (lead, ObjectType.LEAD),
    }


async def test_a_call_is_logged_on_a_lead(
    connector: Connector, bottlecrm_api: httpx.AsyncClient, bottlecrm_org: BottleCrmOrg
) -> None:
    lead = await store_lead(bottlecrm_api, "+16505550177", bottlecrm_org.agent_profile_id)
    activity_id = await connector.log_call(draft(lead, status="missed", duration=0))
    answer = (await bottlecrm_api.get("/api/interactions/", params={"lead": lead})).json()
    [logged] = answer["interactions"]
    assert (logged["id"], logged["home"], logged["outcome"]) == (activity_id, "lead", "no_answer")
    assert await connector.find_call(lead, "callbridge:contract-1") == activity_id


async def test_another_country_with_the_same_last_ten_digits_is_not_a_match(
    connector: Connector, bottlecrm_api: httpx.AsyncClient
) -> None:
    await store_contact(bottlecrm_api, "Jane", "Caller", "+1 207-946-0958")
    # BottleCRM's lookup pairs these on their last ten digits; the connector re-reads them.
    assert await connector.find_by_phone(parse_e164("+442079460958")) == []


async def test_a_deal_is_created_once_found_open_and_reassigned(
    connector: Connector, bottlecrm_api: httpx.AsyncClient, bottlecrm_org: BottleCrmOrg
) -> None:
    assert isinstance(connector, SupportsDeals)
    contact = await store_contact(bottlecrm_api, "Jane", "Caller", "(415) 555-0134")
    utm = Utm(source="google", campaign="winter")
    deal_draft = deal_for(contact, bottlecrm_org.agent_profile_id, "callbridge:deal-1", utm=utm)
    deal = await connector.create_deal(deal_draft)
    assert (await connector.create_deal(deal_draft)).id == deal.id
    found = await connector.find_open_deal(contact)
    assert found is not None and found.id == deal.id
    await connector.set_deal_owner(deal.id, bottlecrm_org.admin_profile_id)
    stored = await as_stored(bottlecrm_api, "opportunities", deal.id)
    assert [owner["id"] for owner in stored["assigned_to"]] == [bottlecrm_org.admin_profile_id]
    assert "utm_source: google" in stored["description"]
    assert (stored["lead_source"], stored["contacts"][0]["id"]) == ("call", contact)


async def test_a_deal_left_half_created_is_linked_to_its_contact_and_owner(
    connector: Connector, bottlecrm_api: httpx.AsyncClient, bottlecrm_org: BottleCrmOrg
) -> None:
    # BottleCRM saves an opportunity, then links its contacts and owners in separate
    # statements: a create that failed in between (a 500, retried) leaves a bare deal behind.
    assert isinstance(connector, SupportsDeals)
    contact = await store_contact(bottlecrm_api, "Jane", "Caller", "(415) 555-0134")
    deal_draft = deal_for(contact, bottlecrm_org.agent_profile_id, "callbridge:half-deal")
    pipelines = (await bottlecrm_api.get("/api/opportunities/pipelines/")).json()["pipelines"]
    bare = {
        **deal_values(deal_draft, str(pipelines[0]["id"]), None),
        "contacts": [],
        "assigned_to": [],
    }
    answer = await bottlecrm_api.post("/api/opportunities/", json=bare)
    assert answer.status_code == 200, answer.text
    deal = await connector.create_deal(deal_draft)
    assert deal.id == str(answer.json()["id"])
    stored = await as_stored(bottlecrm_api, "opportunities", deal.id)
    assert [c["id"] for c in stored["contacts"]] == [contact]
    assert [o["id"] for o in stored["assigned_to"]] == [bottlecrm_org.agent_profile_id]
    await connector.set_deal_owner(deal.id, bottlecrm_org.admin_profile_id)
    await connector.create_deal(deal_draft)  # a later retry keeps the reassignment
    stored = await as_stored(bottlecrm_api, "opportunities", deal.id)
    assert [o["id"] for o in stored["assigned_to"]] == [bottlecrm_org.admin_profile_id]


async def test_a_task_left_half_created_is_linked_to_its_contact_and_assignee(
    connector: Connector, bottlecrm_api: httpx.AsyncClient, bottlecrm_org: BottleCrmOrg
) -> None:
    assert isinstance(connector, SupportsTasks)
    contact = await store_contact(bottlecrm_api, "Jane", "Caller", "(415) 555-0134")
    task = task_for(contact, bottlecrm_org.agent_profile_id, "callbridge:half-task")
    bare = {**task_values(task, "contact", None), "contacts": [], "assigned_to": []}
    assert (await bottlecrm_api.post("/api/tasks/", json=bare)).status_code == 200
    task_id = await connector.create_task(task)
    stored = await as_stored(bottlecrm_api, "tasks", task_id)
    assert [c["id"] for c in stored["contacts"]] == [contact]
    assert [a["id"] for a in stored["assigned_to"]] == [bottlecrm_org.agent_profile_id]
    listed = (await bottlecrm_api.get("/api/tasks/", params={"title": task.title})).json()
    assert len(listed["tasks"]) == 1


async def test_a_task_without_an_id_is_found_by_title_and_created_once(
    connector: Connector, bottlecrm_api: httpx.AsyncClient, bottlecrm_org: BottleCrmOrg
) -> None:
    assert isinstance(connector, SupportsTasks)
    contact = await store_contact(bottlecrm_api, "Jane", "Caller", "(415) 555-0134")
    due = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
    task = task_for(contact, bottlecrm_org.agent_profile_id, "callbridge:task-1", due_at=due)
    first = await connector.create_task(task)
    assert await connector.create_task(task) == first
    other = TaskDraft(**{**vars(task), "external_id": "callbridge:task-2"})
    assert await connector.create_task(other) != first  # same title, another call
    listed = (await bottlecrm_api.get("/api/tasks/", params={"title": task.title})).json()
    assert len(listed["tasks"]) == 2
    stored = await as_stored(bottlecrm_api, "tasks", first)
    assert (stored["due_date"], stored["status"]) == ("2026-11-23", "New")


async def test_a_note_goes_on_the_record_once(
    connector: Connector, bottlecrm_api: httpx.AsyncClient
) -> None:
    assert isinstance(connector, SupportsNotes)
    contact = await store_contact(bottlecrm_api, "Jane", "Caller", "(415) 555-0134")
    note = NoteDraft("callbridge:note-1", "Answered by Ann, not the owner", contact)
    first = await connector.add_note(note)
    assert await connector.add_note(note) == first
    comments = (await bottlecrm_api.get(f"/api/contacts/{contact}/")).json()["comments"]
    assert [c["id"] for c in comments] == [first]


async def test_owners_are_the_orgs_profiles_with_their_emails(
    connector: Connector, bottlecrm_org: BottleCrmOrg
) -> None:
    assert isinstance(connector, SupportsOwners)
    users = {user.email: user.id for user in await connector.list_users()}
    assert users == {
        bottlecrm_org.admin_email: bottlecrm_org.admin_profile_id,
        bottlecrm_org.agent_email: bottlecrm_org.agent_profile_id,
    }
