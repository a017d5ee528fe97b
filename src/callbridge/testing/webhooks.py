"""Build generic call events and sign them like a telephony platform would (tests and demo)."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from callbridge.telephony.standard_webhooks import sign


def generic_event(
    kind: str,
    call_id: str,
    *,
    at: datetime | None = None,
    event_id: str | None = None,
    **call: Any,
) -> dict[str, Any]:
    """Return one generic-schema event (see docs/telephony/generic.md)."""
    moment = at or datetime.now(UTC)
    return {
        "id": event_id or str(uuid.uuid4()),
        "type": kind,
        "timestamp": moment.isoformat(),
        "call": {"id": call_id, **call},
    }


def signed(
    secret: str, payload: Any, *, msg_id: str | None = None, timestamp: int | None = None
) -> tuple[bytes, dict[str, str]]:
    """Return the body and the Standard Webhooks headers for ``payload``."""
    body = json.dumps(payload).encode()
    return body, signed_headers(secret, body, msg_id=msg_id, timestamp=timestamp)


def signed_headers(
    secret: str, body: bytes, *, msg_id: str | None = None, timestamp: int | None = None
) -> dict[str, str]:
    """Return the Standard Webhooks headers of a delivery of ``body``, JSON or not."""
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
    }


def call_sequence(
    call_id: str,
    direction: str,
    external: str,
    *,
    answered: bool,
    agent_email: str | None = None,
    company_number: str = "+14155550100",
    start: datetime | None = None,
    duration: int = 42,
    **extra: Any,
) -> list[dict[str, Any]]:
    """Return the events of a whole call: ringing, then answered and ended, or missed."""
    begin = start or datetime.now(UTC)
    parties = (
        {"from": external, "to": company_number}
        if direction == "incoming"
        else {"from": company_number, "to": external}
    )
    common: dict[str, Any] = {"direction": direction, **parties, **extra}
    if agent_email:
        common["agent"] = {"email": agent_email}
    ts = begin.timestamp()
    events = [generic_event("call.ringing", call_id, at=_at(ts), **common)]
    if answered:
        events.append(generic_event("call.answered", call_id, at=_at(ts + 5), **common))
        events.append(
            generic_event(
                "call.ended", call_id, at=_at(ts + 5 + duration), duration=duration, **common
            )
        )
    else:
        events.append(generic_event("call.missed", call_id, at=_at(ts + 20), **common))
    return events


def _at(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)
