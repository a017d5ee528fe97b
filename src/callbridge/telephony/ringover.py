"""Ringover: call and after-call webhooks, signed with a JWT (HS512) in a header.

A delivery is ``{"resource", "event", "timestamp", "data"}``; the call events (resource ``call``:
``ringing``, ``answered``, ``hangup``, ``missed``, ``voicemail``) carry the call, the after-call
events (resource ``aftercall``) a recording, a voicemail, comments or tags of a finished call::

    {"resource": "call", "event": "hangup", "timestamp": 1744365722.5,
     "data": {"call_id": 8417298416743612807, "direction": "inbound", "from_number": "33612…"}}

``call_id`` is an integer beyond 2^53: JSON is decoded with exact integers and the id is kept
as text, never through a float. Users' docs: ``docs/telephony/ringover.md``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import jwt
from pydantic import BeforeValidator, Field, HttpUrl

from callbridge.domain.event import Agent, CallEvent, Direction, EventKind
from callbridge.domain.said import Code, Said
from callbridge.errors import PayloadError, SignatureError
from callbridge.telephony.base import ParsedDelivery
from callbridge.telephony.limits import (
    DURATION_MAX,
    NAME_MAX,
    NUMBER_MAX,
    TAGS_MAX,
    DispositionText,
    Duration,
    EmailText,
    Identifier,
    NameText,
    NotesText,
    PhoneText,
    TagText,
    shorten,
)
from callbridge.telephony.payloads import (
    UnixTime,
    VendorSchema,
    event_id,
    header,
    ignored_reason,
    json_object,
    load_json,
    validate,
)

SIGNATURE_HEADER = "X-Ringover-Webhook-Signature"
# How far a JWT's own ``exp``/``nbf`` claims may be off the server's clock.
CLOCK_LEEWAY = timedelta(minutes=5)

CALL_EVENTS: dict[str, EventKind] = {
    "ringing": EventKind.RINGING,
    "answered": EventKind.ANSWERED,
    "hangup": EventKind.ENDED,
    "missed": EventKind.MISSED,
    "voicemail": EventKind.VOICEMAIL,
}
_UNANSWERED = frozenset({EventKind.MISSED, EventKind.VOICEMAIL})
_FINAL = _UNANSWERED | {EventKind.ENDED}
AFTERCALL_EVENTS = frozenset(
    {"record_available", "voicemail_available", "comments_updated", "tags_updated"}
)
# Known deliveries that are not call events, and why they are skipped (answered 2xx).
SKIPPED = {
    ("call", "contact"): Said(Code.RINGOVER_LOOKUP_ELSEWHERE),
    ("search", "contact"): Said(Code.RINGOVER_SEARCH),
}


def _absent(value: object) -> object:
    """Read Ringover's empty values (``0`` times, ``""`` links) as absent."""
    return None if value in (0, "", None) and not isinstance(value, bool) else value


OptionalTime = Annotated[UnixTime | None, BeforeValidator(_absent)]
OptionalUrl = Annotated[HttpUrl | None, BeforeValidator(_absent)]


class RingoverUser(VendorSchema):
    """The Ringover user (agent) on the call."""

    user_id: Identifier | None = None
    firstname: NameText | None = None
    lastname: NameText | None = None
    email: EmailText | None = None


class RingoverCall(VendorSchema):
    """A call event's ``data``, as far as Callbridge reads it."""

    call_id: Identifier
    direction: Literal["inbound", "outbound"] | None = None
    from_number: PhoneText | None = None
    to_number: PhoneText | None = None
    start_time: OptionalTime = None
    answered_time: OptionalTime = None
    hangup_time: OptionalTime = None
    duration_in_seconds: Duration | None = None
    record: OptionalUrl = None
    is_internal: bool = False
    is_anonymous: bool = False
    user: RingoverUser | None = None
    reason: DispositionText | None = None


class RingoverRecording(VendorSchema):
    """``aftercall/record_available``: the call's recording."""

    call_id: Identifier
    record_link: HttpUrl


class RingoverVoicemail(VendorSchema):
    """``aftercall/voicemail_available``: the voicemail left by the caller."""

    call_id: Identifier
    voicemail_link: HttpUrl


class RingoverNotes(VendorSchema):
    """``aftercall/comments_updated`` and ``tags_updated``: the call's comments and tags."""

    call_id: Identifier
    comments: NotesText | None = None
    tags: tuple[TagText, ...] = Field(default=(), max_length=TAGS_MAX)


class RingoverEnvelope(VendorSchema):
    """What every Ringover webhook delivery holds."""

    resource: Identifier
    event: Identifier
    timestamp: UnixTime
    data: dict[str, Any]


class RingoverAdapter:
    """Ringover's call and after-call webhooks, signed with the webhook's HS512 key."""

    name = "ringover"

    def verify(
        self,
        headers: Mapping[str, str],
        body: bytes,
        secrets: Sequence[str],
        now: datetime,
        url: str = "",
    ) -> None:
        """Check the JWT of ``X-Ringover-Webhook-Signature`` against the source's keys."""
        token = header(headers, SIGNATURE_HEADER)
        if not token:
            raise SignatureError(f"the {SIGNATURE_HEADER} header is missing")
        for secret in secrets:
            claims = _decode(token, secret)
            if claims is not None:
                _check_times(claims, now)
                return
        raise SignatureError(f"{SIGNATURE_HEADER} is not signed (HS512) with this source's key")

    def parse(self, body: bytes, now: datetime | None = None) -> ParsedDelivery:
        """Read one delivery; skip, with the reason, events that are not call events."""
        moment = now or datetime.now(UTC)
        document = json_object(load_json(body))
        envelope = validate(RingoverEnvelope, document, moment)
        pair = (envelope.resource, envelope.event)
        ids = event_id(f"{envelope.resource}/{envelope.event}", document)
        if envelope.resource == "call" and envelope.event in CALL_EVENTS:
            call = validate(RingoverCall, envelope.data, moment, "data")
            return ParsedDelivery((_call_event(ids, envelope, call),))
        if envelope.resource == "aftercall" and envelope.event in AFTERCALL_EVENTS:
            return ParsedDelivery((_aftercall_event(ids, envelope, moment),))
        reason = SKIPPED.get(pair) or ignored_reason(f"Ringover event {'/'.join(pair)}")
        return ParsedDelivery((), reason)


