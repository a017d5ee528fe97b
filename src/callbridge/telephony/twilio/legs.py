"""Twilio's callback parameters, and how each call leg's status becomes an event of ONE call.

Who answered is told by the leg that reached a person, not by every leg:

- an **inbound** parent leg is answered by Twilio itself (TwiML runs), and a parent leg placed
  by the API to an agent (``client:``/``sip:``) is answered by that agent before the customer
  is dialed: their ``in-progress`` is no conversation, their ``completed`` ends the call without
  saying it was answered (the children say so). Without an answered child, the call is missed;
- a **child** leg (``<Dial>``), an API call to a number and SIP trunk calls are answered by the
  party dialed: ``in-progress`` is the answer, ``completed`` gives the talk time.

Numbers are E.164 already. A party that is a Twilio Client (``client:alice``) or a SIP user
(``sip:bob@acme.sip.twilio.com``) is the agent, never a number: its identity is the agent's id,
matched to the user whose ``telephony_user_id`` it is (or its e-mail, for e-mail identities).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Annotated, Literal

from pydantic import BeforeValidator, HttpUrl
from pydantic_core import PydanticCustomError

from callbridge.domain.event import Agent, CallEvent, Direction, EventKind
from callbridge.errors import PayloadError
from callbridge.telephony.limits import (
    ID_MAX,
    NUMBER_MAX,
    Duration,
    EventTime,
    ExtensionText,
    Identifier,
)
from callbridge.telephony.payloads import VendorSchema

# CallStatus values folded ("answered" is the event's name; Twilio's status is "in-progress").
RINGING = frozenset({"queued", "initiated", "ringing"})
ANSWERED = frozenset({"in-progress", "answered"})
UNANSWERED = frozenset({"busy", "no-answer", "failed", "canceled"})
STATUSES = RINGING | ANSWERED | UNANSWERED | {"completed"}
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_NUMBER = re.compile(r"\+?[0-9]{3,}")
# A Twilio SID (an application's "AP…" is the To of some Client calls): no number.
_SID = re.compile(r"[A-Z]{2}[0-9a-f]{32}")


def _absent(value: object) -> object:
    """Read Twilio's empty parameters (``ParentCallSid=``) as absent."""
    return None if value == "" else value


def _rfc2822(value: object) -> object:
    """Read Twilio's ``Timestamp`` (``Tue, 10 Aug 2021 16:43:21 +0000``) as an aware time."""
    if not isinstance(value, str):
        return value
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError) as err:
        raise PydanticCustomError(
            "rfc2822", "is not an RFC 2822 date such as 'Tue, 10 Aug 2021 16:43:21 +0000'"
        ) from err
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


EmptyIsNone = BeforeValidator(_absent)
TwilioTime = Annotated[EventTime | None, BeforeValidator(_rfc2822), EmptyIsNone]
# A party: an E.164 number, "client:<identity>" or a SIP URI ("" when unknown).
Party = Annotated[ExtensionText | None, EmptyIsNone]


class TwilioCall(VendorSchema):
    """A call status callback's parameters, as far as Callbridge reads them."""

    AccountSid: Identifier
    CallSid: Identifier
    CallStatus: Identifier
    ParentCallSid: Annotated[Identifier | None, EmptyIsNone] = None
    Direction: Annotated[Identifier | None, EmptyIsNone] = None
    From: Party = None
    To: Party = None
    Timestamp: TwilioTime = None
    CallDuration: Annotated[Duration | None, EmptyIsNone] = None
    RecordingUrl: Annotated[HttpUrl | None, EmptyIsNone] = None


class TwilioRecordingStatus(VendorSchema):
    """What every recording status callback holds."""

    AccountSid: Identifier
    CallSid: Identifier
    RecordingStatus: Identifier


class TwilioRecording(TwilioRecordingStatus):
    """A completed recording's parameters."""

    RecordingStatus: Literal["completed"]
    ParentCallSid: Annotated[Identifier | None, EmptyIsNone] = None
    RecordingSid: Identifier
    RecordingUrl: HttpUrl
    RecordingDuration: Annotated[Duration | None, EmptyIsNone] = None
    RecordingStartTime: TwilioTime = None
    RecordingSource: Annotated[Identifier | None, EmptyIsNone] = None

    def finished_at(self) -> datetime | None:
        """Return when the recording ended, if Twilio said when it started and how long it is."""
        if self.RecordingStartTime is None:
            return None
        return self.RecordingStartTime + timedelta(seconds=self.RecordingDuration or 0)


