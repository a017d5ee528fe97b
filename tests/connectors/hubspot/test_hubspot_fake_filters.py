"""The HubSpot fake's search filters keep the relations HubSpot's operators have among themselves.

Generated stored values (missing, empty, mixed case, several tokens) and filter values: each
negated operator is the complement of its positive one, EQ ignores case, GTE is GT or EQ, LTE is
LT or EQ, and an OR of groups matches what one of its groups matches. A broken operator in the
fake would make the connector's tests pass against a CRM that does not exist.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from callbridge.connectors.hubspot.fake.search import _matches, _test

_WORDS = st.sampled_from(["ann", "Ann", "bob", "+33612345678", "33612345678", "a*", "", "zed"])
_VALUES = st.one_of(st.none(), _WORDS, st.lists(_WORDS, min_size=2, max_size=3).map(" ".join))
_PROPS = st.fixed_dictionaries({}, optional={"phone": _VALUES, "name": _VALUES})


def _filter(operator: str, value: str = "", values: list[str] | None = None) -> dict[str, Any]:
    rule: dict[str, Any] = {"propertyName": "phone", "operator": operator, "value": value}
    if values is not None:
        rule["values"] = values
    return rule


def _stored(props: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if v is not None}


@settings(max_examples=300)
@given(props=_PROPS, value=_WORDS, values=st.lists(_WORDS, max_size=3))
def test_each_negation_is_the_complement_of_its_operator(
    props: dict[str, Any], value: str, values: list[str]
) -> None:
    """NEQ, NOT_IN, NOT_HAS_PROPERTY and NOT_CONTAINS_TOKEN answer the opposite of their pairs,
    on a stored value or a missing one (HubSpot's negations match an object without it)."""
    stored = _stored(props)
    pairs = [
        ("EQ", "NEQ"),
        ("HAS_PROPERTY", "NOT_HAS_PROPERTY"),
        ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"),
    ]
    if stored.get("phone"):  # EQ needs a value; NEQ of a missing one compares an empty text
        for positive, negative in pairs:
            said = _test(stored, _filter(positive, value))
            assert said != _test(stored, _filter(negative, value))
    assert _test(stored, _filter("IN", values=values)) != _test(
        stored, _filter("NOT_IN", values=values)
    )
    assert _test(stored, _filter("HAS_PROPERTY")) == bool(stored.get("phone"))


@settings(max_examples=300)
@given(props=_PROPS, value=_WORDS)
def test_eq_ignores_case_and_ranges_agree(props: dict[str, Any], value: str) -> None:
    """EQ compares without case; GTE is GT or EQ, LTE is LT or EQ; nothing matches a missing
    value but the negations."""
    stored = _stored(props)
    assert _test(stored, _filter("EQ", value)) == _test(stored, _filter("EQ", value.upper()))
    eq, gt, lt = (_test(stored, _filter(op, value)) for op in ("EQ", "GT", "LT"))
    assert _test(stored, _filter("GTE", value)) == (gt or eq)
    assert _test(stored, _filter("LTE", value)) == (lt or eq)
    if "phone" not in stored:
        assert not any(_test(stored, _filter(op, value)) for op in ("EQ", "GT", "GTE", "LT"))
    else:
        assert sum([eq, gt, lt]) == 1  # exactly one of them, as for any two texts


@settings(max_examples=300)
@given(
    props=_PROPS,
    groups=st.lists(
        st.lists(
            st.builds(
                _filter,
                st.sampled_from(["EQ", "NEQ", "HAS_PROPERTY", "CONTAINS_TOKEN", "GTE"]),
                _WORDS,
            ),
            min_size=1,
            max_size=3,
        ),
        max_size=3,
    ),
    archived=st.booleans(),
)
def test_groups_are_an_or_of_ands(
    props: dict[str, Any], groups: list[list[dict[str, Any]]], archived: bool
) -> None:
    """An object matches when every filter of one group matches; no group matches everything;
    an archived object matches nothing."""
    stored: dict[str, Any] = {"id": "1", "properties": _stored(props), "archived": archived}
    wanted = [{"filters": filters} for filters in groups]
    expected = not groups or any(all(_test(stored["properties"], f) for f in g) for g in groups)
    assert _matches(stored, wanted) == (expected and not archived)
