"""The scenario matrix screen: an editable table saved through the API, with refusals beside their
fields, a history naming who changed what, a dry run on a past call, and the JSON view."""

from __future__ import annotations

import html
import json
import re
from typing import Any

from callbridge.ingest import ingest
from callbridge.runtime import Runtime
from callbridge.testing.draining import drain
from callbridge.testing.webhooks import call_sequence, signed
from tests.ui.form_fields import as_data, form_fields, replaced
from tests.ui.ui_client import UiTenant

DRAFT = re.compile(r'<textarea id="matrix"[^>]*>([^<]*)</textarea>')
TABLE = "matrix-table-form"


async def _matrix(tenant: UiTenant) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {tenant.company.api_key}"}
    path = f"/integrations/{tenant.company.integration_id}/matrix"
    shown: dict[str, Any] = (await tenant.client.get(path, headers=headers)).json()
    return shown


def _url(tenant: UiTenant, tail: str = "") -> str:
    return f"/ui/integrations/{tenant.company.integration_id}/matrix{tail}"


async def _table(tenant: UiTenant) -> list[tuple[str, str]]:
    return form_fields((await tenant.client.get(_url(tenant))).text, TABLE)


async def test_the_table_posts_back_the_matrix_unchanged(acme: UiTenant) -> None:
    await acme.sign_in()
    before = (await _matrix(acme))["matrix"]
    saved = await acme.client.post(_url(acme), data=as_data(await _table(acme)))
    assert saved.status_code == 303, saved.text
    after = await _matrix(acme)
    assert after["version"] == 1 and after["matrix"] == before


async def test_a_cell_edited_in_the_table_is_saved_and_the_history_says_who_and_what(
    acme: UiTenant,
) -> None:
    await acme.sign_in()
    fields = await _table(acme)
    assert ("r1-name", "incoming, existing client, answered") in fields
    edited = replaced(fields, {"r1-note_who_answered": None, "r3-create_task-due_in_minutes": "30"})
    assert (await acme.client.post(_url(acme), data=as_data(edited))).status_code == 303
    stored = (await _matrix(acme))["matrix"]["rules"]
    assert [a["type"] for a in stored[1]["actions"]] == ["attach_recording"]
    assert stored[3]["actions"][0]["due_in_minutes"] == 30
    page = html.unescape((await acme.client.get(_url(acme))).text)
    history = page[page.index('id="history"') :]
    assert "saved by admin" in history
    assert "rule “incoming, existing client, answered”: note_who_answered removed" in history
    assert "create_task changed (due_in_minutes)" in history


async def test_a_wrong_cell_is_refused_beside_its_field_and_nothing_is_saved(
    acme: UiTenant,
) -> None:
    await acme.sign_in()
    fields = await _table(acme)
    wrong = replaced(fields, {"r3-create_task-due_in_minutes": "soon"})
    refused = await acme.client.post(_url(acme), data=as_data(wrong))
    assert refused.status_code == 422
    beside = re.search(r'id="r3-create_task-due_in_minutes-error">([^<]*)<', refused.text)
    assert beside and "whole number of minutes" in beside.group(1)
    assert 'aria-describedby="r3-create_task-due_in_minutes-error"' in refused.text
    assert 'value="soon"' in refused.text  # what was typed is kept
    assert (await _matrix(acme))["version"] == 0
    only_to = replaced(fields, {"r1-attach_recording-to": None})
    second = await acme.client.post(_url(acme), data=as_data(only_to))
    assert re.search(r'id="r1-attach_recording-to-error">[^<]*non-empty list', second.text)


async def test_every_refusal_is_shown_beside_its_field_at_once(acme: UiTenant) -> None:
    await acme.sign_in()
    wrong = {
        "r3-create_task-due_in_minutes": "soon",
        "r1-attach_recording-to": None,
        "r0-create_task": "1",
        "r0-create_task-title": " ",
    }
    refused = await acme.client.post(_url(acme), data=as_data(replaced(await _table(acme), wrong)))
    assert refused.status_code == 422
    shown = set(re.findall(r'id="([a-z0-9_-]+)-error"', refused.text))
    assert shown == {
        "r3-create_task-due_in_minutes",
        "r1-attach_recording-to",
        "r0-create_task-title",
    }
    assert (await _matrix(acme))["version"] == 0


