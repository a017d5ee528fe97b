"""The generic provider: any system that can POST Callbridge's own JSON schema, signed.

The schema is documented for users in ``docs/telephony/generic.md``; the Pydantic models below
are its single definition. A body is one event object or a JSON array of them::

    {"id": "evt_1", "type": "call.ended", "timestamp": "2025-03-04T09:15:42+01:00",
     "call": {"id": "c_42", "direction": "incoming", "from": "+33612345678", "duration": 95}}

Deliveries are signed with Standard Webhooks (see :mod:`callbridge.telephony.standard_webhooks`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from callbridge.domain.event import Agent, CallEvent, Direction, EventKind, Utm
from callbridge.domain.said import Code, Said
from callbridge.errors import PayloadError
from callbridge.telephony import standard_webhooks
from callbridge.telephony.base import ParsedDelivery
from callbridge.telephony.limits import (
    TAGS_MAX,
    DispositionText,
    Duration,
    EmailText,
    EventTime,
    ExtensionText,
    Identifier,
    NameText,
    NotesText,
    PhoneText,
    TagText,
    UtmText,
)
from callbridge.telephony.payloads import field_path, json_type, load_json, validate

MAX_BATCH = 100
# "user.created", "contact.updated": events of other resources, known kinds we skip with 2xx.
_OTHER_RESOURCE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)+")
# Longer "types" are not skipped but refused: the reason is stored and answered.
_OTHER_RESOURCE_MAX = 100


class _Schema(BaseModel):
    """Base of the schema models: immutable, unknown fields ignored for forward compatibility."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class GenericAgent(_Schema):
    """The employee on the call, as the phone system knows them."""

    id: Identifier | None = None
    email: EmailText | None = None
    extension: ExtensionText | None = None
    name: NameText | None = None


class GenericUtm(_Schema):
    """Call-tracking attribution of the call."""

    source: UtmText | None = None
    medium: UtmText | None = None
    campaign: UtmText | None = None
    term: UtmText | None = None
    content: UtmText | None = None
    tracking_number: PhoneText | None = None


class GenericCall(_Schema):
    """What the event tells about the call; every field but ``id`` may come in a later event."""

    id: Identifier
    direction: Direction | None = None
    from_number: PhoneText | None = Field(default=None, alias="from")
    to_number: PhoneText | None = Field(default=None, alias="to")
    agent: GenericAgent | None = None
    started_at: EventTime | None = None
    answered_at: EventTime | None = None
    ended_at: EventTime | None = None
    duration: Duration | None = None
    recording_url: HttpUrl | None = None
    notes: NotesText | None = None
    tags: tuple[TagText, ...] = Field(default=(), max_length=TAGS_MAX)
    disposition: DispositionText | None = None
    utm: GenericUtm | None = None
    crm_record_id: Identifier | None = None


class GenericEvent(_Schema):
    """One event of the generic schema."""

    id: Identifier
    type: EventKind
    timestamp: EventTime
    call: GenericCall


class GenericAdapter:
    """Webhooks in Callbridge's own JSON schema, signed with Standard Webhooks."""

    name = "generic"

    def __init__(self, tolerance: timedelta = standard_webhooks.DEFAULT_TOLERANCE) -> None:
        self.tolerance = tolerance

    def verify(
        self,
        headers: Mapping[str, str],
        body: bytes,
        secrets: Sequence[str],
        now: datetime,
        url: str = "",
    ) -> None:
        """Check the Standard Webhooks signature; raise SignatureError if it does not hold."""
        standard_webhooks.verify(headers, body, secrets, now, tolerance=self.tolerance)

    def parse(self, body: bytes, now: datetime | None = None) -> ParsedDelivery:
        """Read one event or a batch of them; raise PayloadError naming the first bad field.

        Times must fall in the window of :mod:`callbridge.telephony.limits` around ``now``, the
        server's time (the current time when not given).
        """
        context = {"now": now or datetime.now(UTC)}
        document = load_json(body)
        if isinstance(document, dict):
            items, batch = [document], False
        elif isinstance(document, list):
            items, batch = document, True
            _check_batch_size(items)
        else:
            raise PayloadError(
                "body", f"expected an event object or an array of them, got {json_type(document)}"
            )
        events: list[CallEvent] = []
        ignored: list[str] = []
        for index, item in enumerate(items):
            prefix = f"[{index}]" if batch else ""
            skipped = _ignored_type(item, prefix)
            if skipped is None:
                events.append(_to_call_event(_validate(item, prefix, context)))
            elif skipped not in ignored:
                ignored.append(skipped)
        return ParsedDelivery(events=tuple(events), ignored=_ignored_reason(ignored))


def _check_batch_size(items: list[Any]) -> None:
    """Refuse empty batches and batches larger than MAX_BATCH."""
    if not items:
        raise PayloadError("body", "the batch is empty: send at least one event")
    if len(items) > MAX_BATCH:
        raise PayloadError(
            "body", f"the batch holds {len(items)} events; send at most {MAX_BATCH} per request"
        )


def _ignored_type(item: Any, prefix: str) -> str | None:
    """Return the type of a well-formed event about another resource, or None to parse it."""
    if not isinstance(item, dict):
        raise PayloadError(prefix or "body", f"expected an event object, got {json_type(item)}")
    kind = item.get("type")
    if (
        not isinstance(kind, str)
        or kind.startswith("call.")
        or len(kind) > _OTHER_RESOURCE_MAX
        or not _OTHER_RESOURCE.fullmatch(kind)
    ):
        return None
    return kind


def _ignored_reason(types: list[str]) -> str | None:
    """Say which event types were skipped, or None when nothing was."""
    if not types:
        return None
    if len(types) == 1:
        return Said(Code.EVENT_TYPE_SKIPPED, types=types[0])
    return Said(Code.EVENT_TYPES_SKIPPED, types=", ".join(types))


def _validate(item: dict[str, Any], prefix: str, context: dict[str, Any]) -> GenericEvent:
    """Validate one event object, turning the first Pydantic error into a PayloadError."""
    event = validate(GenericEvent, item, context["now"], prefix)
    if event.type is EventKind.RECORDING and event.call.recording_url is None:
        path = field_path(prefix, ("call", "recording_url"))
        raise PayloadError(path, "Field required for call.recording events")
    return event


def _to_call_event(event: GenericEvent) -> CallEvent:
    """Convert a validated event into the domain's CallEvent, times in UTC."""
    call = event.call
    return CallEvent(
        event_id=event.id,
        call_id=call.id,
        kind=event.type,
        occurred_at=event.timestamp.astimezone(UTC),
        direction=call.direction,
        from_number=call.from_number,
        to_number=call.to_number,
        agent=Agent(**call.agent.model_dump()) if call.agent else None,
        started_at=_utc(call.started_at),
        answered_at=_utc(call.answered_at),
        ended_at=_utc(call.ended_at),
        duration=call.duration,
        recording_url=str(call.recording_url) if call.recording_url else None,
        notes=call.notes,
        tags=call.tags,
        disposition=call.disposition,
        utm=Utm(**call.utm.model_dump()) if call.utm else None,
        crm_record_id=call.crm_record_id,
    )


def _utc(moment: datetime | None) -> datetime | None:
    """Return an aware datetime converted to UTC (None stays None)."""
    return moment.astimezone(UTC) if moment is not None else None
