"""The agent's dialer before a call: token sign-in, records grouped by type, choice confirmed."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from callbridge.runtime import Runtime
from callbridge.ui import dialer as dialer_ui
from tests.ui.test_calls_ui import synced_call
from tests.ui.ui_client import UiTenant, csrf_of

NUMBER = "+14155550134"
OLDER = re.compile(r'href="(/ui/dialer/my-calls\?[^"]*)" rel="next"')


async def _agent(tenant: UiTenant, *, permission: bool = True) -> str:
    return (await _agent_token(tenant, permission=permission))["token"]


async def _agent_token(tenant: UiTenant, *, permission: bool = True) -> dict[str, str]:
    """Create an agent in a team (with is_multicrm_sync or not), turn the option on; a token."""
    headers = {"Authorization": f"Bearer {tenant.company.api_key}"}
    post, patch = tenant.client.post, tenant.client.patch
    grants = ["is_multicrm_sync"] if permission else []
    team = await post("/teams", json={"name": "Sales", "permissions": grants}, headers=headers)
    user = await post("/users", json={"name": "Ann", "team_id": team.json()["id"]}, headers=headers)
    token = await post(f"/users/{user.json()['id']}/tokens", headers=headers)
    config = {"config": {"select_contact_manually": True}}
    await patch(f"/integrations/{tenant.company.integration_id}", json=config, headers=headers)
    issued: dict[str, str] = token.json()
    return issued


async def _record(tenant: UiTenant, name: str, kind: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {tenant.company.api_key}"}
    path = f"/integrations/{tenant.company.integration_id}/records"
    body = {"name": name, "object_type": kind, "phones": ["(415) 555-0134"]}
    answer: dict[str, Any] = (await tenant.client.post(path, json=body, headers=headers)).json()
    return answer


async def _sign_in(tenant: UiTenant, token: str) -> str:
    form = await tenant.client.get("/ui/dialer/sign-in")
    answer = await tenant.client.post(
        "/ui/dialer/sign-in", data={"csrf": csrf_of(form.text), "token": token}
    )
    assert answer.status_code == 303, answer.text
    return csrf_of((await tenant.client.get("/ui/dialer")).text)


async def test_an_agent_picks_a_contact_and_a_lead_before_a_call(acme: UiTenant) -> None:
    token = await _agent(acme)
    ann = await _record(acme, "Ann Contact", "contact")
    lead = await _record(acme, "Ann Lead", "lead")
    other = await _record(acme, "Other Lead", "lead")
    csrf = await _sign_in(acme, token)
    found = await acme.client.get("/ui/dialer/candidates", params={"number": NUMBER})
    assert "<strong>+3</strong>" in found.text
    for name in ("Ann Contact", "Ann Lead", "Other Lead"):
        assert name in found.text
    integration = acme.company.integration_id
    two_leads = [f"{integration}|{lead['id']}", f"{integration}|{other['id']}"]
    refused = await acme.client.post(
        "/ui/dialer/intents", data={"csrf": csrf, "number": NUMBER, "choice": two_leads}
    )
    assert refused.status_code == 422
    assert "lead" in refused.text
    picks = [f"{integration}|{ann['id']}", f"{integration}|{lead['id']}"]
    made = await acme.client.post(
        "/ui/dialer/intents", data={"csrf": csrf, "number": NUMBER, "choice": picks}
    )
    assert made.status_code == 200, made.text
    assert made.text.count("✓") == 2
    assert "Ann Contact" in made.text and "Ann Lead" in made.text


async def test_choosing_off_says_why(acme: UiTenant) -> None:
    token = await _agent(acme, permission=False)
    await _sign_in(acme, token)
    found = await acme.client.get("/ui/dialer", params={"number": NUMBER})
    assert "Choosing is off" in found.text
    assert "is_multicrm_sync" in found.text


async def test_bad_or_revoked_tokens_and_forged_forms_are_refused(acme: UiTenant) -> None:
    assert (await acme.client.get("/ui/dialer")).status_code == 303
    form = await acme.client.get("/ui/dialer/sign-in")
    bad = await acme.client.post(
        "/ui/dialer/sign-in", data={"csrf": csrf_of(form.text), "token": "cba_nope"}
    )
    assert bad.status_code == 401
    issued = await _agent_token(acme)
    await _sign_in(acme, issued["token"])
    forged = await acme.client.post("/ui/dialer/intents", data={"csrf": "x", "number": NUMBER})
    assert forged.status_code == 403
    cookie = acme.client.cookies.get("cb_agent")
    assert cookie and issued["token"] not in cookie  # sealed, not merely signed
    headers = {"Authorization": f"Bearer {acme.company.api_key}"}
    path = f"/users/{issued['user_id']}/tokens/{issued['id']}"
    assert (await acme.client.delete(path, headers=headers)).status_code == 204
    assert (await acme.client.get("/ui/dialer")).status_code == 303


async def test_click_to_dial_from_a_crm_page_binds_that_record(acme: UiTenant) -> None:
    token = await _agent(acme)
    lead = await _record(acme, "Clicked Lead", "lead")
    await _record(acme, "Not This One", "contact")
    csrf = await _sign_in(acme, token)
    integration = acme.company.integration_id
    params = {"number": NUMBER, "record": lead["id"], "integration": integration}
    page = await acme.client.get("/ui/dialer", params=params)
    assert lead["id"] in page.text
    made = await acme.client.post(
        "/ui/dialer/intents",
        data={"csrf": csrf, "number": NUMBER, "record": lead["id"], "integration": integration},
    )
    assert made.status_code == 200, made.text
    assert "Clicked Lead" in made.text
    assert "Not This One" not in made.text


async def test_another_companys_call_is_not_found_in_the_dialer(
    ui_runtime: Runtime, acme: UiTenant, globex: UiTenant
) -> None:
    theirs = await synced_call(ui_runtime, globex, "c-dialer-theirs")
    issued = await _agent_token(acme)
    csrf = await _sign_in(acme, issued["token"])
    shown = await acme.client.get(f"/ui/dialer/calls/{theirs}")
    assert shown.status_code == 404
    assert "no call" in shown.text
    assert "badge" not in shown.text
    picked = await acme.client.post(
        f"/ui/dialer/calls/{theirs}/selection",
        data={"csrf": csrf, "choice": f"{globex.company.integration_id}|x"},
    )
    assert picked.status_code == 404
    assert "no call" in picked.text
    forged = await acme.client.post(f"/ui/dialer/calls/{theirs}/selection", data={"csrf": "x"})
    assert forged.status_code == 403


async def _agent_with_email(tenant: UiTenant, name: str) -> str:
    """Create an agent named by an e-mail address (the calls name them so); return a token."""
    headers = {"Authorization": f"Bearer {tenant.company.api_key}"}
    body = {"name": name, "email": f"{name.lower()}@example.com"}
    user = await tenant.client.post("/users", json=body, headers=headers)
    token = await tenant.client.post(f"/users/{user.json()['id']}/tokens", headers=headers)
    return str(token.json()["token"])


async def test_my_calls_lists_the_agents_own_calls_with_their_records(
    ui_runtime: Runtime, acme: UiTenant, globex: UiTenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await _agent_with_email(acme, "Ann")
    await _agent_with_email(acme, "Bob")
    await _agent_with_email(globex, "Ann")  # the same address in another company
    await _record(acme, "Ann Contact", "contact")
    mine = [
        await synced_call(ui_runtime, acme, f"c-my-{n}", NUMBER, "ann@example.com")
        for n in range(3)
    ]
    bobs = await synced_call(ui_runtime, acme, "c-bob", "+14155550199", "bob@example.com")
    theirs = await synced_call(ui_runtime, globex, "c-their", "+14155550177", "ann@example.com")
    await _sign_in(acme, token)
    listed = (await acme.client.get("/ui/dialer/my-calls")).text
    assert listed.count(NUMBER) == 3
    assert "+14155550199" not in listed and "+14155550177" not in listed
    assert listed.count("Ann Contact (contact)") == 6  # found by number, and logged there
    assert "/ui/calls/" not in listed  # nothing links to the admin's screens
    for call in (*mine, bobs, theirs):
        assert call not in listed
    as_agent = {"Authorization": f"Bearer {token}"}
    listed_by_api = (await acme.client.get("/calls/mine", headers=as_agent)).json()["calls"]
    assert sorted(c["id"] for c in listed_by_api) == sorted(mine)
    as_admin = {"Authorization": f"Bearer {acme.company.api_key}"}
    assert (await acme.client.get("/calls/mine", headers=as_admin)).json()["calls"] == []
    monkeypatch.setattr(dialer_ui, "MY_CALLS_PAGE", 2)
    first = (await acme.client.get("/ui/dialer/my-calls")).text
    assert first.count(NUMBER) == 2
    older = OLDER.search(first)
    assert older
    second = (await acme.client.get(html.unescape(older.group(1)))).text
    assert second.count(NUMBER) == 1 and 'rel="prev"' in second and 'rel="next"' not in second
