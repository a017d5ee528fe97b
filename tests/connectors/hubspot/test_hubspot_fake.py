"""The HubSpot fake keeps HubSpot's documented semantics (docs/connectors/hubspot.md)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from callbridge.connectors.hubspot.fake import FakeHubSpot

SEARCH = "/crm/v3/objects/contacts/search"


@pytest.fixture
async def api(fake: FakeHubSpot) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client authenticated with the fake's private app token."""
    headers = {"Authorization": "Bearer pat-na1-test"}
    async with httpx.AsyncClient(base_url=fake.url, headers=headers) as client:
        yield client


def phone_filter(value: str, name: str = "hs_searchable_calculated_phone_number") -> Any:
    """Return one filter group on a phone property."""
    return {"filters": [{"propertyName": name, "operator": "EQ", "value": value}]}


async def test_objects_are_created_with_string_properties(api: httpx.AsyncClient) -> None:
    answer = await api.post("/crm/v3/objects/contacts", json={"properties": {"phone": 4155550134}})
    assert answer.status_code == 201
    body = answer.json()
    assert body["properties"]["phone"] == "4155550134"
    assert body["properties"]["hs_object_id"] == body["id"] and body["archived"] is False
    read = await api.get(f"/crm/v3/objects/contacts/{body['id']}", params={"properties": "phone"})
    assert read.json()["properties"]["phone"] == "4155550134"


async def test_unknown_properties_are_refused(api: httpx.AsyncClient) -> None:
    answer = await api.post("/crm/v3/objects/deals", json={"properties": {"utm_source": "x"}})
    assert answer.status_code == 400
    body = answer.json()
    assert (body["status"], body["category"]) == ("error", "VALIDATION_ERROR")
    assert body["errors"][0]["code"] == "PROPERTY_DOESNT_EXIST"
    assert 'Property \\"utm_source\\" does not exist' in body["message"]
    created = await api.post(
        "/crm/v3/properties/deals", json={"name": "utm_source", "type": "string"}
    )
    assert created.status_code == 201
    again = {"properties": {"utm_source": "x", "dealname": "d"}}
    assert (await api.post("/crm/v3/objects/deals", json=again)).status_code == 201


async def test_calls_need_a_timestamp_and_https_recordings(api: httpx.AsyncClient) -> None:
    assert (await api.post("/crm/v3/objects/calls", json={"properties": {}})).status_code == 400
    http = {"hs_timestamp": "2026-11-22T09:00:00Z", "hs_call_recording_url": "http://a/b.mp3"}
    assert (await api.post("/crm/v3/objects/calls", json={"properties": http})).status_code == 400


async def test_phones_are_searched_on_national_digits(
    api: httpx.AsyncClient, fake: FakeHubSpot
) -> None:
    for raw in ("(415) 555-0134", "+1 415 555 0134", "4155550134", "+44 20 7946 0958"):
        fake.state.add("contacts", {"phone": raw})
    found = (await api.post(SEARCH, json={"filterGroups": [phone_filter("4155550134")]})).json()
    assert found["total"] == 3
    with_country = {"filterGroups": [phone_filter("14155550134")]}
    assert (await api.post(SEARCH, json=with_country)).json()["total"] == 0
    raw_eq = {"filterGroups": [phone_filter("+1 415 555 0134", "phone")]}
    assert (await api.post(SEARCH, json=raw_eq)).json()["total"] == 1


async def test_filter_group_limits_are_enforced(api: httpx.AsyncClient) -> None:
    six_groups = {"filterGroups": [phone_filter(str(i)) for i in range(6)]}
    answer = await api.post(SEARCH, json=six_groups)
    assert (answer.status_code, answer.json()["category"]) == (400, "VALIDATION_ERROR")
    seven = {"filters": phone_filter("1")["filters"] * 7}
    assert (await api.post(SEARCH, json={"filterGroups": [seven]})).status_code == 400
    nineteen = [{"filters": phone_filter("1")["filters"] * 6}] * 3 + [phone_filter("2")]
    assert (await api.post(SEARCH, json={"filterGroups": nineteen})).status_code == 400
    assert (await api.post(SEARCH, json={"limit": 201})).status_code == 400