async def test_a_rule_is_added_and_removed_in_the_table(acme: UiTenant) -> None:
    await acme.sign_in()
    fields = await _table(acme)
    added = await acme.client.post(_url(acme), data=as_data(replaced(fields, {"do": "add"})))
    assert added.status_code == 200 and 'id="r6-name"' in added.text
    new = replaced(
        form_fields(added.text, TABLE),
        {"r6-name": "outgoing missed", "r6-direction": "outgoing", "r6-outcome": "missed",
         "r6-note_who_answered": "1", "r0-remove": "1", "do": "save"},
    )  # fmt: skip
    assert (await acme.client.post(_url(acme), data=as_data(new))).status_code == 303
    rules = (await _matrix(acme))["matrix"]["rules"]
    assert rules[0]["name"] == "incoming, existing client, answered"
    assert rules[-1] == {
        "name": "outgoing missed",
        "when": {"direction": "outgoing", "outcome": "missed"},
        "actions": [{"type": "note_who_answered"}],
    }


async def _past_call(runtime: Runtime, tenant: UiTenant, call_id: str) -> str:
    for event in call_sequence(call_id, "incoming", "+14155550123", answered=False):
        body, headers = signed(tenant.company.source_secret, event)
        await ingest(runtime, tenant.company.source_id, headers, body)
    await drain(runtime)
    headers = {"Authorization": f"Bearer {tenant.company.api_key}"}
    listed = (await tenant.client.get("/calls", headers=headers)).json()["calls"]
    found: str = next(c["id"] for c in listed if c["provider_call_id"] == call_id)
    return found


async def test_a_dry_run_on_a_past_call_shows_what_the_draft_changes(
    ui_runtime: Runtime, acme: UiTenant
) -> None:
    call_id = await _past_call(ui_runtime, acme, "ui-dry-run")
    await acme.sign_in()
    fields = await _table(acme)
    assert ("call_id", call_id) in fields  # offered among the past calls
    draft = replaced(fields, {"r2-create_task": None})  # incoming, new client, missed
    tried = await acme.client.post(
        _url(acme, "/dry-run"), data=as_data(draft), headers={"HX-Request": "true"}
    )
    assert tried.status_code == 200, tried.text
    shown = html.unescape(tried.text)
    assert shown.lstrip().startswith('<section id="editor"')  # htmx: the editor only
    assert "The draft would do something else with this call." in shown
    assert re.search(r'class="changed">incoming, new client, missed: <strong>create_task', shown)
    assert "not in the draft" in shown
    # The call created its contact: each side's cell is shown, said to be already created.
    assert shown.count("already created (") == 2
    scenario = "incoming, new client, missed, no employee named"  # the key in words
    assert f"Scenario: {scenario}: the call as it stands, classified now by both" in shown
    assert (await _matrix(acme))["version"] == 0  # nothing saved
    same = await acme.client.post(_url(acme, "/dry-run"), data=as_data(fields))
    assert "The draft decides this call as the saved matrix does." in html.unescape(same.text)
    headers = {"Authorization": f"Bearer {acme.company.api_key}"}
    body = {"connector": "local", "name": "Second CRM"}
    second = (await acme.client.post("/integrations", json=body, headers=headers)).json()["id"]
    offered = await acme.client.get(f"/ui/integrations/{second}/matrix")
    assert call_id not in offered.text  # only the integration's own calls are offered
    assert "No call yet" in offered.text


async def test_a_dry_run_needs_a_call_and_a_valid_draft(acme: UiTenant) -> None:
    await acme.sign_in()
    fields = replaced(await _table(acme), {"call_id": None, "r0-create_task": "1",
                                           "r0-create_task-title": " "})  # fmt: skip
    refused = await acme.client.post(_url(acme, "/dry-run"), data=as_data(fields))
    assert refused.status_code == 422
    assert "Choose a past call" in refused.text
    with_call = replaced(fields, {"call_id": "no-such-call"})
    answer = await acme.client.post(_url(acme, "/dry-run"), data=as_data(with_call))
    assert re.search(r'id="r0-create_task-title-error">[^<]*non-empty text', answer.text)


