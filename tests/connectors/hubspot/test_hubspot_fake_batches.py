"""The fake's batch create and multi-value search keep HubSpot's documented contract."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from callbridge.connectors.hubspot.fake import FakeHubSpot

BATCH = "/crm/v3/objects/contacts/batch/create"
CALLS = "/crm/v3/objects/calls/batch/create"
KEY = "callbridge_key"


@pytest.fixture
async def api(fake: FakeHubSpot) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client authenticated with the fake's private app token."""
    fake.state.properties["contacts"].add(KEY)
    fake.state.unique["contacts"] = {KEY}
    headers = {"Authorization": "Bearer pat-na1-test"}
    async with httpx.AsyncClient(base_url=fake.url, headers=headers) as client:
        yield client


def contact(key: str, trace: str | None = None, **props: str) -> dict[str, Any]:
    """Return one batch input: a contact with a unique key, traced or not."""
    item: dict[str, Any] = {"properties": {KEY: key, **props}, "associations": []}
    return item | ({"objectWriteTraceId": trace} if trace else {})


async def test_a_batch_creates_every_input_in_one_request(
    api: httpx.AsyncClient, fake: FakeHubSpot
) -> None:
    inputs = [contact(f"k{i}", f"t{i}", phone=f"+1415555010{i}") for i in range(3)]
    answer = await api.post(BATCH, json={"inputs": inputs})
    assert answer.status_code == 201
    body = answer.json()
    assert body["status"] == "COMPLETE" and "errors" not in body
    by_trace = {r["objectWriteTraceId"]: r for r in body["results"]}
    assert sorted(by_trace) == ["t0", "t1", "t2"]
    assert by_trace["t1"]["properties"][KEY] == "k1"
    assert len(fake.state.objects["contacts"]) == 3
    assert fake.state.requests == [("POST", BATCH)]  # one request against the limits


async def test_traced_batches_answer_207_with_the_failed_inputs(
    api: httpx.AsyncClient, fake: FakeHubSpot
) -> None:
    held = fake.state.add("contacts", {KEY: "taken"})
    inputs = [contact("new", "a"), contact("taken", "b"), contact("new", "c")]
    inputs.append({"properties": {"nope": "x"}, "objectWriteTraceId": "d"})
    answer = await api.post(BATCH, json={"inputs": inputs})
    assert answer.status_code == 207
    body = answer.json()
    assert [r["objectWriteTraceId"] for r in body["results"]] == ["a"]
    assert body["numErrors"] == 3
    errors = {e["context"]["objectWriteTraceId"][0]: e for e in body["errors"]}
    assert errors["b"]["category"] == "CONFLICT" and held["id"] in errors["b"]["message"]
    assert errors["c"]["category"] == "CONFLICT"  # the same key twice in one batch
    assert errors["d"]["category"] == "VALIDATION_ERROR"
    assert len(fake.state.objects["contacts"]) == 2


async def test_untraced_batches_fail_whole(api: httpx.AsyncClient, fake: FakeHubSpot) -> None:
    inputs = [contact("one"), contact("two"), contact("one")]
    answer = await api.post(BATCH, json={"inputs": inputs})
    assert (answer.status_code, answer.json()["category"]) == (409, "CONFLICT")
    assert "contacts" not in fake.state.objects


async def test_at_most_100_inputs(api: httpx.AsyncClient, fake: FakeHubSpot) -> None:
    inputs = [contact(f"k{i}", f"t{i}") for i in range(101)]
    answer = await api.post(BATCH, json={"inputs": inputs})
    assert (answer.status_code, answer.json()["category"]) == (400, "VALIDATION_ERROR")
    assert "contacts" not in fake.state.objects
    assert (await api.post(BATCH, json={"inputs": inputs[:100]})).status_code == 201


async def test_associations_go_inline(api: httpx.AsyncClient, fake: FakeHubSpot) -> None:
    person = fake.state.add("contacts", {"phone": "+14155550100"})
    link = {"to": {"id": person["id"]}, "types": [{"associationTypeId": 194}]}
    props = {"hs_timestamp": "2026-12-07T00:00:00Z"}
    inputs = [{"properties": props, "associations": [link], "objectWriteTraceId": "x"}]
    answer = await api.post(CALLS, json={"inputs": inputs})
    assert answer.status_code == 201
    call_id = answer.json()["results"][0]["id"]
    assert fake.state.associated("calls", call_id, "contacts") == [person["id"]]
    missing = {"to": {"id": "999999"}, "types": [{"associationTypeId": 194}]}
    bad = [{"properties": props, "associations": [missing], "objectWriteTraceId": "y"}]
    refused = await api.post(CALLS, json={"inputs": bad})
    assert refused.status_code == 207 and refused.json()["numErrors"] == 1


async def test_a_batch_whose_answer_is_lost_is_stored(
    api: httpx.AsyncClient, fake: FakeHubSpot
) -> None:
    fake.state.fail_after_commit("contacts", 502)
    answer = await api.post(BATCH, json={"inputs": [contact("k", "t"), contact("l", "u")]})
    assert answer.status_code == 502
    assert len(fake.state.objects["contacts"]) == 2


async def test_one_search_takes_many_numbers(api: httpx.AsyncClient, fake: FakeHubSpot) -> None:
    for raw in ("(415) 555-0101", "+1 415 555 0102", "+1 415 555 0103"):
        fake.state.add("contacts", {"phone": raw})
    rule = {"propertyName": "hs_searchable_calculated_phone_number", "operator": "IN"}
    body = {"filterGroups": [{"filters": [rule | {"values": ["4155550101", "4155550102"]}]}]}
    found = (await api.post("/crm/v3/objects/contacts/search", json=body)).json()
    assert found["total"] == 2
