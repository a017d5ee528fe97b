"""An explanation's code: its English text, what is stored and answered, read back."""

from __future__ import annotations

import copy
import pickle
import string

from hypothesis import given
from hypothesis import strategies as st

from callbridge.domain.said import ENGLISH, Code, Said, code_of, loaded

#: Parameter values: any text, braces and percent signs included.
VALUES = st.text(max_size=30)


def params_of(code: Code) -> list[str]:
    """Return the names of the parameters ``code``'s English text has."""
    return sorted({name for _, name, _, _ in string.Formatter().parse(ENGLISH[code]) if name})


@st.composite
def saids(draw: st.DrawFn) -> Said:
    """Draw any code with values for each of its parameters."""
    code = draw(st.sampled_from(list(Code)))
    return Said(code, **{name: draw(VALUES) for name in params_of(code)})


def test_every_code_has_its_english_text() -> None:
    assert set(ENGLISH) == set(Code)


@given(saids())
def test_the_text_names_every_parameter_and_reads_back(said: Said) -> None:
    for value in said.params.values():
        assert value in said
    assert loaded(said.stored()) == said
    assert loaded(said.stored()).stored() == said.stored()  # type: ignore[union-attr]
    assert code_of(said) == said.stored()


@given(saids())
def test_a_copy_or_a_pickle_keeps_the_code(said: Said) -> None:
    for again in (copy.deepcopy(said), pickle.loads(pickle.dumps(said))):
        assert isinstance(again, Said) and again == said
        assert again.stored() == said.stored()


@given(st.one_of(st.none(), st.text(), st.dictionaries(st.text(), st.text())))
def test_plain_or_unknown_values_have_no_code(value: object) -> None:
    assert code_of(value if isinstance(value, str) else None) is None
    assert loaded(value) is None or (isinstance(value, dict) and value.get("code") in set(Code))


def test_a_code_missing_a_parameter_or_unknown_is_not_read() -> None:
    assert loaded({"code": "policy_matches", "params": {"policy": "all"}}) is None
    assert loaded({"code": "from_a_newer_version", "params": {}}) is None
    assert loaded({"code": "creation_off", "params": ["x"]}) is None
