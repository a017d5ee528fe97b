"""Folding events into a call: order-independent, monotonic, and typed as docs/behaviour.md says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callbridge.domain.call import CallState, CallType, fold
from callbridge.domain.event import Agent, CallEvent, Direction, EventKind

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def ev(kind: EventKind, seconds: int, **fields: Any) -> CallEvent:
    """Build an event of call c1, ``seconds`` after T0."""
    values: dict[str, Any] = {
        "direction": Direction.INCOMING,
        "from_number": "+14155550134",
        "to_number": "+14155550100",
    }
    values.update(fields)
    return CallEvent(
        event_id=f"{kind}-{seconds}",
        call_id="c1",
        kind=kind,
        occurred_at=T0 + timedelta(seconds=seconds),
        **values,
    )


ANSWERED_CALL = [
    ev(EventKind.RINGING, 0),
    ev(EventKind.ANSWERED, 5, agent=Agent(email="ann@example.com")),
    ev(EventKind.ENDED, 65, duration=60),
    ev(EventKind.RECORDING, 95, recording_url="https://rec.example.com/c1.mp3"),
    ev(EventKind.UPDATED, 120, notes="wants a quote", tags=("sales",), disposition="interested"),
]


@given(st.permutations(ANSWERED_CALL))
def test_any_permutation_folds_to_the_same_call(events: list[CallEvent]) -> None:
    assert fold(events) == fold(ANSWERED_CALL)


@given(st.permutations(ANSWERED_CALL), st.integers(min_value=1, max_value=5))
def test_state_never_moves_backwards_as_events_arrive(events: list[CallEvent], cut: int) -> None:
    order = [CallState.RINGING, CallState.ANSWERED, CallState.ENDED]
    before = fold(events[:cut]).state
    after = fold(events).state
    assert order.index(after) >= order.index(before)


def test_full_answered_call() -> None:
    call = fold(ANSWERED_CALL)
    assert call.state is CallState.ENDED
    assert call.started_at == T0
    assert call.answered_at == T0 + timedelta(seconds=5)
    assert call.duration == 60
    assert call.recording_url == "https://rec.example.com/c1.mp3"
    assert (call.notes, call.tags, call.disposition) == ("wants a quote", ("sales",), "interested")
    assert call.agent == Agent(email="ann@example.com")
    assert call.call_types() == {CallType.INCOMING, CallType.ANSWERED}


@pytest.mark.parametrize(
    ("events", "state", "types"),
    [
        ([ev(EventKind.RINGING, 0)], CallState.RINGING, {CallType.INCOMING}),
        (
            [ev(EventKind.RINGING, 0), ev(EventKind.ANSWERED, 3)],
            CallState.ANSWERED,
            {CallType.INCOMING},
        ),
        (
            [ev(EventKind.RINGING, 0), ev(EventKind.MISSED, 20)],
            CallState.MISSED,
            {CallType.INCOMING, CallType.MISSED},
        ),
        ([ev(EventKind.VOICEMAIL, 30)], CallState.VOICEMAIL, {CallType.INCOMING, CallType.MISSED}),
        (
            [ev(EventKind.ENDED, 30, duration=0)],
            CallState.MISSED,
            {CallType.INCOMING, CallType.MISSED},
        ),
        (
            [ev(EventKind.ENDED, 30, duration=12)],
            CallState.ENDED,
            {CallType.INCOMING, CallType.ANSWERED},
        ),
        (
            [ev(EventKind.ENDED, 30, direction=Direction.OUTGOING, duration=9)],
            CallState.ENDED,
            {CallType.OUTGOING, CallType.ANSWERED},
        ),
        (
            [ev(EventKind.MISSED, 30, direction=Direction.OUTGOING)],
            CallState.MISSED,
            {CallType.OUTGOING},
        ),
        (
            [ev(EventKind.ENDED, 30, direction=Direction.INTERNAL, duration=9)],
            CallState.ENDED,
            set(),
        ),
    ],
)
def test_states_and_call_types(
    events: list[CallEvent], state: CallState, types: set[CallType]
) -> None:
    call = fold(events)
    assert call.state is state
    assert call.call_types() == types


def test_a_late_answer_after_a_missed_event_counts_as_answered() -> None:
    call = fold([ev(EventKind.MISSED, 40), ev(EventKind.ANSWERED, 5)])
    assert call.state is CallState.ENDED
    assert call.was_answered


def test_external_number_follows_direction() -> None:
    incoming = fold([ev(EventKind.RINGING, 0)])
    outgoing = fold([ev(EventKind.RINGING, 0, direction=Direction.OUTGOING)])
    assert incoming.external_number == "+14155550134"
    assert outgoing.external_number == "+14155550100"


def test_fold_needs_an_event() -> None:
    with pytest.raises(ValueError, match="at least one event"):
        fold([])
