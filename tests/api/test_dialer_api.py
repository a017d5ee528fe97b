"""The dialer API in-process: agent tokens, gating, candidates, intents, the events broker."""

from __future__ import annotations

import asyncio
from typing import Any

from callbridge.dialer.events import broker
from callbridge.runtime import Runtime
from tests.api.api_tenant import Tenant, problems

NUMBER = "+14155550134"


async def _agent(tenant: Tenant, *, permission: bool = True, option: bool = True) -> dict[str, str]:
    """Create a team, an agent with a token, and set the integration option; return headers."""
    client, company = tenant.client, tenant.company
    perms = ["is_multicrm_sync"] if permission else []
    team = (await client.post("/teams", json={"name": "Sales", "permissions": perms})).json()
    user = await client.post(
        "/users", json={"name": "Ann", "email": "ann@acme.test", "team_id": team["id"]}
    )
    token = (await client.post(f"/users/{user.json()['id']}/tokens")).json()
    config = {"select_contact_manually": option}
    patched = await client.patch(f"/integrations/{company.integration_id}", json={"config": config})
    assert patched.status_code == 200, patched.text
    return {"Authorization": f"Bearer {token['token']}", "X-User": user.json()["id"]}


async def _record(tenant: Tenant, name: str, kind: str = "contact") -> dict[str, Any]:
    path = f"/integrations/{tenant.company.integration_id}/records"
    body = {"name": name, "object_type": kind, "phones": ["(415) 555-0134"]}
    answer: dict[str, Any] = (await tenant.client.post(path, json=body)).json()
    return answer


def _pick(tenant: Tenant, *records: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {"integration_id": tenant.company.integration_id, "record_id": r["id"]} for r in records
    ]


async def test_a_token_is_shown_once_and_acts_as_its_agent(acme: Tenant) -> None:
    headers = await _agent(acme)
    answer = await acme.client.get("/dialer/candidates", params={"number": NUMBER}, headers=headers)
    assert answer.status_code == 200
    assert answer.json() == {"number": NUMBER, "count": 0, "groups": {}}
    users = (await acme.client.get("/users")).json()
    assert all("token" not in str(u) for u in users)


async def test_unknown_user_token_and_bad_tokens_are_refused(acme: Tenant) -> None:
    assert (await acme.client.post("/users/nobody/tokens")).status_code == 404
    bad = {"Authorization": "Bearer cba_nope"}
    answer = await acme.client.get("/dialer/candidates", params={"number": NUMBER}, headers=bad)
    assert answer.status_code == 401


async def test_a_revoked_token_stops_working(acme: Tenant) -> None:
    user = (await acme.client.post("/users", json={"name": "Bob"})).json()
    token = (await acme.client.post(f"/users/{user['id']}/tokens")).json()
    revoked = await acme.client.delete(f"/users/{user['id']}/tokens/{token['id']}")
    assert revoked.status_code == 204
    headers = {"Authorization": f"Bearer {token['token']}"}
    answer = await acme.client.get("/dialer/candidates", params={"number": NUMBER}, headers=headers)
    assert answer.status_code == 401


async def test_another_company_cannot_issue_tokens_for_our_users(
    acme: Tenant, globex: Tenant
) -> None:
    user = (await acme.client.post("/users", json={"name": "Ann"})).json()
    assert (await globex.client.post(f"/users/{user['id']}/tokens")).status_code == 404


async def test_gating_answers_403_naming_the_missing_permission(acme: Tenant) -> None:
    headers = await _agent(acme, permission=False)
    answer = await acme.client.get("/dialer/candidates", params={"number": NUMBER}, headers=headers)
    assert answer.status_code == 403
    assert "is_multicrm_sync" in answer.json()["detail"]


async def test_gating_answers_403_naming_the_integration_option(acme: Tenant) -> None:
    headers = await _agent(acme, option=False)
    body = {"number": NUMBER, "choices": []}
    answer = await acme.client.post("/dialer/intents", json=body, headers=headers)
    assert answer.status_code == 403
    assert "select_contact_manually" in answer.json()["detail"]


