"""The local CRM's API: create, read, update, delete and search by phone in any format."""

from __future__ import annotations

from tests.api.api_tenant import Tenant, problems


async def test_record_lifecycle_and_search_in_any_format(acme: Tenant) -> None:
    path = f"/integrations/{acme.company.integration_id}/records"
    created = await acme.client.post(
        path,
        json={"name": "Jane Caller", "object_type": "lead", "phones": ["(415) 555-0134", "n/a"]},
    )
    assert created.status_code == 201
    record = created.json()
    assert record["phones"] == ["(415) 555-0134", "n/a"]
    for typed in ("+14155550134", "415.555.0134", "tel:+1-415-555-0134", "001 415 555 0134"):
        found = (await acme.client.get(f"{path}/search", params={"phone": typed})).json()
        assert [r["id"] for r in found["records"]] == [record["id"]], typed
    changed = await acme.client.patch(
        f"{path}/{record['id']}", json={"name": "Jane C.", "phones": ["+44 20 7946 0958"]}
    )
    assert changed.json()["name"] == "Jane C."
    old = (await acme.client.get(f"{path}/search", params={"phone": "+14155550134"})).json()
    assert old["records"] == []
    assert (await acme.client.delete(f"{path}/{record['id']}")).status_code == 204
    assert (await acme.client.get(f"{path}/{record['id']}")).status_code == 404


async def test_listing_pages_and_filters(acme: Tenant) -> None:
    path = f"/integrations/{acme.company.integration_id}/records"
    for i in range(3):
        await acme.client.post(path, json={"name": f"C{i}", "phones": [f"+1415555012{i}"]})
    await acme.client.post(path, json={"name": "Acme Inc", "object_type": "account"})
    page = (await acme.client.get(path, params={"limit": 2})).json()
    assert page["total"] == 4 and len(page["records"]) == 2
    accounts = (await acme.client.get(path, params={"object_type": "account"})).json()
    assert [r["name"] for r in accounts["records"]] == ["Acme Inc"]


async def test_unmatchable_search_says_why(acme: Tenant) -> None:
    path = f"/integrations/{acme.company.integration_id}/records/search"
    answer = await acme.client.get(path, params={"phone": "anonymous"})
    assert "anonymous" in problems(answer)["phone"]


async def test_bad_record_is_refused_naming_the_field(acme: Tenant) -> None:
    path = f"/integrations/{acme.company.integration_id}/records"
    answer = await acme.client.post(path, json={"name": "", "object_type": "planet"})
    assert answer.status_code == 422
    assert {tuple(e["loc"][-1:]) for e in answer.json()["detail"]} == {("name",), ("object_type",)}


async def test_a_deal_on_no_record_is_a_422_naming_record_id(acme: Tenant, globex: Tenant) -> None:
    theirs = await globex.client.post(
        f"/integrations/{globex.company.integration_id}/records", json={"name": "Theirs"}
    )
    path = f"/integrations/{acme.company.integration_id}/deals"
    for record_id in (theirs.json()["id"], "no-such-record"):
        answer = await acme.client.post(path, json={"record_id": record_id, "name": "D"})
        assert problems(answer) == {"record_id": f"no record {record_id} in this integration"}
    assert (await acme.client.get(path)).json() == []
    missing = "/integrations/no-such-integration/deals"
    answer = await acme.client.post(missing, json={"record_id": "r", "name": "D"})
    assert answer.status_code == 404, answer.text
