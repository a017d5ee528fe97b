"""The matrix screen without JavaScript: searching past calls, paging them and paging the history
are buttons of the draft's form, posted to …/matrix/draft, which shows the page again with the
draft kept (table or JSON) and saves nothing."""

from __future__ import annotations

import html
import json
import re

import pytest

from callbridge.runtime import Runtime
from callbridge.ui import matrix as screen
from tests.ui.form_fields import as_data, form_fields, replaced
from tests.ui.test_matrix_past_calls import COMPANY, NUMBERS, _calls, _offered
from tests.ui.test_matrix_ui import DRAFT, TABLE, _matrix, _url
from tests.ui.ui_client import UiTenant

DUE = "r3-create_task-due_in_minutes"
JSON_OPTION = re.compile(r'<select id="json-call_id"[^>]*>(.*?)</select>', re.S)


def _button(page: str, name: str, value: str, form: str | None = None) -> str:
    """Return the ``formaction`` of the page's submit button posting ``name=value``."""
    owner = f' form="{form}"' if form else ""
    found = re.search(
        rf'<button type="submit"{owner} formaction="([^"]+)" name="{name}" value="{value}"'
        rf'|<button type="submit" name="{name}" value="{value}" formaction="([^"]+)"',
        page,
    )
    assert found, f"no button {name}={value} ({form})"
    return html.unescape(found.group(1) or found.group(2))


async def _draft_of(tenant: UiTenant) -> tuple[str, list[tuple[str, str]]]:
    """Open the matrix page; return it and its table form with a cell changed (not saved)."""
    page = (await tenant.client.get(_url(tenant))).text
    return page, replaced(form_fields(page, TABLE), {DUE: "47", "r2-create_task": None})


@pytest.mark.parametrize("typed", ["+3361", "+33 7", "+1415", "+999"])
async def test_a_search_keeps_the_table_draft_and_saves_nothing(
    ui_runtime: Runtime, acme: UiTenant, typed: str
) -> None:
    await _calls(ui_runtime, acme)
    await acme.sign_in()
    page, draft = await _draft_of(acme)
    action = _button(page, "do", "search")
    assert action == _url(acme, "/draft")
    assert page.index(f'formaction="{action}" hidden') < page.index(f'name="{DUE}"'), (
        "the table form's first button, its default on Enter, searches: Enter never saves"
    )
    searched = replaced(draft, {"do": "search", "number": typed})
    answer = await acme.client.post(action, data=as_data(searched))
    assert answer.status_code == 200, answer.text
    kept = dict(form_fields(answer.text, TABLE))
    assert kept[DUE] == "47" and "r2-create_task" not in kept, "the draft is kept"
    prefix = typed.replace(" ", "")
    wanted = {n for n in NUMBERS if n.startswith(prefix) or COMPANY.startswith(prefix)}
    offered = {n for numbers in _offered(answer.text).values() for n in numbers if n in NUMBERS}
    assert offered == wanted
    assert kept["past-number"] == prefix and kept["number"] == prefix
    assert (await _matrix(acme))["version"] == 0, "nothing saved"


async def test_the_past_calls_page_on_with_the_draft_kept(
    ui_runtime: Runtime, acme: UiTenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(screen, "PAST_CALLS", 1)
    await _calls(ui_runtime, acme)
    await acme.sign_in()
    page, draft = await _draft_of(acme)
    seen: list[str] = list(_offered(page))
    for _ in range(len(NUMBERS) - 1):
        cursor = re.search(r'name="past-page-after" value="([^"]+)"', page)
        assert cursor, "an Older calls button while calls are left"
        body = replaced(draft, {"past-page-after": html.unescape(cursor.group(1))})
        answer = await acme.client.post(_url(acme, "/draft"), data=as_data(body))
        page = answer.text
        assert dict(form_fields(page, TABLE))[DUE] == "47"
        [call] = _offered(page)
        assert call not in seen
        seen.append(call)
        draft = replaced(form_fields(page, TABLE), {})
    assert 'name="past-page-after"' not in page and 'name="past-page-before"' in page


async def test_the_history_pages_keep_the_draft(acme: UiTenant) -> None:
    headers = {"Authorization": f"Bearer {acme.company.api_key}"}
    path = f"/integrations/{acme.company.integration_id}/matrix"
    for due in range(1, 13):
        matrix = (await _matrix(acme))["matrix"]
        matrix["rules"][3]["actions"][0]["due_in_minutes"] = due
        assert (await acme.client.put(path, json=matrix, headers=headers)).status_code == 200
    await acme.sign_in()
    page, draft = await _draft_of(acme)
    action = _button(page, "versions_before", "3", form=TABLE)
    assert action == _url(acme, "/draft#history")
    older = await acme.client.post(
        action.split("#")[0], data=as_data([*draft, ("versions_before", "3")])
    )
    assert older.status_code == 200
    history = older.text[older.text.index('id="history"') :]
    assert re.findall(r"<strong>version (\d+)</strong>", history) == ["2", "1"]
    assert dict(form_fields(older.text, TABLE))[DUE] == "47", "the draft is kept"
    back = _button(older.text, "versions_before", "", form=TABLE)
    newest = await acme.client.post(
        back.split("#")[0], data=as_data([*draft, ("versions_before", "")])
    )
    assert re.findall(r"<strong>version (\d+)</strong>", newest.text)[0] == "12"
    assert (await _matrix(acme))["version"] == 12, "nothing saved"


async def test_the_json_view_searches_past_calls_and_keeps_its_draft(
    ui_runtime: Runtime, acme: UiTenant
) -> None:
    await _calls(ui_runtime, acme)
    await acme.sign_in()
    page = (await acme.client.get(_url(acme))).text
    fields = form_fields(page, "matrix-json-form")
    assert "number" in dict(fields), "the JSON view has the number search too"
    typed = json.loads(html.unescape(DRAFT.search(page).group(1)))  # type: ignore[union-attr]
    typed["voicemail_is_missed"] = not typed.get("voicemail_is_missed", False)
    draft = json.dumps(typed, indent=1)
    body = replaced(fields, {"matrix": draft, "number": "+337", "do": "search"})
    answer = await acme.client.post(_url(acme, "/draft"), data=as_data(body))
    assert answer.status_code == 200, answer.text
    assert '<details id="advanced" open>' in answer.text
    assert html.unescape(DRAFT.search(answer.text).group(1)) == draft  # type: ignore[union-attr]
    [options] = JSON_OPTION.findall(answer.text)
    assert "+33700000001" in options and "+336" not in options and "+1415555012" not in options
    nothing = replaced(body, {"number": "+999"})
    empty = await acme.client.post(_url(acme, "/draft"), data=as_data(nothing))
    assert "No call matches this number" in JSON_OPTION.findall(empty.text)[0]
    assert (await _matrix(acme))["version"] == 0


async def test_a_forged_or_foreign_draft_post_is_refused(acme: UiTenant, globex: UiTenant) -> None:
    await acme.sign_in()
    _page, draft = await _draft_of(acme)
    forged = await acme.client.post(
        _url(acme, "/draft"), data=as_data(replaced(draft, {"csrf": "x"}))
    )
    assert forged.status_code == 403
    foreign = await acme.client.post(_url(globex, "/draft"), data=as_data(draft))
    assert foreign.status_code == 404