async def test_candidates_are_grouped_by_object_type_and_filterable(acme: Tenant) -> None:
    headers = await _agent(acme)
    for name, kind in (("Jane", "contact"), ("Jane Lead", "lead"), ("ACME", "account")):
        await _record(acme, name, kind)
    found = (
        await acme.client.get("/dialer/candidates", params={"number": NUMBER}, headers=headers)
    ).json()
    assert found["count"] == 3
    assert list(found["groups"]) == ["contact", "lead", "account"]
    assert found["groups"]["lead"][0]["name"] == "Jane Lead"
    params = {"number": "(415) 555-0134", "object_type": "lead"}
    leads = (await acme.client.get("/dialer/candidates", params=params, headers=headers)).json()
    assert leads["count"] == 1 and list(leads["groups"]) == ["lead"]


async def test_an_intent_confirms_where_the_log_will_go(acme: Tenant) -> None:
    headers = await _agent(acme)
    jane, lead = await _record(acme, "Jane"), await _record(acme, "Jane Lead", "lead")
    body = {"number": NUMBER, "choices": _pick(acme, jane, lead)}
    answer = await acme.client.post("/dialer/intents", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    confirmed = answer.json()["confirmed"]
    assert [(c["record_id"], c["check"]) for c in confirmed] == [
        (jane["id"], True),
        (lead["id"], True),
    ]
    assert "next call" in answer.json()["binds_to"]


async def test_two_contacts_are_refused_with_422_naming_the_conflict(acme: Tenant) -> None:
    headers = await _agent(acme)
    one, two = await _record(acme, "Jane"), await _record(acme, "Jane bis")
    body = {"number": NUMBER, "choices": _pick(acme, one, two)}
    answer = await acme.client.post("/dialer/intents", json=body, headers=headers)
    assert "choices[1]" in problems(answer)["choices"]
    assert "two contact records" in problems(answer)["choices"]


async def test_a_record_not_matching_the_number_is_refused(acme: Tenant) -> None:
    headers = await _agent(acme)
    body = {"number": NUMBER, "choices": _pick(acme, {"id": "elsewhere"})}
    answer = await acme.client.post("/dialer/intents", json=body, headers=headers)
    assert "choices[0].record_id" in problems(answer)["choices"]


async def test_click_to_dial_needs_no_gating(acme: Tenant) -> None:
    headers = await _agent(acme, permission=False, option=False)
    jane = await _record(acme, "Jane")
    body = {"number": NUMBER, "crm_record_id": jane["id"]}
    answer = await acme.client.post("/dialer/intents", json=body, headers=headers)
    assert answer.status_code == 201
    assert answer.json()["how"] == "click-to-dial"
    assert answer.json()["confirmed"][0]["name"] == "Jane"


async def test_the_option_must_be_a_boolean(acme: Tenant) -> None:
    path = f"/integrations/{acme.company.integration_id}"
    bad = await acme.client.patch(path, json={"config": {"select_contact_manually": "yes"}})
    assert bad.status_code == 422
    assert "select_contact_manually" in bad.text
    grace = await acme.client.patch(path, json={"config": {"selection_grace_seconds": -1}})
    assert grace.status_code == 422


async def test_an_agent_cannot_watch_another_agents_stream(acme: Tenant) -> None:
    headers = await _agent(acme)
    answer = await acme.client.get("/dialer/events", params={"user_id": "someone"}, headers=headers)
    assert answer.status_code == 403
    assert (await acme.client.get("/dialer/events")).status_code == 422


async def test_the_broker_delivers_to_the_right_agent_only(api_runtime: Runtime) -> None:
    hub = broker(api_runtime.engine)
    async with hub.subscribe("co", "ann") as ann, hub.subscribe("co", "bob") as bob:
        await hub.publish("co", "ann", {"type": "call", "call_id": "c1"})
        got = await asyncio.wait_for(ann.get(), 10)
        assert got["call_id"] == "c1"
        await asyncio.sleep(0.2)
        assert bob.empty()
    await hub.close()