async def test_the_json_view_still_saves_and_refuses(acme: UiTenant) -> None:
    csrf = await acme.sign_in()
    page = await acme.client.get(_url(acme))
    found = DRAFT.search(page.text)
    assert found
    matrix = json.loads(html.unescape(found.group(1)))
    matrix["deal"]["name_template"] = "Appel de {phone}"
    saved = await acme.client.post(_url(acme), data={"csrf": csrf, "matrix": json.dumps(matrix)})
    assert saved.status_code == 303, saved.text
    stored = await _matrix(acme)
    assert stored["version"] == 1
    assert stored["matrix"]["deal"]["name_template"] == "Appel de {phone}"
    not_json = await acme.client.post(_url(acme), data={"csrf": csrf, "matrix": "{nope"})
    assert not_json.status_code == 422 and "not JSON" in not_json.text
    bad = {"rules": [{"name": "x", "when": {"direction": "sideways"}, "actions": []}]}
    refused = await acme.client.post(_url(acme), data={"csrf": csrf, "matrix": json.dumps(bad)})
    assert refused.status_code == 422
    assert "rules.0.when.direction" in refused.text
    assert "sideways" in refused.text  # the typed draft is kept
    assert (await _matrix(acme))["version"] == 1


async def test_another_companys_matrix_is_not_found(acme: UiTenant, globex: UiTenant) -> None:
    csrf = await acme.sign_in()
    url = _url(globex)
    assert (await acme.client.get(url)).status_code == 404
    posted = await acme.client.post(url, data={"csrf": csrf, "matrix": "{}"})
    assert posted.status_code == 404
    tried = await acme.client.post(
        url + "/dry-run", data={"csrf": csrf, "rows": "0", "call_id": "x"}
    )
    assert tried.status_code == 404
    assert (await _matrix(globex))["version"] == 0


async def test_the_json_view_tries_its_draft_too(ui_runtime: Runtime, acme: UiTenant) -> None:
    call_id = await _past_call(ui_runtime, acme, "ui-json-dry-run")
    csrf = await acme.sign_in()
    page = await acme.client.get(_url(acme))
    found = DRAFT.search(page.text)
    assert found
    matrix = json.loads(html.unescape(found.group(1)))
    matrix["rules"][2]["actions"] = [{"type": "create_contact", "mode": "follow"}]
    data = {"csrf": csrf, "matrix": json.dumps(matrix), "call_id": call_id}
    tried = html.unescape((await acme.client.post(_url(acme, "/dry-run"), data=data)).text)
    assert "The draft would do something else with this call." in tried
    assert '"mode": "follow"}]' in tried  # the JSON typed is kept, the details open
    assert '<details id="advanced" open>' in tried
    assert (await _matrix(acme))["version"] == 0


async def test_the_history_shows_a_page_of_versions_at_a_time(acme: UiTenant) -> None:
    headers = {"Authorization": f"Bearer {acme.company.api_key}"}
    path = f"/integrations/{acme.company.integration_id}/matrix"
    for due in range(1, 13):
        matrix = (await _matrix(acme))["matrix"]
        matrix["rules"][3]["actions"][0]["due_in_minutes"] = due
        assert (await acme.client.put(path, json=matrix, headers=headers)).status_code == 200
    await acme.sign_in()
    newest = html.unescape((await acme.client.get(_url(acme))).text)
    history = newest[newest.index('id="history"') :]
    assert re.findall(r"<strong>version (\d+)</strong>", history) == [
        str(v) for v in range(12, 2, -1)
    ]
    assert "the default matrix" not in history and "Newest versions" not in history
    older = re.search(r'formaction="([^"]+)" name="versions_before" value="(\d+)">Older', history)
    assert older and older.groups() == (_url(acme, "/draft#history"), "3")
    oldest = html.unescape((await acme.client.get(_url(acme) + "?versions_before=3")).text)
    rest = oldest[oldest.index('id="history"') :]
    assert re.findall(r"<strong>version (\d+)</strong>", rest) == ["2", "1"]
    assert "the default matrix" in rest and "Newest versions" in rest
    assert "Older versions" not in rest
