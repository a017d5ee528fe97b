"""A call event: one thing a telephony platform told us about one call."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class EventKind(StrEnum):
    """What an event says happened to the call."""

    RINGING = "call.ringing"
    ANSWERED = "call.answered"
    ENDED = "call.ended"
    MISSED = "call.missed"
    VOICEMAIL = "call.voicemail"
    RECORDING = "call.recording"
    UPDATED = "call.updated"


class Direction(StrEnum):
    """Who called whom, seen from the company."""

    INCOMING = "incoming"
    OUTGOING = "outgoing"
    INTERNAL = "internal"


@dataclass(frozen=True)
class Agent:
    """The employee on the company side of a call, as the telephony platform names them."""

    id: str | None = None
    email: str | None = None
    extension: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class Utm:
    """Marketing source of a call, from call tracking."""

    source: str | None = None
    medium: str | None = None
    campaign: str | None = None
    term: str | None = None
    content: str | None = None
    tracking_number: str | None = None


@dataclass(frozen=True)
class CallEvent:
    """One event of one call, as parsed from a telephony webhook; numbers are still raw."""

    event_id: str
    call_id: str
    kind: EventKind
    occurred_at: datetime
    direction: Direction | None = None
    from_number: str | None = None
    to_number: str | None = None
    agent: Agent | None = None
    started_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    duration: int | None = None
    recording_url: str | None = None
    notes: str | None = None
    tags: tuple[str, ...] = ()
    disposition: str | None = None
    utm: Utm | None = None
    crm_record_id: str | None = None
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
