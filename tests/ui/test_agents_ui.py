"""An employee's agent tokens from the UI: issued once, revoked at once, tenancy."""

from __future__ import annotations

import re

from tests.ui.ui_client import UiTenant

TOKEN = re.compile(r'<pre id="new-token">([^<]+)</pre>')


async def _user(tenant: UiTenant, csrf: str, name: str) -> str:
    await tenant.client.post("/ui/users", data={"csrf": csrf, "name": name})
    headers = {"Authorization": f"Bearer {tenant.company.api_key}"}
    listed = (await tenant.client.get("/users", headers=headers)).json()
    return str(next(u["id"] for u in listed if u["name"] == name))


async def _as_agent(tenant: UiTenant, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    answer = await tenant.client.get("/dialer/candidates?number=%2B33612345678", headers=headers)
    return answer.status_code


async def test_a_token_is_issued_once_and_revoked(acme: UiTenant) -> None:
    csrf = await acme.sign_in()
    user = await _user(acme, csrf, "Ana")
    issued = await acme.client.post(f"/ui/users/{user}/tokens", data={"csrf": csrf})
    assert issued.status_code == 201
    found = TOKEN.search(issued.text)
    assert found
    token = found.group(1)
    assert await _as_agent(acme, token) != 401  # known: refused only for lack of permission
    page = await acme.client.get(f"/ui/users/{user}")
    assert token not in page.text
    assert token[:10] in page.text
    token_id = re.search(rf"/ui/users/{user}/tokens/([^/]+)/revoke", page.text)
    assert token_id
    revoked = await acme.client.post(
        f"/ui/users/{user}/tokens/{token_id.group(1)}/revoke", data={"csrf": csrf}
    )
    assert revoked.status_code == 303
    assert await _as_agent(acme, token) == 401
    assert "Revoked" in (await acme.client.get(f"/ui/users/{user}")).text


async def test_another_companys_user_is_not_found(acme: UiTenant, globex: UiTenant) -> None:
    theirs = await _user(globex, await globex.sign_in(), "Them")
    csrf = await acme.sign_in()
    assert (await acme.client.get(f"/ui/users/{theirs}")).status_code == 404
    issued = await acme.client.post(f"/ui/users/{theirs}/tokens", data={"csrf": csrf})
    assert issued.status_code == 404
    revoked = await acme.client.post(f"/ui/users/{theirs}/tokens/x/revoke", data={"csrf": csrf})
    assert revoked.status_code == 404