async def test_search_pages_with_after(api: httpx.AsyncClient, fake: FakeHubSpot) -> None:
    for i in range(25):
        fake.state.add("contacts", {"firstname": f"c{i}", "phone": "4155550134"})
    first = (await api.post(SEARCH, json={"limit": 10})).json()
    assert (first["total"], len(first["results"]), first["paging"]["next"]["after"]) == (
        25, 10, "10"
    )  # fmt: skip
    fake.state.budget_per_10s = 100
    answer = await api.post(SEARCH, json={"limit": 10, "after": "20"})
    last = answer.json()
    assert len(last["results"]) == 5 and "paging" not in last
    assert "X-HubSpot-RateLimit-Max" not in answer.headers, "search answers carry no limits"


async def test_v4_associations_check_type_ids(api: httpx.AsyncClient, fake: FakeHubSpot) -> None:
    contact = fake.state.add("contacts", {"phone": "1"})
    deal = fake.state.add("deals", {"dealname": "d"})
    path = f"/crm/v4/objects/contacts/{contact['id']}/associations/deals/{deal['id']}"
    spec = [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 4}]
    answer = await api.put(path, json=spec)
    assert (answer.status_code, answer.json()["toObjectTypeId"]) == (201, "0-3")
    wrong = [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 999}]
    assert "999 doesn't exist" in (await api.put(path, json=wrong)).json()["message"]
    back = await api.get(f"/crm/v4/objects/deals/{deal['id']}/associations/contacts")
    assert back.json()["results"][0]["toObjectId"] == int(contact["id"])


async def test_owners_answer_with_and_without_the_trailing_slash(
    api: httpx.AsyncClient, fake: FakeHubSpot
) -> None:
    fake.state.owners = [{"id": "1", "email": "a@b.c"}, {"id": "2", "email": "d@e.f"}]
    assert len((await api.get("/crm/v3/owners")).json()["results"]) == 2
    by_email = await api.get("/crm/v3/owners/", params={"email": "d@e.f", "limit": 10})
    assert by_email.json()["results"] == [{"id": "2", "email": "d@e.f"}]


async def test_a_wrong_token_gets_hubspots_401(api: httpx.AsyncClient) -> None:
    answer = await api.get("/crm/v3/owners/", headers={"Authorization": "Bearer nope"})
    assert answer.status_code == 401
    assert answer.json()["category"] == "INVALID_AUTHENTICATION"


async def test_the_budget_answers_hubspots_429(api: httpx.AsyncClient, fake: FakeHubSpot) -> None:
    fake.state.budget_per_10s = 3
    answers = [await api.get("/crm/v3/owners/") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[0].headers["X-HubSpot-RateLimit-Max"] == "3"
    assert answers[2].headers["X-HubSpot-RateLimit-Remaining"] == "0"
    body = answers[3].json()
    assert (body["errorType"], body["policyName"]) == ("RATE_LIMIT", "TEN_SECONDLY_ROLLING")
    assert body["message"] == "You have reached your ten_secondly_rolling limit."
    assert int(answers[3].headers["Retry-After"]) >= 1


async def test_scripted_faults(api: httpx.AsyncClient, fake: FakeHubSpot) -> None:
    fake.state.force(429, times=2, policy="DAILY")
    fake.state.force(503)
    statuses = [(await api.get("/crm/v3/owners/")).status_code for _ in range(4)]
    assert statuses == [429, 429, 503, 200]


async def test_the_deal_count_is_calculated_on_contacts_and_companies(
    api: httpx.AsyncClient, fake: FakeHubSpot
) -> None:
    alone = fake.state.add("contacts", {"phone": "4155550134"})
    busy = fake.state.add("contacts", {"phone": "4155550135"})
    deal = (await api.post("/crm/v3/objects/deals", json={"properties": {"dealname": "d"}})).json()
    spec = [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 4}]
    path = f"/crm/v4/objects/contacts/{busy['id']}/associations/deals/{deal['id']}"
    assert (await api.put(path, json=spec)).status_code == 201
    body = {"properties": ["num_associated_deals"], "filterGroups": []}
    counts = {
        r["id"]: r["properties"]["num_associated_deals"]
        for r in (await api.post(SEARCH, json=body)).json()["results"]
    }
    assert counts == {alone["id"]: None, busy["id"]: "1"}, "empty without deals, as in HubSpot"
    read = await api.get(
        f"/crm/v3/objects/contacts/{busy['id']}", params={"properties": "num_associated_deals"}
    )
    assert read.json()["properties"]["num_associated_deals"] == "1"
