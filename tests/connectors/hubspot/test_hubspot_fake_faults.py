"""The HubSpot fake's unique properties, lagging search index and lost answers after a commit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callbridge.connectors.hubspot.fake import FakeHubSpot, ManualClock


@pytest.fixture
async def api(fake: FakeHubSpot) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client authenticated with the fake's private app token."""
    headers = {"Authorization": "Bearer pat-na1-test"}
    async with httpx.AsyncClient(base_url=fake.url, headers=headers, timeout=5) as client:
        yield client


async def define(api: httpx.AsyncClient, kind: str, name: str, unique: bool) -> httpx.Response:
    """Define a string property on an object type."""
    body = {"name": name, "label": name, "type": "string", "fieldType": "text"}
    return await api.post(f"/crm/v3/properties/{kind}", json=body | {"hasUniqueValue": unique})


def by_key(fake: FakeHubSpot, kind: str, value: str) -> list[dict[str, Any]]:
    """Return the stored objects of ``kind`` whose ``ext_key`` is ``value``."""
    found = fake.state.objects.get(kind, {}).values()
    return [o for o in found if o["properties"].get("ext_key") == value]


@settings(max_examples=20)
@given(
    kind=st.sampled_from(["contacts", "calls", "deals", "tasks", "notes"]),
    value=st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=40),
    tries=st.integers(2, 4),
)
async def test_a_unique_value_is_held_by_one_object(
    api: httpx.AsyncClient, fake: FakeHubSpot, kind: str, value: str, tries: int
) -> None:
    if "ext_key" not in fake.state.properties[kind]:
        assert (await define(api, kind, "ext_key", unique=True)).status_code == 201
    props = {"ext_key": value, "hs_timestamp": "2026-11-22T09:00:00Z", "dealname": "d"}
    props = {k: v for k, v in props.items() if k in fake.state.properties[kind]}
    answers = [
        await api.post(f"/crm/v3/objects/{kind}", json={"properties": props}) for _ in range(tries)
    ]
    holders = by_key(fake, kind, value)
    if answers[0].status_code == 409:  # an earlier example took the value
        assert len(holders) == 1
    else:
        assert answers[0].status_code == 201
    assert len(holders) == 1
    for refused in answers[1:]:
        body = refused.json()
        assert (refused.status_code, body["category"]) == (409, "CONFLICT")
        assert body["message"].endswith(f"Existing ID: {holders[0]['id']}")
    read = await api.get(f"/crm/v3/objects/{kind}/{value}", params={"idProperty": "ext_key"})
    assert (read.status_code, read.json()["id"]) == (200, holders[0]["id"])


async def test_reads_by_a_property_need_it_unique(
    api: httpx.AsyncClient, fake: FakeHubSpot
) -> None:
    assert (await define(api, "calls", "plain", unique=False)).status_code == 201
    assert (await api.get("/crm/v3/properties/calls/plain")).json()["hasUniqueValue"] is False
    read = await api.get("/crm/v3/objects/calls/x", params={"idProperty": "plain"})
    assert (read.status_code, read.json()["category"]) == (400, "VALIDATION_ERROR")
    assert (await define(api, "calls", "ours", unique=True)).status_code == 201
    assert (await api.get("/crm/v3/properties/calls/ours")).json()["hasUniqueValue"] is True
    missing = await api.get("/crm/v3/objects/calls/nobody", params={"idProperty": "ours"})
    assert missing.status_code == 404


async def test_an_object_type_holds_a_limited_number_of_unique_properties(
    api: httpx.AsyncClient, fake: FakeHubSpot
) -> None:
    fake.state.unique_limit = 2
    made = [(await define(api, "deals", f"u{i}", unique=True)).status_code for i in range(3)]
    assert made == [201, 201, 400]
    assert (await define(api, "deals", "u3", unique=False)).status_code == 201


@settings(max_examples=15)
@given(delay=st.sampled_from([0.0, 0.5, 2.0, 5.0]), waited=st.floats(0, 6))
async def test_search_shows_a_write_only_after_the_index_delay(
    api: httpx.AsyncClient, fake: FakeHubSpot, delay: float, waited: float
) -> None:
    clock = ManualClock(1000.0)
    fake.state.clock, fake.state.search_delay = clock, delay
    created = await api.post("/crm/v3/objects/contacts", json={"properties": {"phone": "1"}})
    contact_id = created.json()["id"]
    read = await api.get(f"/crm/v3/objects/contacts/{contact_id}")
    assert read.status_code == 200, "reads by id never lag"
    clock.advance(waited)
    body = {"filterGroups": [], "limit": 200}
    found = (await api.post("/crm/v3/objects/contacts/search", json=body)).json()["results"]
    assert (contact_id in [r["id"] for r in found]) == (waited >= delay)


@pytest.mark.parametrize("kind", ["calls", "contacts"])
@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_a_create_is_stored_and_its_answer_lost(
    api: httpx.AsyncClient, fake: FakeHubSpot, kind: str, status: int
) -> None:
    fake.state.fail_after_commit(kind, status)
    props = {"hs_timestamp": "2026-11-22T09:00:00Z"} if kind == "calls" else {"phone": "1"}
    lost = await api.post(f"/crm/v3/objects/{kind}", json={"properties": props})
    assert lost.status_code == status
    assert len(fake.state.objects[kind]) == 1, "stored although the answer was an error"
    again = await api.post(f"/crm/v3/objects/{kind}", json={"properties": props})
    assert again.status_code == 201 and len(fake.state.objects[kind]) == 2


async def test_a_held_answer_times_the_client_out(fake: FakeHubSpot) -> None:
    fake.state.fail_after_commit("calls", None, hold=1.0)
    headers = {"Authorization": "Bearer pat-na1-test"}
    async with httpx.AsyncClient(base_url=fake.url, headers=headers, timeout=0.2) as client:
        with pytest.raises(httpx.ReadTimeout):
            body = {"properties": {"hs_timestamp": "2026-11-22T09:00:00Z"}}
            await client.post("/crm/v3/objects/calls", json=body)
    assert len(fake.state.objects["calls"]) == 1