def _decode(token: str, secret: str) -> dict[str, Any] | None:
    """Return the JWT's claims if ``secret`` signed it with HS512, None if another key did."""
    with warnings.catch_warnings():  # the key is Ringover's choice, whatever its length
        warnings.simplefilter("ignore", jwt.InsecureKeyLengthWarning)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                secret,
                algorithms=["HS512"],
                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
            )
        except jwt.InvalidSignatureError:
            return None
        except jwt.PyJWTError as err:
            raise SignatureError(f"{SIGNATURE_HEADER} is not an HS512 JWT: {err}") from err
    return claims


def _check_times(claims: Mapping[str, Any], now: datetime) -> None:
    """Refuse a JWT past its ``exp`` or before its ``nbf`` (checked against the server's clock)."""
    leeway = CLOCK_LEEWAY.total_seconds()
    moment = now.timestamp()
    expires, not_before = claims.get("exp"), claims.get("nbf")
    if isinstance(expires, int | float) and moment > expires + leeway:
        raise SignatureError(f"{SIGNATURE_HEADER} has expired (exp {expires})")
    if isinstance(not_before, int | float) and moment < not_before - leeway:
        raise SignatureError(f"{SIGNATURE_HEADER} is not valid yet (nbf {not_before})")


def _call_event(ids: str, envelope: RingoverEnvelope, call: RingoverCall) -> CallEvent:
    """Map a call event (ringing, answered, hangup, missed, voicemail) onto a CallEvent."""
    kind = CALL_EVENTS[envelope.event]
    answered = call.answered_time if kind not in _UNANSWERED else None
    return CallEvent(
        event_id=ids,
        call_id=call.call_id,
        kind=kind,
        occurred_at=envelope.timestamp,
        direction=_direction(call),
        from_number=_number(call.from_number, "data.from_number", call.is_anonymous),
        to_number=_number(call.to_number, "data.to_number", False),
        agent=_agent(call.user),
        started_at=call.start_time,
        answered_at=answered,
        ended_at=call.hangup_time,
        duration=_talk_time(kind, call, answered),
        recording_url=str(call.record) if call.record else None,
        disposition=call.reason if kind in (EventKind.MISSED, EventKind.VOICEMAIL) else None,
    )


def _aftercall_event(ids: str, envelope: RingoverEnvelope, now: datetime) -> CallEvent:
    """Map an after-call event onto a recording or an update of the finished call."""
    at = envelope.timestamp
    if envelope.event == "record_available":
        record = validate(RingoverRecording, envelope.data, now, "data")
        link = str(record.record_link)
        return CallEvent(ids, record.call_id, EventKind.RECORDING, at, recording_url=link)
    if envelope.event == "voicemail_available":
        voicemail = validate(RingoverVoicemail, envelope.data, now, "data")
        link = str(voicemail.voicemail_link)
        return CallEvent(ids, voicemail.call_id, EventKind.RECORDING, at, recording_url=link)
    notes = validate(RingoverNotes, envelope.data, now, "data")
    return CallEvent(
        ids, notes.call_id, EventKind.UPDATED, at, notes=notes.comments, tags=notes.tags
    )


def _direction(call: RingoverCall) -> Direction | None:
    """Return the direction; Ringover flags internal calls apart from inbound/outbound."""
    if call.is_internal:
        return Direction.INTERNAL
    if call.direction is None:
        return None
    return Direction.INCOMING if call.direction == "inbound" else Direction.OUTGOING


def _number(digits: str | None, field: str, anonymous: bool) -> str | None:
    """Return an international number with its ``+`` (Ringover sends digits without it)."""
    if anonymous and not digits:
        return "anonymous"
    if not digits or not (digits.isascii() and digits.isdigit()):
        return digits
    if len(digits) >= NUMBER_MAX:
        raise PayloadError(field, f"must be at most {NUMBER_MAX - 1} digits")
    return "+" + digits


def _agent(user: RingoverUser | None) -> Agent | None:
    """Return the agent from Ringover's user, or None when it names nobody."""
    if user is None:
        return None
    name = " ".join(part for part in (user.firstname, user.lastname) if part) or None
    if not (user.user_id or user.email or name):
        return None
    shown = shorten(name, NAME_MAX) if name else None
    return Agent(id=user.user_id, email=user.email or None, name=shown)


def _talk_time(kind: EventKind, call: RingoverCall, answered: datetime | None) -> int | None:
    """Return the talk time: hang-up minus answer, else Ringover's own; 0 for unanswered calls.

    ``duration_in_seconds`` of an unanswered call counts its ringing, so it is never used then.
    """
    if answered is None:
        return 0 if kind in _FINAL or call.hangup_time is not None else None
    if call.hangup_time is None:
        return call.duration_in_seconds
    seconds = round((call.hangup_time - answered).total_seconds())
    if seconds > DURATION_MAX:
        raise PayloadError("data.hangup_time", f"is more than {DURATION_MAX} s after answered")
    return max(seconds, 0)
