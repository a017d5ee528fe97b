"""Aircall: call webhooks in the `{"resource", "event", "timestamp", "token", "data"}` envelope.

Aircall signs nothing: each webhook has a token, sent in the body of every delivery, which is
compared in constant time with the source's secret (the token Aircall shows for the webhook).
Every call event carries the whole call object (``data``), so each one maps to a CallEvent with
all the facts known at that moment::

    {"resource": "call", "event": "call.ended", "timestamp": 1732622926, "token": "…",
     "data": {"id": 812, "direction": "inbound", "raw_digits": "+33 6 12 34 56 78", …}}

Users' docs: ``docs/telephony/aircall.md``.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import Field, HttpUrl

from callbridge.domain.event import Agent, CallEvent, Direction, EventKind
from callbridge.errors import PayloadError, SignatureError
from callbridge.telephony.base import ParsedDelivery
from callbridge.telephony.limits import (
    DURATION_MAX,
    NOTES_CUT,
    NOTES_MAX,
    TAGS_MAX,
    DispositionText,
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
    ignored_reason,
    json_object,
    load_json,
    validate,
)

# A call's comments beyond this are refused: no call is commented a thousand times.
COMMENTS_MAX = 1000
# Where Aircall keeps a call's recording or voicemail behind its login, for good (documented as
# ``https://assets.aircall.io/[recording|voicemail]/:call_id``); used when ``asset`` is absent.
ASSET_URL = "https://assets.aircall.io/{kind}/{call_id}"

# The call events folded, and what each becomes; None: final, decided by the call's data.
CALL_EVENTS: dict[str, EventKind | None] = {
    "call.created": EventKind.RINGING,
    "call.ringing_on_agent": EventKind.RINGING,
    "call.answered": EventKind.ANSWERED,
    "call.hungup": None,
    "call.ended": None,
    "call.voicemail_left": EventKind.VOICEMAIL,
    "call.transferred": EventKind.UPDATED,
    "call.external_transferred": EventKind.UPDATED,
    "call.commented": EventKind.UPDATED,
    "call.tagged": EventKind.UPDATED,
    "call.untagged": EventKind.UPDATED,
    "call.comm_assets_generated": EventKind.RECORDING,
}
_TRANSFERS = frozenset({"call.transferred", "call.external_transferred"})


class AircallUser(VendorSchema):
    """An Aircall user (the agent); missed calls have none, or an empty object."""

    id: Identifier | None = None
    email: EmailText | None = None
    name: NameText | None = None


class AircallNumber(VendorSchema):
    """The company's Aircall number the call went through."""

    digits: PhoneText | None = None


class AircallComment(VendorSchema):
    """A note an agent wrote on the call."""

    content: NotesText | None = None


class AircallTag(VendorSchema):
    """A tag put on the call."""

    name: TagText


class AircallCall(VendorSchema):
    """Aircall's call object (``data``), as far as Callbridge reads it."""

    id: Identifier
    direction: Literal["inbound", "outbound"] | None = None
    raw_digits: PhoneText | None = None
    started_at: UnixTime | None = None
    answered_at: UnixTime | None = None
    ended_at: UnixTime | None = None
    missed_call_reason: DispositionText | None = None
    # The direct mp3 links expire after 10 minutes: only their presence is read.
    recording: str | None = None
    voicemail: str | None = None
    asset: HttpUrl | None = None
    user: AircallUser | None = None
    transferred_to: AircallUser | None = None
    number: AircallNumber | None = None
    comments: tuple[AircallComment, ...] = Field(default=(), max_length=COMMENTS_MAX)
    tags: tuple[AircallTag, ...] = Field(default=(), max_length=TAGS_MAX)


class AircallEnvelope(VendorSchema):
    """What every Aircall webhook delivery holds."""

    resource: Identifier
    event: Identifier
    timestamp: UnixTime
    token: str
    data: dict[str, Any]


