"""The matrix table posts back the matrix it shows: any valid matrix, rendered by the screen's
template, read as a browser posts it and turned back into JSON, is the same matrix."""

from __future__ import annotations

import string
from types import SimpleNamespace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.datastructures import FormData, UploadFile

from callbridge.rules.matrix import matrix_to_json, parse_matrix
from callbridge.ui import matrix_table as table
from callbridge.ui.i18n import environment
from callbridge.ui.matrix import Draft
from callbridge.ui.past_search import PastSearch
from tests.ui.form_fields import form_fields

_TEXT = st.text(string.ascii_letters + string.digits + " {}_-.,'é", min_size=1, max_size=30).filter(
    lambda t: t.strip() and t == t.strip()
)
_WHO = st.sampled_from(["responsible", "top_manager", "agent"])
_ACTIONS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "create_contact": st.fixed_dictionaries(
        {"mode": st.sampled_from(["follow", "always", "never"])}
    ),
    "create_deal": st.fixed_dictionaries({}, optional={"owner": _WHO}),
    "attach_recording": st.fixed_dictionaries(
        {"to": st.sampled_from([["contact"], ["deal"], ["contact", "deal"], ["deal", "contact"]])}
    ),
    "set_deal_owner": st.fixed_dictionaries({}, optional={"owner": _WHO}),
    "create_task": st.fixed_dictionaries(
        {
            "assignee": _WHO,
            "due_in_minutes": st.integers(0, 525_600),
            "title": _TEXT,
            "body": _TEXT,
        }
    ),
    "note_who_answered": st.just({}),
}
_WHEN = st.fixed_dictionaries(
    {},
    optional={
        "direction": st.sampled_from(["incoming", "outgoing"]),
        "client": st.sampled_from(["new", "existing"]),
        "outcome": st.sampled_from(["answered", "missed"]),
        "employee": st.sampled_from(["known", "unknown", "none"]),
    },
)


@st.composite
def _rules(draw: st.DrawFn) -> dict[str, Any]:
    kinds = draw(st.lists(st.sampled_from(list(_ACTIONS)), unique=True, max_size=6))
    actions = [{"type": kind, **draw(_ACTIONS[kind])} for kind in kinds]
    return {"name": draw(_TEXT), "when": draw(_WHEN), "actions": actions}


_MATRICES = st.fixed_dictionaries(
    {
        "voicemail_is_missed": st.booleans(),
        "deal": st.fixed_dictionaries(
            {
                "name_template": _TEXT,
                "pipeline": st.none() | _TEXT,
                "stage": st.none() | _TEXT,
                "create_for_existing_without_open_deal": st.booleans(),
            }
        ),
        "rules": st.lists(_rules(), max_size=4),
    }
)


def _posted(matrix: dict[str, Any]) -> dict[str, Any]:
    draft = Draft(table.rows_of(matrix), table.settings_of(matrix), "")
    html = (
        environment("en")
        .get_template("matrix_editor.html")
        .render(
            draft=draft,
            integration=SimpleNamespace(id="i"),
            csrf="t",
            columns=table.COLUMNS,
            parameters=table.PARAMETERS,
            conditions=table.CONDITIONS,
            choices=table.CHOICES,
            past=SimpleNamespace(calls=[], older=None, newer=None),
            search=PastSearch(),
            tried=None,
            chosen_call=None,
        )
    )
    fields: list[tuple[str, str | UploadFile]] = list(form_fields(html, "matrix-table-form"))
    form = FormData(fields)
    return table.matrix_of(table.rows_posted(form), table.settings_posted(form))


@settings(max_examples=60)
@given(_MATRICES)
def test_the_table_posts_back_the_matrix_it_shows(matrix: dict[str, Any]) -> None:
    shown = matrix_to_json(parse_matrix(matrix))
    assert matrix_to_json(parse_matrix(_posted(shown))) == shown


def test_a_rule_the_columns_cannot_show_travels_whole() -> None:
    twice = {"name": "two tasks", "when": {}, "actions": [{"type": "create_task"}] * 2}
    shown = matrix_to_json(parse_matrix({"rules": [twice]}))
    assert table.rows_of(shown)[0].raw is not None
    assert _posted(shown) == {**shown, "rules": shown["rules"]}


def test_a_refusal_points_at_the_field_of_its_action() -> None:
    rows = table.rows_of(
        {"rules": [{"name": "r", "when": {}, "actions": [{"type": "note_who_answered"},
                                                          {"type": "create_task"}]}]}
    )  # fmt: skip
    assert table.field_of(["rules", 0, "actions", 1, "title"], rows) == "r0-create_task-title"
    assert table.field_of(["rules", 0, "actions", 0], rows) == "r0-note_who_answered"
    assert table.field_of(["rules", 0, "when", "client"], rows) == "r0-client"
    assert table.field_of(["deal", "pipeline"], rows) == "deal-pipeline"
    assert table.field_of(["rules", 5, "name"], rows) is None
