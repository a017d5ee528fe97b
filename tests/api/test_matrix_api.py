"""The matrix over the API: validated with the path named, versioned, explained without writes."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from callbridge.domain.said import loaded
from callbridge.rules.default_matrix import DEFAULT_MATRIX_JSON
from callbridge.testing.webhooks import call_sequence
from tests.api.api_tenant import Tenant, problems


def path(tenant: Tenant, tail: str) -> str:
    """Return an integration-scoped path."""
    return f"/integrations/{tenant.company.integration_id}/{tail}"


async def test_default_matrix_and_its_contact_cells_follow_the_policy(acme: Tenant) -> None:
    shown = (await acme.client.get(path(acme, "matrix"))).json()
    assert shown["version"] == 0
    assert len(shown["matrix"]["rules"]) == 6
    assert {c["decided_by"] for c in shown["contact_creation"]} == {"policy"}
    assert all(c["creates"] for c in shown["contact_creation"])  # policy "all"
    for cell in shown["contact_creation"]:  # the code says what the English says
        assert cell["reason_code"]["code"] == "policy_all"
        assert loaded(cell["reason_code"]) == cell["reason"]


async def test_a_new_version_applies_and_an_override_is_shown(acme: Tenant) -> None:
    matrix = copy.deepcopy(DEFAULT_MATRIX_JSON)
    matrix["rules"][2]["actions"][0]["mode"] = "never"  # incoming, new client, missed
    saved = await acme.client.put(path(acme, "matrix"), json=matrix)
    assert saved.status_code == 200 and saved.json()["version"] == 1
    cells = {(c["direction"], c["outcome"]): c for c in saved.json()["contact_creation"]}
    assert cells["incoming", "missed"]["creates"] is False
    assert cells["incoming", "missed"]["decided_by"] == "override"
    assert cells["incoming", "missed"]["reason_code"] == {"code": "matrix_never", "params": {}}
    assert cells["incoming", "answered"]["decided_by"] == "policy"
    versions = (await acme.client.get(path(acme, "matrix/versions"))).json()
    assert [v["version"] for v in versions] == [1]


def _broken(change: Any) -> dict[str, Any]:
    matrix = copy.deepcopy(DEFAULT_MATRIX_JSON)
    change(matrix)
    return matrix


@pytest.mark.parametrize(
    ("matrix", "where"),
    [
        (
            _broken(lambda m: m["rules"][1]["actions"].append({"type": "send_fax"})),
            "rules.1.actions.2.type",
        ),
        (
            _broken(lambda m: m["rules"][3]["actions"][0].update(assignee="intern")),
            "rules.3.actions.0.assignee",
        ),
        (
            _broken(lambda m: m["rules"][0]["when"].update(scenario="sunny")),
            "rules.0.when.scenario",
        ),
        (_broken(lambda m: m["rules"][0]["when"].update(outcome="maybe")), "rules.0.when.outcome"),
        (
            _broken(lambda m: m["rules"][2]["actions"][2].update(due_in_minutes=-5)),
            "rules.2.actions.2.due_in_minutes",
        ),
        (_broken(lambda m: m.update(rules="all")), "rules"),
        (
            _broken(lambda m: m["deal"].update(create_for_existing_without_open_deal="yes")),
            "deal.create_for_existing_without_open_deal",
        ),
    ],
)
async def test_invalid_matrices_are_refused_with_their_path(
    acme: Tenant, matrix: dict[str, Any], where: str
) -> None:
    answer = await acme.client.put(path(acme, "matrix"), json=matrix)
    assert list(problems(answer)) == [where.replace("[", ".").replace("]", "")]
    assert (await acme.client.get(path(acme, "matrix"))).json()["version"] == 0


async def test_explain_returns_the_plan_and_writes_nothing(acme: Tenant) -> None:
    await acme.client.post(
        "/users", json={"name": "Tom", "email": "tom@acme.test", "role": "top_manager"}
    )
    events = call_sequence("explain-1", "incoming", "+14155550199", answered=False)
    before = (await acme.client.get(path(acme, "records"))).json()["total"]
    answer = await acme.client.post(path(acme, "explain"), json={"events": events})
    assert answer.status_code == 200
    explained = answer.json()
    assert explained["scenario"] == "incoming.new.missed.none"
    assert explained["contact_creation"]["create"] is True
    assert [s["action"] for s in explained["plan"]] == ["create_deal", "create_task"]
    assert explained["scenario_from_code"] == {"code": "this_run", "params": {}}
    assert explained["reason"] is explained["reason_code"] is None
    creation = explained["contact_creation"]
    assert loaded(creation["reason_code"]) == creation["reason"]
    assert all(s["skip"] is s["skip_code"] is None for s in explained["plan"])
    assert (await acme.client.get(path(acme, "records"))).json()["total"] == before
    assert (await acme.client.get("/calls")).json()["calls"] == []
    assert (await acme.client.get(path(acme, "user-links"))).json() == []


async def test_explain_refuses_bad_events_naming_the_field(acme: Tenant) -> None:
    answer = await acme.client.post(path(acme, "explain"), json={"events": [{"id": "x"}]})
    assert list(problems(answer)) == ["events.0.type"]


async def test_manual_user_link(acme: Tenant, globex: Tenant) -> None:
    user = (await acme.client.post("/users", json={"name": "Ann", "email": "ann@acme.test"})).json()
    boss = (await acme.client.post("/users", json={"name": "Bo", "email": "bo@acme.test"})).json()
    # The local CRM's users are the company's own: a CRM user it does not have is refused.
    unknown = await acme.client.put(
        path(acme, f"user-links/{user['id']}"), json={"crm_user_id": "crm-42"}
    )
    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["loc"] == ["body", "crm_user_id"]
    linked = await acme.client.put(
        path(acme, f"user-links/{user['id']}"), json={"crm_user_id": boss["id"]}
    )
    assert linked.json() == {"user_id": user["id"], "crm_user_id": boss["id"], "source": "manual"}
    links = (await acme.client.get(path(acme, "user-links"))).json()
    assert (user["id"], boss["id"]) in [(link["user_id"], link["crm_user_id"]) for link in links]
    foreign = await globex.client.put(
        path(globex, f"user-links/{user['id']}"), json={"crm_user_id": "x"}
    )
    assert foreign.status_code == 404


async def test_every_problem_of_a_matrix_is_listed_at_once(acme: Tenant) -> None:
    matrix = copy.deepcopy(DEFAULT_MATRIX_JSON)
    matrix["rules"][0]["when"]["outcome"] = "maybe"
    matrix["rules"][3]["actions"][0]["assignee"] = "intern"
    matrix["deal"]["pipeline"] = 7
    matrix["colour"] = "red"
    wanted = {
        "rules.0.when.outcome",
        "rules.3.actions.0.assignee",
        "deal.pipeline",
        "colour",
    }
    saved = await acme.client.put(path(acme, "matrix"), json=matrix)
    assert set(problems(saved)) == wanted and len(saved.json()["detail"]) == 4
    by_loc = {".".join(map(str, p["loc"][1:])): p for p in saved.json()["detail"]}
    assert {where: p["type"] for where, p in by_loc.items()} == {
        "rules.0.when.outcome": "matrix_unknown_value",
        "rules.3.actions.0.assignee": "matrix_unknown_value",
        "deal.pipeline": "matrix_text_or_null",
        "colour": "matrix_unknown_field",
    }
    assert by_loc["rules.3.actions.0.assignee"]["ctx"]["value"] == "'intern'"
    body = {"call_id": "no-such-call", "matrix": matrix}
    tried = await acme.client.post(path(acme, "matrix/dry-run"), json=body)
    assert set(problems(tried)) == {f"matrix.{where}" for where in wanted}
    assert (await acme.client.get(path(acme, "matrix"))).json()["version"] == 0


@pytest.mark.parametrize(
    ("direction", "external", "code", "params"),
    [
        ("incoming", "911", "no_external_number", {"why": "emergency"}),
        ("incoming", "anonymous", "no_external_number", {"why": "anonymous"}),
    ],
)
async def test_explain_says_why_nothing_is_done_with_its_code(
    acme: Tenant, direction: str, external: str, code: str, params: dict[str, str]
) -> None:
    events = call_sequence(f"explain-{code}", direction, external, answered=True)
    explained = (await acme.client.post(path(acme, "explain"), json={"events": events})).json()
    assert explained["scenario"] is None and explained["plan"] == []
    assert explained["reason_code"] == {"code": code, "params": params}
    assert loaded(explained["reason_code"]) == explained["reason"]


async def test_a_skipped_step_says_why_with_its_code(acme: Tenant) -> None:
    matrix = copy.deepcopy(DEFAULT_MATRIX_JSON)  # a new client has no responsible manager yet
    matrix["rules"][0]["actions"].append({"type": "note_who_answered"})
    assert (await acme.client.put(path(acme, "matrix"), json=matrix)).status_code == 200
    events = call_sequence("explain-skip", "incoming", "+14155550198", answered=True)
    explained = (await acme.client.post(path(acme, "explain"), json={"events": events})).json()
    [skipped] = [s for s in explained["plan"] if s["skip"]]
    assert skipped["skip_code"] == {"code": "no_manager_yet", "params": {}}
    assert loaded(skipped["skip_code"]) == skipped["skip"]