class AircallAdapter:
    """Aircall's call webhooks, authenticated by the webhook's token."""

    name = "aircall"

    def verify(
        self,
        headers: Mapping[str, str],
        body: bytes,
        secrets: Sequence[str],
        now: datetime,
        url: str = "",
    ) -> None:
        """Compare the body's ``token`` with the source's tokens in constant time."""
        token = _token_of(body)
        if token is None:
            raise SignatureError("the body holds no Aircall webhook token (field token)")
        sent = token.encode("utf-8", "surrogatepass")
        if not any(hmac.compare_digest(sent, secret.encode()) for secret in secrets):
            raise SignatureError("the token is not this source's Aircall webhook token")

    def parse(self, body: bytes, now: datetime | None = None) -> ParsedDelivery:
        """Read one delivery; skip, with the reason, events that are not folded call events."""
        moment = now or datetime.now(UTC)
        document = json_object(load_json(body))
        envelope = validate(AircallEnvelope, document, moment)
        if envelope.event not in CALL_EVENTS:
            return ParsedDelivery((), ignored_reason(f"Aircall event {envelope.event}"))
        call = validate(AircallCall, envelope.data, moment, "data")
        return ParsedDelivery((_to_call_event(envelope, call, document),))


def _token_of(body: bytes) -> str | None:
    """Return the body's ``token`` if the body is a JSON object holding a string one."""
    try:
        document = load_json(body)
    except PayloadError:
        return None
    token = document.get("token") if isinstance(document, dict) else None
    return token if isinstance(token, str) else None


def _to_call_event(envelope: AircallEnvelope, call: AircallCall, document: Any) -> CallEvent:
    """Map one Aircall call event onto the domain's CallEvent."""
    kind = CALL_EVENTS[envelope.event] or _final_kind(call)
    unanswered = call.missed_call_reason is not None or call.voicemail is not None
    answered_at = None if unanswered else call.answered_at
    recording_url = _stable_recording_url(call)
    if kind is EventKind.RECORDING and recording_url is None:
        kind = EventKind.UPDATED  # assets generated, but neither recording nor voicemail
    outgoing = call.direction == "outbound"
    company = call.number.digits if call.number else None
    return CallEvent(
        event_id=event_id(envelope.event, document),
        call_id=call.id,
        kind=kind,
        occurred_at=envelope.timestamp,
        direction=_DIRECTIONS.get(call.direction) if call.direction else None,
        from_number=company if outgoing else call.raw_digits,
        to_number=call.raw_digits if outgoing else company,
        agent=_agent(call, transfer=envelope.event in _TRANSFERS),
        started_at=call.started_at,
        answered_at=answered_at,
        ended_at=call.ended_at,
        duration=_talk_time(answered_at, call.ended_at),
        recording_url=recording_url,
        notes=_notes(call.comments),
        tags=tuple(tag.name for tag in call.tags),
        disposition=call.missed_call_reason,
    )


_DIRECTIONS = {"inbound": Direction.INCOMING, "outbound": Direction.OUTGOING}


def _final_kind(call: AircallCall) -> EventKind:
    """Say how a hung-up call ended: voicemail, missed (a missed-call reason) or ended."""
    if call.voicemail is not None:
        return EventKind.VOICEMAIL
    if call.missed_call_reason is not None:
        return EventKind.MISSED
    return EventKind.ENDED


def _agent(call: AircallCall, transfer: bool) -> Agent | None:
    """Return the agent: after a transfer to a user, that user; otherwise ``data.user``."""
    user = call.user
    if transfer and call.transferred_to is not None and call.transferred_to.email:
        user = call.transferred_to
    if user is None or not (user.id or user.email or user.name):
        return None
    return Agent(id=user.id, email=user.email, name=user.name)


def _talk_time(answered_at: datetime | None, ended_at: datetime | None) -> int | None:
    """Return the talk time: Aircall's ``duration`` counts the ringing too, so it is not used."""
    if ended_at is None:
        return None
    if answered_at is None:
        return 0
    seconds = round((ended_at - answered_at).total_seconds())
    if seconds > DURATION_MAX:
        raise PayloadError("data.ended_at", f"is more than {DURATION_MAX} s after answered_at")
    return max(seconds, 0)


def _stable_recording_url(call: AircallCall) -> str | None:
    """Return the lasting ``asset`` page of the recording or voicemail, never the 10-minute link."""
    if call.asset is not None:
        return str(call.asset)
    if call.recording is not None:
        return ASSET_URL.format(kind="recording", call_id=call.id)
    if call.voicemail is not None:
        return ASSET_URL.format(kind="voicemail", call_id=call.id)
    return None


def _notes(comments: tuple[AircallComment, ...]) -> str | None:
    """Join the call's comments, oldest first, into the notes (None when there are none)."""
    texts = [comment.content for comment in comments if comment.content]
    return shorten("\n\n".join(texts), NOTES_MAX, NOTES_CUT) if texts else None
