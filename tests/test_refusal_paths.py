"""A validator's JSON path becomes a 422's ``loc`` whatever the keys it names."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from callbridge.web.refusals import loc_of

KEYS = st.text(max_size=12)
STEPS = st.one_of(KEYS.map(lambda k: f".{k}"), st.integers(0, 10_000).map(lambda i: f"[{i}]"))


@settings(max_examples=500)
@given(st.lists(STEPS, max_size=6))
def test_any_path_splits_without_error(steps: list[str]) -> None:
    parts = loc_of("$" + "".join(steps))
    assert all(isinstance(p, str) or p >= 0 for p in parts)


@settings(max_examples=200)
@given(st.lists(st.integers(0, 10_000), min_size=1, max_size=4), st.text("abc_", min_size=1))
def test_indexes_become_ints_and_names_stay_names(indexes: list[int], name: str) -> None:
    path = "$." + name + "".join(f"[{i}]" for i in indexes)
    assert loc_of(path) == [name, *indexes]


def test_a_superscript_digit_key_stays_a_name() -> None:
    assert loc_of("$.¹") == ["¹"]  # the key a fuzzer sent: int("¹") raised, a 500