def call_event(event_id: str, call: TwilioCall, now: datetime) -> CallEvent:
    """Map one leg's status callback onto an event of the call (the parent's CallSid)."""
    child = call.ParentCallSid is not None
    at = call.Timestamp or now
    caller, called = identity(call.From), identity(call.To)
    agent_side = called if child or call.Direction == "outbound-api" else caller
    direction = _direction(call, caller)
    person_answers = child or (call.Direction != "inbound" and called is None)
    kind, duration = _kind(call, person_answers)
    unanswered = call.CallStatus in UNANSWERED
    ended = at if kind in (EventKind.ENDED, EventKind.MISSED) else None
    return CallEvent(
        event_id=event_id,
        call_id=call.ParentCallSid or call.CallSid,
        kind=kind,
        occurred_at=at,
        direction=direction,
        # A child's From is the caller ID it was dialed with (often the company's number): the
        # parent says who called. Its To is the number dialed, when it is one.
        from_number=None if child else _number(call.From, "From"),
        to_number=_number(call.To, "To"),
        agent=None if unanswered and child else _agent(agent_side),
        answered_at=_answered_at(kind, duration, at),
        ended_at=ended,
        duration=duration,
        recording_url=str(call.RecordingUrl) if call.RecordingUrl else None,
        disposition=call.CallStatus if unanswered and not child else None,
    )


def _kind(call: TwilioCall, person_answers: bool) -> tuple[EventKind, int | None]:
    """Return the event's kind and, for a leg a person answered, its talk time."""
    status = call.CallStatus
    if status in RINGING:
        return EventKind.RINGING, None
    if status in ANSWERED:
        return (EventKind.ANSWERED if person_answers else EventKind.UPDATED), None
    if status == "completed":
        return EventKind.ENDED, (call.CallDuration or 0) if person_answers else None
    # busy, no-answer, failed, canceled: a child that did not answer does not end the call (a
    # ring group's other child may answer); a parent that did not is a missed call.
    if call.ParentCallSid is not None:
        return EventKind.UPDATED, None
    return EventKind.MISSED, 0


def _answered_at(kind: EventKind, duration: int | None, at: datetime) -> datetime | None:
    """Return when a completed leg was answered: its end minus its talk time."""
    if kind is not EventKind.ENDED or not duration:
        return None
    return at - timedelta(seconds=duration)


def _direction(call: TwilioCall, caller: str | None) -> Direction | None:
    """Map Twilio's Direction; an inbound leg from a Client or SIP user is the agent calling out."""
    if call.ParentCallSid is not None:
        return None  # outbound-dial: the parent leg tells the call's direction
    if call.Direction == "inbound":
        return Direction.OUTGOING if caller else Direction.INCOMING
    return _DIRECTIONS.get(call.Direction or "")


_DIRECTIONS = {
    "outbound-api": Direction.OUTGOING,
    "trunking-terminating": Direction.OUTGOING,
    "trunking-originating": Direction.INCOMING,
}


def identity(party: str | None) -> str | None:
    """Return ``client:<name>`` or ``sip:<user>@<host>`` (parameters dropped), None for numbers."""
    if not party:
        return None
    scheme, _, rest = party.partition(":")
    scheme = scheme.lower()
    if scheme == "client" and rest:
        return party
    if scheme in ("sip", "sips") and rest:
        user_host = rest.split(";", 1)[0].split("?", 1)[0]
        return f"sip:{user_host}"[:ID_MAX]
    return None


def _number(party: str | None, field: str) -> str | None:
    """Return the party's number: itself, a SIP user that is a number, None for a Client."""
    if not party:
        return None
    if identity(party) is None:
        number = "" if _SID.fullmatch(party) else party
    else:
        user = party.partition(":")[2].split("@", 1)[0]
        number = user if party.lower().startswith("sip") and _NUMBER.fullmatch(user) else ""
    if len(number) > NUMBER_MAX:
        raise PayloadError(field, f"must be at most {NUMBER_MAX} characters for a number")
    return number or None


def _agent(party: str | None) -> Agent | None:
    """Return the agent a Client identity or SIP user names (its e-mail when it is one)."""
    if party is None:
        return None
    name = party.partition(":")[2]
    email = name if _EMAIL.fullmatch(name) and party.startswith("client:") else None
    return Agent(id=party, email=email)
