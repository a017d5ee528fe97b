"""What a provider's parser tests compare: a call event's facts, its digest id and extras aside.

The expectation is written out (:func:`stated`), never computed through :func:`facts`: a test
comparing ``facts(parsed) == facts(expected_event)`` would pass with a ``facts`` that dropped or
emptied every field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from callbridge.domain.event import CallEvent, EventKind

#: Every fact of a call event but its call, kind and time, with the value an event carries when
#: the provider did not state it. Written by hand, not read from ``CallEvent``: a field added to
#: the event fails every parser test until it is added here, with what each provider says of it.
UNSTATED: dict[str, Any] = {
    "direction": None,
    "from_number": None,
    "to_number": None,
    "agent": None,
    "started_at": None,
    "answered_at": None,
    "ended_at": None,
    "duration": None,
    "recording_url": None,
    "notes": None,
    "tags": (),
    "disposition": None,
    "utm": None,
    "crm_record_id": None,
}


def facts(event: CallEvent) -> dict[str, Any]:
    """Return an event's fields but its id (a digest, tested on its own) and its extras."""
    shown = dict(vars(event))
    shown.pop("event_id")
    shown.pop("extra")
    return shown


def stated(call_id: str, kind: EventKind, occurred_at: datetime, **fields: Any) -> dict[str, Any]:
    """Return the facts a parsed event must have: ``fields`` as given, every other one unstated."""
    unknown = sorted(set(fields) - set(UNSTATED))
    assert not unknown, f"not a fact of a call event: {unknown}"
    return {"call_id": call_id, "kind": kind, "occurred_at": occurred_at, **UNSTATED, **fields}
