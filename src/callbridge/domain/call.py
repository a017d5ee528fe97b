"""A call: the monotonic state folded from all of its events, in whatever order they came."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from callbridge.domain.event import Agent, CallEvent, Direction, EventKind, Utm


class CallState(StrEnum):
    """Where a call stands; ringing → answered → ended, or ringing → missed / voicemail."""

    RINGING = "ringing"
    ANSWERED = "answered"
    ENDED = "ended"
    MISSED = "missed"
    VOICEMAIL = "voicemail"


FINAL_STATES = frozenset({CallState.ENDED, CallState.MISSED, CallState.VOICEMAIL})


class CallType(StrEnum):
    """The call types the contact creation policy speaks of (docs/behaviour.md#contact-creation)."""

    INCOMING = "incoming"
    OUTGOING = "outgoing"
    MISSED = "missed"
    ANSWERED = "answered"


_FINAL_KINDS = frozenset({EventKind.ENDED, EventKind.MISSED, EventKind.VOICEMAIL})
# Facts are folded in this order when two events share a timestamp, so the result never depends
# on the order of delivery.
_KIND_ORDER = {kind: rank for rank, kind in enumerate(EventKind)}


@dataclass(frozen=True)
class Call:
    """The folded state of one call."""

    call_id: str
    state: CallState
    direction: Direction | None
    from_number: str | None
    to_number: str | None
    agent: Agent | None
    started_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    duration: int | None
    recording_url: str | None
    notes: str | None
    tags: tuple[str, ...]
    disposition: str | None
    utm: Utm | None
    crm_record_id: str | None
    event_ids: frozenset[str]

    @property
    def is_final(self) -> bool:
        """Tell whether the call is over, so it can be decided on."""
        return self.state in FINAL_STATES

    @property
    def was_answered(self) -> bool:
        """Tell whether a conversation took place."""
        return self.answered_at is not None or self.state in (CallState.ANSWERED, CallState.ENDED)

    @property
    def external_number(self) -> str | None:
        """Return the raw number of the party outside the company."""
        if self.direction is Direction.OUTGOING:
            return self.to_number
        if self.direction is Direction.INCOMING:
            return self.from_number
        return None

    def call_types(self) -> frozenset[CallType]:
        """Return the creation policy's call types of this call (none for internal calls)."""
        types: set[CallType] = set()
        if self.direction is Direction.INCOMING:
            types.add(CallType.INCOMING)
            if self.is_final and not self.was_answered:
                types.add(CallType.MISSED)
        elif self.direction is Direction.OUTGOING:
            types.add(CallType.OUTGOING)
        else:
            return frozenset()
        if self.is_final and self.was_answered:
            types.add(CallType.ANSWERED)
        return frozenset(types)


def fold(events: Iterable[CallEvent]) -> Call:
    """Fold a call's events into its state; every permutation of them gives the same call."""
    ordered = sorted(events, key=lambda e: (e.occurred_at, _KIND_ORDER[e.kind], e.event_id))
    if not ordered:
        raise ValueError("a call needs at least one event")
    call = _empty(ordered[0].call_id)
    for event in ordered:
        call = _apply(call, event)
    return replace(call, state=_state(call, ordered))


def _empty(call_id: str) -> Call:
    return Call(
        call_id=call_id,
        state=CallState.RINGING,
        direction=None,
        from_number=None,
        to_number=None,
        agent=None,
        started_at=None,
        answered_at=None,
        ended_at=None,
        duration=None,
        recording_url=None,
        notes=None,
        tags=(),
        disposition=None,
        utm=None,
        crm_record_id=None,
        event_ids=frozenset(),
    )


def _apply(call: Call, event: CallEvent) -> Call:
    """Merge one event's facts: later facts win, the earliest start and first parties stay."""
    answered_at = _earliest(call.answered_at, event.answered_at)
    if event.kind is EventKind.ANSWERED:
        answered_at = _earliest(answered_at, event.occurred_at)
    ended_at = event.ended_at or (event.occurred_at if event.kind in _FINAL_KINDS else None)
    return replace(
        call,
        direction=call.direction or event.direction,
        from_number=call.from_number or event.from_number,
        to_number=call.to_number or event.to_number,
        agent=event.agent or call.agent,
        started_at=_earliest(_earliest(call.started_at, event.started_at), _start_of(event)),
        answered_at=answered_at,
        ended_at=_latest(call.ended_at, ended_at),
        duration=event.duration if event.duration is not None else call.duration,
        recording_url=event.recording_url or call.recording_url,
        notes=event.notes if event.notes is not None else call.notes,
        tags=tuple(dict.fromkeys(call.tags + event.tags)),
        disposition=event.disposition or call.disposition,
        utm=event.utm or call.utm,
        crm_record_id=call.crm_record_id or event.crm_record_id,
        event_ids=call.event_ids | {event.event_id},
    )


def _start_of(event: CallEvent) -> datetime | None:
    return event.occurred_at if event.kind is EventKind.RINGING else None


def _state(call: Call, events: list[CallEvent]) -> CallState:
    """Derive the state from the facts seen, never from the order they were seen in."""
    kinds = {event.kind for event in events}
    answered = (
        call.answered_at is not None
        or EventKind.ANSWERED in kinds
        or (EventKind.ENDED in kinds and (call.duration or 0) > 0)
    )
    if kinds & _FINAL_KINDS:
        if answered:
            return CallState.ENDED
        if EventKind.VOICEMAIL in kinds:
            return CallState.VOICEMAIL
        return CallState.MISSED
    return CallState.ANSWERED if answered else CallState.RINGING


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None or b is None:
        return a or b
    return min(a, b)


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None or b is None:
        return a or b
    return max(a, b)
