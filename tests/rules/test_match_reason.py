"""Why a call's log went where it did: each code's English text, stored and read back."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callbridge.rules.match_reason import (
    AUTOMATIC_RULE,
    BY_NUMBER,
    BY_SOMEONE,
    NOT_IN_CRM,
    MatchReason,
    Why,
    loaded,
)

#: The English the API said before the codes existed: the answer must not change.
ENGLISH = {
    MatchReason(Why.NO_MATCH): "no record matches the number",
    MatchReason(Why.ONLY_MATCH): "the only record matching the number",
    MatchReason(Why.AUTOMATIC): AUTOMATIC_RULE,
    MatchReason(Why.KEPT): "kept: the records this call was already logged on",
    MatchReason(Why.CREATED): "created a contact for the unknown caller",
    MatchReason(Why.CREATED_EARLIER): (
        "the contact Callbridge created for an earlier call from this number"
    ),
    MatchReason(Why.CLICK_TO_DIAL): "click-to-dial: the record the call was placed from",
    MatchReason(Why.CLICK_TO_DIAL, "Ann"): (
        "click-to-dial: the record the call was placed from by Ann"
    ),
    MatchReason(Why.PRE_CALL, "Ann"): "pre-call: chosen by Ann before dialling",
    MatchReason(Why.IN_CALL): "in-call: chosen during or after the call",
    MatchReason(Why.CHOSEN, "Bo"): "chosen by Bo",
    MatchReason(Why.CHOSEN_NOT_IN_CRM, records=("c9",), then=Why.ONLY_MATCH): (
        "chosen record c9 is not in this CRM (deleted, or never one of its records): "
        "the only record matching the number"
    ),
    MatchReason(Why.CLICKED_NOT_IN_CRM, records=("a", "b"), then=Why.AUTOMATIC): (
        "click-to-dial record a, b is not in this CRM (deleted, or never one of its records): "
        + AUTOMATIC_RULE
    ),
}


def test_every_code_has_its_english_text() -> None:
    assert {reason.code for reason in ENGLISH} == set(Why)
    for reason, text in ENGLISH.items():
        assert reason.text == text


def reasons() -> st.SearchStrategy[MatchReason]:
    """Any reason the sync can store: every code, with who chose or the records it lacks."""
    who = st.none() | st.text(min_size=1, max_size=30)
    ids = st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=3).map(tuple)

    def build(code: Why, name: str | None, records: tuple[str, ...], then: Why) -> MatchReason:
        if code in NOT_IN_CRM:
            return MatchReason(code, records=records, then=then)
        return MatchReason(code, who=name if code in BY_SOMEONE else None)

    return st.builds(build, st.sampled_from(Why), who, ids, st.sampled_from(BY_NUMBER))


@settings(max_examples=200)
@given(reasons())
def test_a_stored_reason_reads_back_the_same(reason: MatchReason) -> None:
    assert loaded(reason.stored()) == reason


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)


@settings(max_examples=300)
@given(st.dictionaries(st.sampled_from(["code", "who", "records", "then"]), JSON) | JSON)
def test_anything_stored_reads_as_a_reason_or_none(stored: object) -> None:
    read = loaded(stored)
    assert read is None or isinstance(read.text, str)


@pytest.mark.parametrize(
    "stored", [None, {}, {"code": "renamed"}, {"code": "automatic", "then": "kept"}]
)
def test_an_unknown_or_malformed_reason_is_none(stored: object) -> None:
    assert loaded(stored) is None
