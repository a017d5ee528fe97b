"""The teams and users screen: each change goes through the API's own route and rules."""

from __future__ import annotations

from typing import Any

from tests.ui.ui_client import UiTenant


async def _api(acme: UiTenant, path: str) -> Any:
    headers = {"Authorization": f"Bearer {acme.company.api_key}"}
    return (await acme.client.get(path, headers=headers)).json()


async def test_teams_and_users_are_created_renamed_moved_and_granted(acme: UiTenant) -> None:
    csrf = await acme.sign_in()
    post = acme.client.post
    assert (await post("/ui/teams", data={"csrf": csrf, "name": "Sales"})).status_code == 303
    assert (await post("/ui/teams", data={"csrf": csrf, "name": "Support"})).status_code == 303
    teams = {t["name"]: t for t in await _api(acme, "/teams")}
    sales, support = teams["Sales"]["id"], teams["Support"]["id"]
    user = {"csrf": csrf, "name": "Ana", "email": "Ana@Example.com", "team_id": sales}
    assert (await post("/ui/users", data=user)).status_code == 303
    ana = next(u for u in await _api(acme, "/users") if u["name"] == "Ana")
    assert ana["team_id"] == sales
    assert ana["email"] == "ana@example.com"

    await post(f"/ui/teams/{sales}", data={"csrf": csrf, "name": "Sales EU"})
    await post(f"/ui/teams/{sales}", data={"csrf": csrf, "grant": "1"})
    await post(f"/ui/users/{ana['id']}", data={"csrf": csrf, "team_id": support})
    await post(f"/ui/users/{ana['id']}", data={"csrf": csrf, "name": "Ana Lima"})
    teams = {t["id"]: t for t in await _api(acme, "/teams")}
    assert teams[sales]["name"] == "Sales EU"
    assert "is_multicrm_sync" in teams[sales]["permissions"]
    ana = next(u for u in await _api(acme, "/users") if u["id"] == ana["id"])
    assert (ana["team_id"], ana["name"]) == (support, "Ana Lima")

    page = await acme.client.get("/ui/teams")
    assert "Sales EU" in page.text
    assert "Revoke" in page.text
    await post(f"/ui/teams/{sales}", data={"csrf": csrf, "grant": "0"})
    teams = {t["id"]: t for t in await _api(acme, "/teams")}
    assert "is_multicrm_sync" not in teams[sales]["permissions"]


async def test_the_apis_refusals_are_shown(acme: UiTenant) -> None:
    csrf = await acme.sign_in()
    await acme.client.post("/ui/teams", data={"csrf": csrf, "name": "Sales"})
    twice = await acme.client.post("/ui/teams", data={"csrf": csrf, "name": "Sales"})
    assert twice.status_code == 409
    assert "already exists" in twice.text
    team = (await _api(acme, "/teams"))[0]["id"]
    await acme.client.post("/ui/users", data={"csrf": csrf, "name": "Bo", "team_id": team})
    busy = await acme.client.post(f"/ui/teams/{team}/delete", data={"csrf": csrf})
    assert busy.status_code == 409
    assert "has members" in busy.text
    bad = await acme.client.post("/ui/users", data={"csrf": csrf, "name": "X", "email": "nope"})
    assert bad.status_code == 422
    assert "email" in bad.text


async def test_another_companys_team_and_user_are_not_found(
    acme: UiTenant, globex: UiTenant
) -> None:
    theirs = await globex.sign_in()
    await globex.client.post("/ui/teams", data={"csrf": theirs, "name": "Theirs"})
    await globex.client.post("/ui/users", data={"csrf": theirs, "name": "Them"})
    headers = {"Authorization": f"Bearer {globex.company.api_key}"}
    team = (await globex.client.get("/teams", headers=headers)).json()[0]["id"]
    user = (await globex.client.get("/users", headers=headers)).json()[0]["id"]
    csrf = await acme.sign_in()
    for url, data in (
        (f"/ui/teams/{team}", {"name": "Taken"}),
        (f"/ui/teams/{team}", {"grant": "1"}),
        (f"/ui/teams/{team}/delete", {}),
        (f"/ui/users/{user}", {"name": "Taken"}),
        (f"/ui/users/{user}/delete", {}),
    ):
        answer = await acme.client.post(url, data={"csrf": csrf, **data})
        assert answer.status_code == 404, url
    assert (await globex.client.get("/teams", headers=headers)).json()[0]["name"] == "Theirs"
