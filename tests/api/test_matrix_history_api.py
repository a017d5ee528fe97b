"""The matrix's history says who saved each version and what it changed; a draft is tried dry."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from callbridge.rules.default_matrix import DEFAULT_MATRIX_JSON
from callbridge.rules.matrix import matrix_to_json, parse_matrix
from callbridge.rules.matrix_diff import ChangeKind, changes
from callbridge.runtime import Runtime
from tests.api.api_tenant import Tenant, problems
from tests.api.test_explain_stored import _synced_call


def _path(tenant: Tenant, tail: str) -> str:
    return f"/integrations/{tenant.company.integration_id}/{tail}"


def _default() -> dict[str, Any]:
    return matrix_to_json(parse_matrix(copy.deepcopy(DEFAULT_MATRIX_JSON)))


async def test_each_version_names_its_author_and_its_changes(acme: Tenant) -> None:
    first = _default()
    first["rules"][3]["actions"][0]["due_in_minutes"] = 30
    assert (await acme.client.put(_path(acme, "matrix"), json=first)).status_code == 200
    second = copy.deepcopy(first)
    del second["rules"][4]
    second["rules"][0]["actions"].append({"type": "note_who_answered"})
    second["voicemail_is_missed"] = False
    assert (await acme.client.put(_path(acme, "matrix"), json=second)).status_code == 200

    listed = (await acme.client.get(_path(acme, "matrix/versions"))).json()

    assert [v["version"] for v in listed] == [2, 1]
    [key] = (await acme.client.get("/api-keys")).json()
    assert {(v["saved_by_key_id"], v["saved_by"]) for v in listed} == {(key["id"], key["name"])}
    newest = {(c["kind"], c["rule"], c["action"]) for c in listed[0]["changes"]}
    assert newest == {
        ("setting_changed", "voicemail_is_missed", ""),
        ("rule_removed", "outgoing, answered", ""),
        ("action_added", "incoming, new client, answered", "note_who_answered"),
    }
    [changed] = listed[1]["changes"]  # version 1 against the default matrix
    assert changed["kind"] == "action_changed" and changed["fields"] == ["due_in_minutes"]
    assert "incoming, existing client, missed" in changed["summary"]


_KINDS = st.sampled_from(["create_deal", "note_who_answered", "attach_recording"])


@settings(max_examples=40)
@given(drop=st.sets(st.integers(0, 5)), add=st.dictionaries(st.integers(0, 5), _KINDS))
def test_changes_name_every_rule_removed_and_action_added(
    drop: set[int], add: dict[int, str]
) -> None:
    before = _default()
    after = copy.deepcopy(before)
    for at, kind in add.items():
        after["rules"][at]["actions"].append({"type": kind})
    after["rules"] = [r for i, r in enumerate(after["rules"]) if i not in drop]
    found = changes(before, after)
    removed = {c.rule for c in found if c.kind is ChangeKind.RULE_REMOVED}
    assert removed == {before["rules"][i]["name"] for i in drop}
    added = {(c.rule, c.action) for c in found if c.kind is ChangeKind.ACTION_ADDED}
    assert added == {(before["rules"][i]["name"], k) for i, k in add.items() if i not in drop}
    assert changes(after, after) == []


async def test_a_draft_is_tried_on_a_past_call_beside_the_saved_matrix(
    api_runtime: Runtime, acme: Tenant, globex: Tenant
) -> None:
    page = await _synced_call(api_runtime, acme, "c-dry-run")  # incoming, new client, missed
    draft = _default()
    draft["rules"][2]["actions"] = [{"type": "create_contact", "mode": "never"}]
    body = {"call_id": page["id"], "matrix": draft}

    answer = await acme.client.post(_path(acme, "matrix/dry-run"), json=body)

    assert answer.status_code == 200, answer.text
    tried = answer.json()
    assert tried["saved"]["scenario"] == page["syncs"][0]["scenario"]
    assert tried["draft"]["matrix_version"] == -1
    assert tried["saved"]["matrix_version"] == 0
    dropped = {s["action"] for s in tried["only_saved"]}
    assert {"create_deal", "create_task"} <= dropped
    assert tried["only_draft"] == [] and tried["same"] is False
    again = await acme.client.post(
        _path(acme, "matrix/dry-run"), json={**body, "matrix": _default()}
    )
    assert again.json()["same"] is True  # a second draft is not the first one cached
    assert (await acme.client.get(_path(acme, "matrix"))).json()["version"] == 0  # saved nothing
    foreign = await globex.client.post(_path(globex, "matrix/dry-run"), json=body)
    assert foreign.status_code == 404


async def test_a_wrong_draft_is_refused_with_its_path(acme: Tenant) -> None:
    draft = _default()
    draft["rules"][1]["actions"][0]["to"] = []
    answer = await acme.client.post(
        _path(acme, "matrix/dry-run"), json={"call_id": "x", "matrix": draft}
    )
    assert "matrix.rules.1.actions.0.to" in problems(answer)
