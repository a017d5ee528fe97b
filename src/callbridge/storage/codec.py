"""Turn call events into JSON for storage and back, without losing types."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from callbridge.domain.event import Agent, CallEvent, Direction, EventKind, Utm

_TIMES = ("occurred_at", "started_at", "answered_at", "ended_at")


def event_to_json(event: CallEvent) -> dict[str, Any]:
    """Return a JSON-ready dict of ``event``."""
    data: dict[str, Any] = {
        "event_id": event.event_id,
        "call_id": event.call_id,
        "kind": event.kind.value,
        "direction": event.direction.value if event.direction else None,
        "from_number": event.from_number,
        "to_number": event.to_number,
        "duration": event.duration,
        "recording_url": event.recording_url,
        "notes": event.notes,
        "tags": list(event.tags),
        "disposition": event.disposition,
        "crm_record_id": event.crm_record_id,
        "extra": dict(event.extra),
        "agent": vars(event.agent) if event.agent else None,
        "utm": vars(event.utm) if event.utm else None,
    }
    for name in _TIMES:
        value: datetime | None = getattr(event, name)
        data[name] = value.isoformat() if value else None
    return data


def event_from_json(data: dict[str, Any]) -> CallEvent:
    """Rebuild a CallEvent from :func:`event_to_json`'s output."""
    times = {name: datetime.fromisoformat(data[name]) if data[name] else None for name in _TIMES}
    occurred_at = times.pop("occurred_at")
    assert occurred_at is not None
    return CallEvent(
        event_id=data["event_id"],
        call_id=data["call_id"],
        kind=EventKind(data["kind"]),
        occurred_at=occurred_at,
        direction=Direction(data["direction"]) if data["direction"] else None,
        from_number=data["from_number"],
        to_number=data["to_number"],
        agent=Agent(**data["agent"]) if data["agent"] else None,
        duration=data["duration"],
        recording_url=data["recording_url"],
        notes=data["notes"],
        tags=tuple(data["tags"]),
        disposition=data["disposition"],
        utm=Utm(**data["utm"]) if data["utm"] else None,
        crm_record_id=data["crm_record_id"],
        extra=dict(data.get("extra") or {}),
        **times,
    )
