"""Company administration answers conflicts and unknown references with 4xx naming the field."""

from __future__ import annotations

from tests.api.api_tenant import Tenant, problems


async def test_duplicate_team_and_user_are_conflicts(acme: Tenant) -> None:
    assert (await acme.client.post("/teams", json={"name": "Sales"})).status_code == 201
    again = await acme.client.post("/teams", json={"name": "Sales"})
    assert again.status_code == 409 and again.json()["detail"].startswith("name:")
    first = await acme.client.post("/users", json={"name": "Ann", "email": "Ann@acme.test"})
    assert first.status_code == 201 and first.json()["email"] == "ann@acme.test"
    clash = await acme.client.post("/users", json={"name": "Ann B", "email": "ann@acme.test"})
    assert clash.status_code == 409 and clash.json()["detail"].startswith("email:")


async def test_unknown_team_is_refused(acme: Tenant, globex: Tenant) -> None:
    team = (await globex.client.post("/teams", json={"name": "Theirs"})).json()
    answer = await acme.client.post("/users", json={"name": "Ann", "team_id": team["id"]})
    assert problems(answer) == {"team_id": f"no team {team['id']} in this company"}


async def test_company_patch_ignores_nulls(acme: Tenant) -> None:
    answer = await acme.client.patch("/company", json={"name": None, "own_numbers": []})
    assert answer.status_code == 200
    assert answer.json()["name"] == "ACME"
