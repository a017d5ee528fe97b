"""A page's syncs and links are grouped by call in one pass, exactly as filtering per call did."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from callbridge.storage.call_pages import by_call

rows = st.lists(
    st.fixed_dictionaries({"call_id": st.sampled_from(["a", "b", "c"]), "n": st.integers()}),
    max_size=30,
)


@given(rows)
def test_grouping_by_call_keeps_each_calls_rows_in_order(found: list[dict[str, Any]]) -> None:
    grouped = by_call(found)
    for call_id in ("a", "b", "c", "absent"):
        expected = [row for row in found if row["call_id"] == call_id]
        assert grouped.get(call_id, []) == expected
    assert sum(len(group) for group in grouped.values()) == len(found)
