"""3CX: the server-side CRM integration's call journaling, authenticated with the source's key.

3CX calls a CRM over HTTP as its CRM template says (:mod:`callbridge.telephony.threecx_template`
makes the template of a source). When a call ends, its ``ReportCall`` scenario posts one JSON
journal of the whole call, every value a string::

    {"call_type": "Inbound", "number": "0033612345678", "agent": "101",
     "agent_email": "ann@acme.test", "duration": "00:01:35",
     "started_at": "2025-04-11T10:00:00Z", "answered_at": "2025-04-11T10:00:07Z",
     "ended_at": "2025-04-11T10:01:42Z"}

``call_type`` is ``Inbound`` or ``Outbound`` (answered), ``Missed`` (inbound) or ``Notanswered``
(outbound). 3CX's journaling has no call id: the call is named by a digest of its number,
direction and start, so a repeated journal of the same call is the same call (and, the document
being the same, the same event). 3CX sends numbers with the ``00`` international prefix (the
template's ``Prefix="Zeros"``) or national: ``00`` becomes ``+``, national numbers are read in
the integration's region by the sync. Users' docs: ``docs/telephony/3cx.md``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from pydantic import BeforeValidator

from callbridge.domain.event import Agent, CallEvent, Direction, EventKind
from callbridge.errors import SignatureError
from callbridge.telephony.base import ParsedDelivery
from callbridge.telephony.limits import (
    NAME_MAX,
    Duration,
    EmailText,
    EventTime,
    ExtensionText,
    NameText,
    PhoneText,
    shorten,
)
from callbridge.telephony.payloads import (
    VendorSchema,
    event_id,
    header,
    json_object,
    load_json,
    validate,
)

KEY_HEADER = "Authorization"
CALL_TYPES: dict[str, tuple[Direction, EventKind]] = {
    "inbound": (Direction.INCOMING, EventKind.ENDED),
    "outbound": (Direction.OUTGOING, EventKind.ENDED),
    "missed": (Direction.INCOMING, EventKind.MISSED),
    "notanswered": (Direction.OUTGOING, EventKind.MISSED),
}
# .NET's DateTime.MinValue: what 3CX renders for a time the call never reached (not answered).
_NEVER = "0001-01-01"
_CLOCK = re.compile(r"(?:(\d{1,3}):)?(\d{1,2}):(\d{1,2})")


def _absent(value: object) -> object:
    """Read 3CX's empty variables (``""``, spaces) as absent."""
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _call_type(value: object) -> object:
    """Read ``Inbound|Outbound|Missed|Notanswered`` whatever their case."""
    return value.strip().lower() if isinstance(value, str) else value


