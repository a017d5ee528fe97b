"""The matrix validator names every problem: k independent defects in a valid matrix, k problems.

A defect is independent of another when it sits in another field: each "site" below (a setting,
a rule's condition field, a whole action, ...) gets at most one defect, drawn from the defects
that site can have, and the validator must name exactly those sites' paths, each once.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callbridge.errors import MatrixError
from callbridge.rules.default_matrix import DEFAULT_MATRIX_JSON
from callbridge.rules.matrix import parse_matrix

#: A defect: the path it makes wrong (relative to its site) and how it breaks the JSON there.
Defect = tuple[str, Callable[[dict[str, Any]], None]]
CONDITIONS = ("direction", "client", "outcome", "employee")
#: A value no field of a matrix accepts where a parameter is expected.
BAD_PARAMETERS = {
    "mode": "sometimes",
    "owner": "intern",
    "assignee": "intern",
    "to": ["invoice"],
    "due_in_minutes": -5,
    "title": "",
    "body": 42,
}


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda obj: obj.__setitem__(key, value)


def _sites(matrix: dict[str, Any]) -> list[tuple[str, list[Defect]]]:
    """Return each independent site of ``matrix`` with the defects it can be given."""
    sites: list[tuple[str, list[Defect]]] = [
        ("", [("colour", _set("colour", "red"))]),
        ("", [("voicemail_is_missed", _set("voicemail_is_missed", "yes"))]),
    ]
    for key, bad in (("pipeline", 7), ("stage", ["won"]), ("name_template", 1.5)):
        sites.append(("deal", [(f"deal.{key}", _set(key, bad))]))
    flag = "create_for_existing_without_open_deal"
    sites.append(("deal", [(f"deal.{flag}", _set(flag, "no"))]))
    for i, rule in enumerate(matrix["rules"]):
        sites.append((f"rules.{i}", [(f"rules.{i}.colour", _set("colour", "red"))]))
        for key in CONDITIONS:
            sites.append((f"rules.{i}.when", [(f"rules.{i}.when.{key}", _set(key, "sunny"))]))
        sites.append((f"rules.{i}.when", [(f"rules.{i}.when.weather", _set("weather", "x"))]))
        for j, action in enumerate(rule["actions"]):
            at = f"rules.{i}.actions.{j}"
            defects: list[Defect] = [
                (f"{at}.type", _set("type", "send_fax")),
                (f"{at}.fax_number", _set("fax_number", "+1")),
            ]
            defects += [
                (f"{at}.{key}", _set(key, BAD_PARAMETERS[key]))
                for key in action
                if key in BAD_PARAMETERS
            ]
            sites.append((at, defects))
    return sites


def _at(matrix: dict[str, Any], where: str) -> dict[str, Any]:
    """Return the object at a dotted path of the matrix."""
    obj: Any = matrix
    for part in filter(None, where.split(".")):
        obj = obj[int(part)] if part.isdigit() else obj.setdefault(part, {})
    assert isinstance(obj, dict)
    return obj


@st.composite
def defective(draw: st.DrawFn) -> tuple[dict[str, Any], list[str]]:
    """Draw a valid matrix (rules of the default one) and k independent defects injected in it."""
    rules = draw(st.lists(st.sampled_from(DEFAULT_MATRIX_JSON["rules"]), max_size=6))
    # Each rule copied on its own: a rule drawn twice must not be one object (deepcopy's memo).
    matrix = {**copy.deepcopy(DEFAULT_MATRIX_JSON), "rules": [copy.deepcopy(r) for r in rules]}
    parse_matrix(matrix)  # valid before the defects
    sites = _sites(matrix)
    chosen = draw(st.lists(st.sampled_from(range(len(sites))), unique=True, min_size=1))
    paths = []
    for index in chosen:
        where, defects = sites[index]
        path, breaks = draw(st.sampled_from(defects))
        breaks(_at(matrix, where))
        paths.append(path)
    return matrix, paths


@settings(max_examples=200)
@given(defective())
def test_k_independent_defects_are_k_problems_each_naming_its_field(
    case: tuple[dict[str, Any], list[str]],
) -> None:
    matrix, paths = case
    with pytest.raises(MatrixError) as caught:
        parse_matrix(matrix)
    named = [path for path, _ in caught.value.problems]
    assert sorted(named) == sorted(paths)
    assert (caught.value.path, caught.value.problem) == caught.value.problems[0]


def test_a_defect_inside_what_cannot_be_read_is_not_reported_twice() -> None:
    matrix = copy.deepcopy(DEFAULT_MATRIX_JSON)
    matrix["rules"][0]["actions"][0] = {"type": "send_fax", "due_in_minutes": "soon"}
    matrix["rules"][1]["actions"] = "all"
    matrix["deal"] = []
    with pytest.raises(MatrixError) as caught:
        parse_matrix(matrix)
    assert [path for path, _ in caught.value.problems] == [
        "rules.0.actions.0.type",
        "rules.1.actions",
        "deal",
    ]
    assert str(caught.value).endswith("(and 2 more problems)")
