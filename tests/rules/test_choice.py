"""The agent's choice of records: one per object type, gating, grace window, intent binding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from callbridge.domain.record import CrmRecord, ObjectType
from callbridge.errors import ChoiceConflict
from callbridge.rules import agent_choice
from callbridge.rules.agent_choice import Choice

C, L, A = ObjectType.CONTACT, ObjectType.LEAD, ObjectType.ACCOUNT
T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
RECORDS = {
    "i1": [CrmRecord("c1", C, "Jane"), CrmRecord("c2", C, "Jane (old)"), CrmRecord("l1", L, "J")],
    "i2": [CrmRecord("c9", C, "Jane in CRM 2")],
}


@pytest.mark.parametrize(
    ("picked", "kept"),
    [
        ([("i1", "c1")], ["c1"]),
        ([("i1", "c1"), ("i1", "l1")], ["c1", "l1"]),  # a contact and a lead
        ([("i1", "c1"), ("i2", "c9")], ["c1", "c9"]),  # one contact in each CRM
        ([("i1", "c1"), ("i1", "c1")], ["c1"]),  # a repeat is not a conflict
    ],
)
def test_valid_choices_are_kept_in_order(picked: list[tuple[str, str]], kept: list[str]) -> None:
    assert [c.record_id for c in agent_choice.resolve(picked, RECORDS)] == kept


@pytest.mark.parametrize(
    ("picked", "field", "words"),
    [
        ([("i1", "c1"), ("i1", "c2")], "choices[1]", "two contact records"),
        ([("i1", "l1"), ("i1", "c1"), ("i1", "c2")], "choices[2]", "choices[1]"),
        ([("i1", "nope")], "choices[0].record_id", "not a record"),
        ([("i2", "c1")], "choices[0].record_id", "integration i2"),
    ],
)
def test_invalid_choices_name_the_field(
    picked: list[tuple[str, str]], field: str, words: str
) -> None:
    with pytest.raises(ChoiceConflict) as raised:
        agent_choice.resolve(picked, RECORDS)
    assert raised.value.field == field
    assert words in str(raised.value)


@pytest.mark.parametrize(
    ("permissions", "option", "missing"),
    [
        (["is_multicrm_sync"], True, None),
        (None, True, None),  # an admin needs no team permission
        ([], True, "is_multicrm_sync"),
        (["other"], True, "is_multicrm_sync"),
        (["is_multicrm_sync"], False, "select_contact_manually"),
        (None, False, "select_contact_manually"),
    ],
)
def test_gate_says_which_condition_is_missing(
    permissions: list[str] | None, option: bool, missing: str | None
) -> None:
    reason = agent_choice.gate(permissions, option)
    assert (reason is None) if missing is None else (missing in str(reason))


@pytest.mark.parametrize(
    ("enabled", "decided", "config", "delay"),
    [
        (True, False, {}, 60.0),
        (True, False, {"selection_grace_seconds": 5}, 5.0),
        (True, True, {}, 0.0),  # already chosen: no reason to wait
        (False, False, {}, 0.0),
        (True, False, {"selection_grace_seconds": "x"}, 60.0),
    ],
)
def test_the_grace_window_is_open_only_while_undecided(
    enabled: bool, decided: bool, config: dict[str, object], delay: float
) -> None:
    assert agent_choice.choice_window(enabled, decided, config) == delay


W = timedelta(seconds=120)


@pytest.mark.parametrize(
    ("intent_call", "started", "call_id", "bound"),
    [
        ("p-1", T0, "p-1", True),
        ("p-1", T0, "p-2", False),
        (None, T0 + timedelta(seconds=30), "p-2", True),
        (None, T0 + timedelta(seconds=121), "p-2", False),  # outside the window
        (None, T0 - timedelta(minutes=5), "p-2", False),  # a call from before the intent
        (None, None, "p-2", False),
    ],
)
def test_an_intent_binds_to_its_call_or_the_next_one_in_the_window(
    intent_call: str | None, started: datetime | None, call_id: str, bound: bool
) -> None:
    assert agent_choice.binds(intent_call, T0, W, call_id, started) is bound


def test_stale_records_are_those_no_longer_chosen() -> None:
    targets = agent_choice.as_records([Choice("i1", "l1", L)], RECORDS["i1"])
    assert targets[0].name == "J"
    assert agent_choice.stale(["c1", "l1"], targets) == ["c1"]


def test_candidates_group_by_object_type_in_the_rules_order() -> None:
    pairs = [("i1", r) for r in RECORDS["i1"]] + [("i2", CrmRecord("a1", A, "ACME"))]
    groups = agent_choice.group(pairs)
    assert list(groups) == ["contact", "lead", "account"]
    assert len(groups["contact"]) == 2
    assert list(agent_choice.group(pairs, L)) == ["lead"]


@pytest.mark.parametrize(
    ("how", "who", "text"),
    [
        ("pre-call", "Ann", "pre-call: chosen by Ann before dialling"),
        ("in-call", None, "in-call: chosen during or after the call"),
        ("click-to-dial", "Ann", "click-to-dial: the record the call was placed from by Ann"),
    ],
)
def test_rule_says_who_chose_and_how(how: str, who: str | None, text: str) -> None:
    assert agent_choice.rule(how, who) == text
