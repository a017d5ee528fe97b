"""Teams and users change after creation: PATCH changes the fields given, DELETE keeps history."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from callbridge.runtime import Runtime
from callbridge.storage.tables import (
    agent_tokens,
    call_selections,
    calls,
    crm_user_links,
    dial_intents,
    users,
)
from tests.api.api_tenant import Tenant, problems
from tests.api.tenancy_world import NUMBER, build_world

EXPLORE = settings(max_examples=25)
_serial = itertools.count()
NAMES = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=30)
PERMISSIONS = st.lists(st.sampled_from(["is_multicrm_sync", "reports", "exports"]), max_size=3)
TEAM_PATCHES = st.fixed_dictionaries(
    {},
    optional={
        "name": NAMES,
        "permissions": PERMISSIONS,
        "is_multicrm_sync": st.booleans() | st.none(),
    },
)
USER_FIELDS = {
    "name": NAMES,
    "email": st.none() | st.emails().filter(lambda e: len(e) <= 320),
    "extension": st.none() | st.text("0123456789", min_size=1, max_size=20),
    "telephony_user_id": st.none() | NAMES,
    "role": st.sampled_from(["admin", "agent", "top_manager"]),
}


async def _team(tenant: Tenant, permissions: list[str] | None = None) -> dict[str, Any]:
    body = {"name": f"Team {next(_serial)}", "permissions": permissions or []}
    answer = await tenant.client.post("/teams", json=body)
    assert answer.status_code == 201, answer.text
    team: dict[str, Any] = answer.json()
    return team


async def _user(tenant: Tenant, **fields: Any) -> dict[str, Any]:
    body = {"name": "Ann", "email": f"ann{next(_serial)}@acme.test", **fields}
    answer = await tenant.client.post("/users", json=body)
    assert answer.status_code == 201, answer.text
    user: dict[str, Any] = answer.json()
    return user


async def _listed(tenant: Tenant, path: str, row_id: str) -> dict[str, Any] | None:
    rows: list[dict[str, Any]] = (await tenant.client.get(path)).json()
    return next((row for row in rows if row["id"] == row_id), None)


def _expected_permissions(before: list[str], patch: dict[str, Any]) -> list[str]:
    permissions = list(dict.fromkeys(patch["permissions"])) if "permissions" in patch else before
    if patch.get("is_multicrm_sync") is not None:
        permissions = [p for p in permissions if p != "is_multicrm_sync"]
        permissions += ["is_multicrm_sync"] if patch["is_multicrm_sync"] else []
    return permissions


@EXPLORE
@given(patch=TEAM_PATCHES, before=PERMISSIONS)
async def test_a_team_patch_changes_only_the_fields_given(
    acme: Tenant, patch: dict[str, Any], before: list[str]
) -> None:
    team = await _team(acme, before)
    if "name" in patch:
        patch["name"] = f"{patch['name']} {next(_serial)}"
    answer = await acme.client.patch(f"/teams/{team['id']}", json=patch)
    assert answer.status_code == 200, answer.text
    expected = {
        **team,
        "company_id": acme.company.company_id,
        "name": patch.get("name", team["name"]),
        "permissions": _expected_permissions(before, patch),
    }
    assert answer.json() == expected
    assert await _listed(acme, "/teams", team["id"]) == expected


@EXPLORE
@given(patch=st.fixed_dictionaries({}, optional=USER_FIELDS), move=st.booleans())
async def test_a_user_patch_changes_only_the_fields_given(
    acme: Tenant, patch: dict[str, Any], move: bool
) -> None:
    user = await _user(acme, extension="100", telephony_user_id="t-1")
    if move:
        patch["team_id"] = (await _team(acme))["id"]
    if patch.get("email"):
        patch["email"] = f"{next(_serial)}{patch['email']}"[:320]
    answer = await acme.client.patch(f"/users/{user['id']}", json=patch)
    assert answer.status_code == 200, answer.text
    expected = {**user, "company_id": acme.company.company_id, **patch}
    if patch.get("email"):
        expected["email"] = patch["email"].lower()
    assert answer.json() == expected
    assert await _listed(acme, "/users", user["id"]) == expected


async def test_null_keeps_name_and_role_and_clears_the_rest(acme: Tenant) -> None:
    team = await _team(acme)
    user = await _user(acme, role="admin", extension="7", team_id=team["id"])
    body = {"name": None, "role": None, "extension": None, "team_id": None, "email": None}
    answer = await acme.client.patch(f"/users/{user['id']}", json=body)
    assert answer.status_code == 200, answer.text
    shown = answer.json()
    assert (shown["name"], shown["role"]) == ("Ann", "admin")
    assert (shown["extension"], shown["team_id"], shown["email"]) == (None, None, None)
    renamed = await acme.client.patch(f"/teams/{team['id']}", json={"name": None})
    assert renamed.json()["name"] == team["name"]


async def test_a_user_moves_only_to_a_team_of_its_company(acme: Tenant, globex: Tenant) -> None:
    user = await _user(acme)
    foreign = await _team(globex)
    for team_id in (foreign["id"], "no-such-team"):
        answer = await acme.client.patch(f"/users/{user['id']}", json={"team_id": team_id})
        assert problems(answer) == {"team_id": f"no team {team_id} in this company"}
    assert await _listed(acme, "/users", user["id"]) == {
        **user,
        "company_id": acme.company.company_id,
    }


async def test_another_companys_teams_and_users_are_404_and_unchanged(
    acme: Tenant, globex: Tenant
) -> None:
    team = await _team(acme, ["is_multicrm_sync"])
    user = await _user(acme, team_id=team["id"])
    teams_before, users_before = (
        (await acme.client.get("/teams")).json(),
        (await acme.client.get("/users")).json(),
    )
    attempts = [
        ("PATCH", f"/teams/{team['id']}", {"name": "Taken", "is_multicrm_sync": False}),
        ("DELETE", f"/teams/{team['id']}", None),
        ("PATCH", f"/users/{user['id']}", {"name": "Taken", "team_id": None}),
        ("DELETE", f"/users/{user['id']}", None),
    ]
    for method, path, body in attempts:
        answer = await globex.client.request(method, path, json=body)
        assert answer.status_code == 404, (method, path, answer.text)
    assert (await acme.client.get("/teams")).json() == teams_before
    assert (await acme.client.get("/users")).json() == users_before


async def test_a_team_with_members_is_refused_until_they_move(acme: Tenant) -> None:
    team, other = await _team(acme), await _team(acme)
    user = await _user(acme, team_id=team["id"])
    refused = await acme.client.delete(f"/teams/{team['id']}")
    assert refused.status_code == 409
    assert "move them to another team or delete them first" in refused.json()["detail"]
    assert await _listed(acme, "/teams", team["id"]) is not None
    moved = await acme.client.patch(f"/users/{user['id']}", json={"team_id": other["id"]})
    assert moved.status_code == 200, moved.text
    assert (await acme.client.delete(f"/teams/{team['id']}")).status_code == 204
    assert await _listed(acme, "/teams", team["id"]) is None
    assert (await acme.client.delete(f"/teams/{team['id']}")).status_code == 404


async def test_names_and_emails_stay_unique(acme: Tenant) -> None:
    first, second = await _team(acme), await _team(acme)
    clash = await acme.client.patch(f"/teams/{second['id']}", json={"name": first["name"]})
    assert clash.status_code == 409 and "name" in clash.json()["detail"]
    ann, bob = await _user(acme), await _user(acme)
    taken = await acme.client.patch(f"/users/{bob['id']}", json={"email": ann["email"].upper()})
    assert taken.status_code == 409 and "email" in taken.json()["detail"]
    assert await _listed(acme, "/users", bob["id"]) == {
        **bob,
        "company_id": acme.company.company_id,
    }


async def test_a_permission_granted_or_revoked_applies_to_the_next_request(
    acme: Tenant,
) -> None:
    team = await _team(acme, ["is_multicrm_sync"])
    user = await _user(acme, team_id=team["id"])
    token = (await acme.client.post(f"/users/{user['id']}/tokens")).json()["token"]
    agent = {"Authorization": f"Bearer {token}"}
    config = {"config": {"select_contact_manually": True}}
    await acme.client.patch(f"/integrations/{acme.company.integration_id}", json=config)

    async def candidates() -> int:
        params = {"number": NUMBER}
        return (
            await acme.client.get("/dialer/candidates", params=params, headers=agent)
        ).status_code

    assert await candidates() == 200
    await acme.client.patch(f"/teams/{team['id']}", json={"is_multicrm_sync": False})
    assert await candidates() == 403
    await acme.client.patch(f"/teams/{team['id']}", json={"is_multicrm_sync": True})
    assert await candidates() == 200
    bare = await _team(acme)
    await acme.client.patch(f"/users/{user['id']}", json={"team_id": bare["id"]})
    assert await candidates() == 403


async def test_an_agent_token_on_an_admin_route_is_403_and_unknown_keys_401(
    acme: Tenant,
) -> None:
    user = await _user(acme)
    token = (await acme.client.post(f"/users/{user['id']}/tokens")).json()
    agent = {"Authorization": f"Bearer {token['token']}"}
    answer = await acme.client.get("/teams", headers=agent)
    assert answer.status_code == 403
    assert "agent token" in answer.json()["detail"]
    assert "company API key" in answer.json()["detail"]
    await acme.client.delete(f"/users/{user['id']}/tokens/{token['id']}")
    for raw in (token["token"], "cba_unknown", "cb_unknown"):
        refused = await acme.client.get("/teams", headers={"Authorization": f"Bearer {raw}"})
        assert refused.status_code == 401, raw
        assert "unknown or revoked" in refused.json()["detail"]


async def test_deleting_a_user_revokes_tokens_and_keeps_the_calls(
    api_runtime: Runtime, acme: Tenant
) -> None:
    world = await build_world(api_runtime, acme, "acme")
    user_id, call_id = world.ids["user_id"], world.ids["call_id"]
    intent = {"number": NUMBER, "crm_record_id": world.ids["record_id"]}
    made = await acme.client.post("/dialer/intents", json=intent, headers=world.agent)
    assert made.status_code < 300, made.text
    picked = {
        "choices": [
            {"integration_id": world.ids["integration_id"], "record_id": world.ids["record_id"]}
        ]
    }
    chosen = await acme.client.post(
        f"/dialer/calls/{call_id}/selection", json=picked, headers=world.agent
    )
    assert chosen.status_code < 300, chosen.text
    company = acme.company.company_id
    assert await _rows(api_runtime, calls.c.user_id == user_id, company, calls)

    assert (await acme.client.delete(f"/users/{user_id}")).status_code == 204

    answer = await acme.client.get(
        "/dialer/candidates", params={"number": NUMBER}, headers=world.agent
    )
    assert answer.status_code == 401
    assert await _listed(acme, "/users", user_id) is None
    assert (await acme.client.get(f"/calls/{call_id}")).status_code == 200
    assert await _rows(api_runtime, calls.c.id == call_id, company, calls) == [None]
    assert None in await _rows(
        api_runtime, call_selections.c.call_id == call_id, company, call_selections
    )
    for table in (agent_tokens, crm_user_links, dial_intents):
        assert not await _rows(api_runtime, table.c.user_id == user_id, company, table)
    assert not await _rows(api_runtime, users.c.id == user_id, company, users)
    assert (await acme.client.delete(f"/users/{user_id}")).status_code == 404


async def _rows(runtime: Runtime, where: Any, company_id: str, table: Any) -> list[Any]:
    """Return the user column of the company's rows of ``table`` matching ``where``."""
    column = {"calls": "user_id", "call_selections": "chosen_by"}.get(table.name, "id")
    query = select(table.c[column]).where(table.c.company_id == company_id, where)
    async with runtime.reads() as session:
        return list((await session.execute(query)).scalars())


@EXPLORE
@given(value=st.sampled_from([0, 1, "true", "false", "yes", 1.0, [], {}]))
async def test_the_permission_switch_takes_only_true_or_false(acme: Tenant, value: Any) -> None:
    team = await _team(acme, ["is_multicrm_sync"])
    answer = await acme.client.patch(f"/teams/{team['id']}", json={"is_multicrm_sync": value})
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"][-1] == "is_multicrm_sync"
    assert await _listed(acme, "/teams", team["id"]) == {
        **team,
        "company_id": acme.company.company_id,
    }
