"""HubSpot: numbers typed without their "+", and the call engagement's link to its sync's deal."""

from __future__ import annotations

import httpx

from callbridge.connectors.hubspot.fake import FakeHubSpot
from callbridge.domain.deal import DealDraft
from callbridge.domain.phone import parse_e164
from callbridge.testing.contract import draft
from tests.connectors.hubspot.hubspot_setup import TOKEN, MakeConnector, define_ours

FRENCH = parse_e164("+33612345607")


def sent(fake: FakeHubSpot, since: int) -> list[str]:
    """Return the requests the fake received since the ``since``-th, as ``METHOD path``."""
    return [f"{method} {path}" for method, path in fake.state.requests[since:]]


async def test_bare_digits_in_a_german_portal_are_found_in_the_one_search_and_marked(
    make_connector: MakeConnector, fake: FakeHubSpot
) -> None:
    fake.state.region = "DE"
    bare = fake.state.add("contacts", {"firstname": "Bare", "phone": "33612345607"})
    usual = fake.state.add("contacts", {"firstname": "Usual", "mobilephone": "+33 6 12 34 56 07"})
    fake.state.add("contacts", {"firstname": "Look-alike", "phone": "13612345607"})
    # More than half of this budget used by the lookup: no speculative companies search.
    connector = make_connector(region="DE", requests_per_10s=5)
    found = await connector.find_by_phone(FRENCH)
    assert {(r.id, r.matched_reading) for r in found} == {
        (bare["id"], "33612345607"),
        (usual["id"], None),
    }
    assert sent(fake, 0) == ["POST /crm/v3/objects/contacts/search"]
    cached = await make_connector(region="DE").find_by_phone(FRENCH)  # the next call's lookup
    assert {(r.id, r.matched_reading) for r in cached} == {(r.id, r.matched_reading) for r in found}
    assert len(fake.state.requests) == 1


async def test_the_call_goes_with_the_deal_its_sync_made_though_the_log_names_none(
    make_connector: MakeConnector, fake: FakeHubSpot
) -> None:
    contact = fake.state.add("contacts", {"firstname": "New", "phone": "+14155550134"})
    define_ours(fake, "calls")
    connector = make_connector()  # one sync: the deal is made before the call is logged
    deal = await connector.create_deal(DealDraft("callbridge:deal-1", "Call", contact["id"]))
    call_id = await connector.log_call(draft(contact["id"]))
    assert fake.state.associated("calls", call_id, "deals") == [deal.id]
    assert fake.state.associated("deals", deal.id, "calls") == [call_id]
    other = fake.state.add("contacts", {"firstname": "Other", "phone": "+14155550135"})
    elsewhere = await connector.log_call(draft(other["id"], external_id="callbridge:other"))
    assert fake.state.associated("calls", elsewhere, "deals") == []  # the deal is not its


async def test_a_resumed_log_links_the_deal_found_open_in_its_sync(
    make_connector: MakeConnector, fake: FakeHubSpot
) -> None:
    contact = fake.state.add("contacts", {"firstname": "Jane", "phone": "+14155550134"})
    deal = fake.state.add("deals", {"dealname": "Open", "dealstage": "qualifiedtobuy"})
    fake.state.associations |= {("contacts", contact["id"], "deals", deal["id"], 4)}
    define_ours(fake, "calls")
    call_id = await make_connector().log_call(draft(contact["id"]))  # an earlier run's log
    connector = make_connector()  # the retried sync finds the open deal, then updates the call
    assert (await connector.find_open_deal(contact["id"])) is not None
    await connector.update_call(call_id, draft(contact["id"], notes="late"))
    assert fake.state.associated("calls", call_id, "deals") == [deal["id"]]


async def test_the_fake_refuses_to_associate_an_object_that_does_not_exist(
    fake: FakeHubSpot,
) -> None:
    contact = fake.state.add("contacts", {"firstname": "Jane"})
    spec = [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 194}]
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=fake.url, headers=headers) as client:
        path = f"/crm/v4/objects/calls/999/associations/contacts/{contact['id']}"
        answer = await client.put(path, json=spec)
    assert answer.status_code == 404
    assert fake.state.associated("contacts", contact["id"], "calls") == []
