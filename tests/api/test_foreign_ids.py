"""Record ids given by callers are resolved inside the integration, never outside it."""

from __future__ import annotations

from typing import Any

from callbridge.ingest import ingest
from callbridge.runtime import Runtime
from callbridge.testing.draining import drain
from callbridge.testing.webhooks import call_sequence, signed
from tests.api.api_tenant import Tenant, problems
from tests.api.tenancy_world import NUMBER


async def _record(tenant: Tenant, name: str) -> dict[str, Any]:
    path = f"/integrations/{tenant.company.integration_id}/records"
    answer = await tenant.client.post(path, json={"name": name, "phones": [NUMBER]})
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def _call(runtime: Runtime, tenant: Tenant, call_id: str, **extra: Any) -> dict[str, Any]:
    """Deliver a whole answered incoming call, drain the queue, return the call's page."""
    for event in call_sequence(call_id, "incoming", NUMBER, answered=True, **extra):
        body, headers = signed(tenant.company.source_secret, event)
        await ingest(runtime, tenant.company.source_id, headers, body)
    await drain(runtime)
    listed = (await tenant.client.get("/calls")).json()["calls"]
    mine = next(c for c in listed if c["provider_call_id"] == call_id)
    page: dict[str, Any] = (await tenant.client.get(f"/calls/{mine['id']}")).json()
    return page


async def _activities(tenant: Tenant, record_id: str) -> list[Any]:
    path = f"/integrations/{tenant.company.integration_id}/records/{record_id}"
    answer = await tenant.client.get(path)
    assert answer.status_code == 200, answer.text
    found: list[Any] = answer.json()["activities"]
    return found


async def test_a_webhook_naming_another_companys_record_logs_on_its_own(
    api_runtime: Runtime, acme: Tenant, globex: Tenant
) -> None:
    theirs = await _record(globex, "Globex's client")
    mine = await _record(acme, "Acme's client")
    page = await _call(api_runtime, acme, "c-foreign", crm_record_id=theirs["id"])
    assert await _activities(globex, theirs["id"]) == []
    assert len(await _activities(acme, mine["id"])) == 1
    rule = page["syncs"][0]["match_rule"]
    assert "click-to-dial record" in rule and "not in this CRM" in rule, rule


async def test_a_deleted_click_to_dial_record_falls_back_to_the_number(
    api_runtime: Runtime, acme: Tenant
) -> None:
    gone = await _record(acme, "Deleted meanwhile")
    kept = await _record(acme, "Still here")
    path = f"/integrations/{acme.company.integration_id}/records/{gone['id']}"
    assert (await acme.client.delete(path)).status_code == 204
    page = await _call(api_runtime, acme, "c-gone", crm_record_id=gone["id"])
    assert page["syncs"][0]["status"] == "done", page["syncs"]
    assert len(await _activities(acme, kept["id"])) == 1
    assert gone["id"] in page["syncs"][0]["match_rule"]


async def test_a_click_to_dial_record_of_the_integration_is_taken_as_it_is(
    api_runtime: Runtime, acme: Tenant
) -> None:
    await _record(acme, "First")
    clicked = await _record(acme, "Clicked")
    page = await _call(api_runtime, acme, "c-click", crm_record_id=clicked["id"])
    assert len(await _activities(acme, clicked["id"])) == 1
    assert page["syncs"][0]["match_rule"].startswith("click-to-dial")


async def test_an_intent_naming_another_companys_record_is_a_422_naming_it(
    acme: Tenant, globex: Tenant
) -> None:
    theirs = await _record(globex, "Globex's client")
    user = (await acme.client.post("/users", json={"name": "Ann", "email": "a@acme.test"})).json()
    body = {
        "number": NUMBER,
        "crm_record_id": theirs["id"],
        "integration_id": acme.company.integration_id,
        "user_id": user["id"],
    }
    answer = await acme.client.post("/dialer/intents", json=body)
    assert problems(answer) == {"crm_record_id": f"no record {theirs['id']} in this CRM"}


async def test_unknown_ids_in_an_intent_are_422s_naming_the_field(
    acme: Tenant, globex: Tenant
) -> None:
    theirs = (await globex.client.post("/users", json={"name": "Bob"})).json()
    body = {"number": NUMBER, "crm_record_id": "r-1", "user_id": theirs["id"]}
    answer = await acme.client.post("/dialer/intents", json=body)
    assert problems(answer) == {"user_id": f"no user {theirs['id']} in this company"}
    user = (await acme.client.post("/users", json={"name": "Ann"})).json()
    body = {**body, "user_id": user["id"], "integration_id": "no-such-integration"}
    answer = await acme.client.post("/dialer/intents", json=body)
    assert problems(answer) == {
        "integration_id": "no integration no-such-integration in this company"
    }
    answer = await acme.client.get("/dialer/events", params={"user_id": theirs["id"]})
    assert problems(answer) == {"user_id": f"no user {theirs['id']} in this company"}