def _journal_time(value: object) -> object:
    """Read a time as 3CX's template formats it; no offset means UTC, year 1 means never."""
    if not isinstance(value, str) or not value.strip():
        return None if isinstance(value, str) else value
    text = value.strip()
    if text.startswith(_NEVER):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text  # pydantic refuses it, naming the field
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _seconds(value: object) -> object:
    """Read 3CX's ``[Duration]`` (``hh:mm:ss``, or ``mm:ss``) or plain seconds as seconds."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return int(text)
    clock = _CLOCK.fullmatch(text)
    if clock is None:
        return text  # pydantic refuses it, naming the field
    hours, minutes, secs = (int(part or 0) for part in clock.groups())
    return hours * 3600 + minutes * 60 + secs


Optional = BeforeValidator(_absent)
JournalTime = Annotated[EventTime, BeforeValidator(_journal_time)]
OptionalTime = Annotated[EventTime | None, BeforeValidator(_journal_time)]
CallType = Annotated[
    Literal["inbound", "outbound", "missed", "notanswered"], BeforeValidator(_call_type)
]


class ThreeCxJournal(VendorSchema):
    """The journal 3CX posts when a call ends, as the template Callbridge generates sends it."""

    call_type: CallType
    started_at: JournalTime
    number: Annotated[PhoneText | None, Optional] = None
    agent: Annotated[ExtensionText | None, Optional] = None
    agent_email: Annotated[EmailText | None, Optional] = None
    agent_first_name: Annotated[NameText | None, Optional] = None
    agent_last_name: Annotated[NameText | None, Optional] = None
    duration: Annotated[Duration | None, BeforeValidator(_seconds)] = None
    answered_at: OptionalTime = None
    ended_at: OptionalTime = None


class ThreeCxAdapter:
    """3CX's CRM-template requests: the source's API key, then one journal per call."""

    name = "3cx"
    # What to do in 3CX, shown with the source (api/source_setup.py fills the placeholders).
    setup_steps = (
        "Download this source's CRM template: GET /sources/{source_id}/3cx-template (its contact "
        "lookup URL, its journal URL {url} and its API key are filled in).",
        "In the 3CX management console's CRM integration settings (server side), add the "
        "template file and keep call journaling enabled ({docs}#setup-step-by-step).",
        "The template's API key is this source's secret: to change it, send the new key with "
        'POST /sources/{source_id}/secrets {{"secret": "<the key>"}}, then download the '
        "template again and upload it into 3CX.",
        "Make a test call, then read GET /sources/{source_id}/deliveries: every journal, "
        "accepted, ignored or refused, with the reason (a wrong API key is a refused 401).",
    )

    def verify(
        self,
        headers: Mapping[str, str],
        body: bytes,
        secrets: Sequence[str],
        now: datetime,
        url: str = "",
    ) -> None:
        """Check the API key sent as Basic (any user, the key as password) or Bearer."""
        sent = sent_key(headers)
        if sent is None:
            raise SignatureError(
                f"the {KEY_HEADER} header is missing: 3CX sends the source's API key with "
                "Basic authentication as the template says (or send `Bearer <key>`)"
            )
        if not any(hmac.compare_digest(sent.encode(), key.encode()) for key in secrets):
            raise SignatureError("the API key is not this source's: check the 3CX template")

    def parse(self, body: bytes, now: datetime | None = None) -> ParsedDelivery:
        """Read one call journal; PayloadError names the first bad field."""
        moment = now or datetime.now(UTC)
        document = json_object(load_json(body))
        journal = validate(ThreeCxJournal, document, moment)
        return ParsedDelivery((_call_event(event_id("3cx/journal", document), journal),))


def sent_key(headers: Mapping[str, str]) -> str | None:
    """Return the key of an ``Authorization`` header (Basic password or Bearer), or None."""
    value = (header(headers, KEY_HEADER) or "").strip()
    scheme, _, credentials = value.partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer" and credentials:
        return credentials
    if scheme.lower() != "basic" or not credentials:
        return None
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    _user, colon, password = decoded.partition(":")
    return password if colon and password else None


def international(number: str | None) -> str | None:
    """Return a 3CX number with ``+`` for its ``00`` international prefix; others as sent."""
    if number is None:
        return None
    text = number.strip()
    return "+" + text[2:] if text.startswith("00") and len(text) > 2 else text


def _call_event(ids: str, journal: ThreeCxJournal) -> CallEvent:
    """Map a journal onto the one final event of its call."""
    direction, kind = CALL_TYPES[journal.call_type]
    number = international(journal.number)
    answered = journal.answered_at if kind is EventKind.ENDED else None
    if kind is EventKind.ENDED and answered is None:
        answered = journal.started_at  # 3CX journals Inbound/Outbound only when answered
    duration = journal.duration if kind is EventKind.ENDED else 0
    ended = journal.ended_at or _end(journal.started_at, answered, duration)
    return CallEvent(
        event_id=ids,
        call_id=call_id(number, direction, journal.started_at),
        kind=kind,
        occurred_at=ended,
        direction=direction,
        from_number=number if direction is Direction.INCOMING else None,
        to_number=number if direction is Direction.OUTGOING else None,
        agent=_agent(journal),
        started_at=journal.started_at,
        answered_at=answered,
        ended_at=ended,
        duration=duration,
    )


def call_id(number: str | None, direction: Direction, started_at: datetime) -> str:
    """Name a journaled call: 3CX gives no id, its number, direction and start are the call."""
    start = started_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = hashlib.sha256(f"{number or ''}|{direction.value}|{start}".encode()).hexdigest()
    return f"3cx-{digest[:40]}"


def _end(started: datetime, answered: datetime | None, duration: int | None) -> datetime:
    """Return when the call ended when 3CX did not say: answer plus talk time, else the start."""
    if answered is not None and duration:
        return answered + timedelta(seconds=duration)
    return started


def _agent(journal: ThreeCxJournal) -> Agent | None:
    """Return the agent: the extension, its e-mail and name, or None when 3CX names nobody."""
    parts = (journal.agent_first_name, journal.agent_last_name)
    name = " ".join(part for part in parts if part) or None
    if not (journal.agent or journal.agent_email or name):
        return None
    shown = shorten(name, NAME_MAX) if name else None
    return Agent(extension=journal.agent, email=journal.agent_email, name=shown)
