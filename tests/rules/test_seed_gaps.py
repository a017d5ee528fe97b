"""Issue 14's pure rules: who owns a new client's contact, and when a sync waits for a choice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callbridge.rules import agent_choice
from callbridge.rules.matrix import Action, ActionType, Assignee
from callbridge.rules.plan import Step, contact_owner

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)

OWNERS = st.none() | st.sampled_from(Assignee)
ACTIONS = st.builds(
    Action,
    st.sampled_from(ActionType),
    owner=OWNERS,
    assignee=st.sampled_from(Assignee),
)
STEPS = st.lists(st.tuples(ACTIONS, st.none() | st.just("the CRM cannot do this")), max_size=6).map(
    lambda items: [Step("rule", i, action, skip) for i, (action, skip) in enumerate(items)]
)


@settings(max_examples=300)
@given(steps=STEPS)
def test_the_contact_goes_to_whoever_the_plan_gives_the_deal(steps: list[Step]) -> None:
    deals = [s for s in steps if s.action.type is ActionType.CREATE_DEAL]
    owner = contact_owner(steps)
    if not deals:
        assert owner is None
    elif deals[0].action.owner is Assignee.RESPONSIBLE:
        assert owner is None  # a new client has no responsible manager yet
    else:
        assert owner is deals[0].action.owner  # the deal's owner, skipped deal or not


def test_the_default_matrix_gives_the_agent_or_the_top_manager_the_contact() -> None:
    answered = [Step("r", 0, Action(ActionType.CREATE_DEAL, owner=Assignee.AGENT))]
    missed = [
        Step("r", 0, Action(ActionType.CREATE_DEAL, owner=Assignee.TOP_MANAGER)),
        Step("r", 1, Action(ActionType.CREATE_TASK, assignee=Assignee.TOP_MANAGER)),
    ]
    assert contact_owner(answered) is Assignee.AGENT
    assert contact_owner(missed) is Assignee.TOP_MANAGER


@settings(max_examples=300)
@given(
    left=st.none() | st.floats(min_value=-3600, max_value=3600, allow_nan=False),
    undecided=st.booleans(),
    matches=st.integers(min_value=0, max_value=6),
)
def test_a_sync_waits_only_for_a_choice_to_make_inside_the_window(
    left: float | None, undecided: bool, matches: int
) -> None:
    until = None if left is None else T0 + timedelta(seconds=left)
    wait = agent_choice.wait_for_choice(until, T0, undecided, matches)
    if until is None or not undecided or matches < 2 or left is None or left <= 0:
        assert wait == 0.0
    else:
        # until the window's end (timedelta keeps microseconds), never longer
        assert wait == pytest.approx(left, abs=1e-6)
