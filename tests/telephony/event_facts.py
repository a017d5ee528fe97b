"""What a provider's parser tests compare: a call event's facts, its digest id and extras aside."""

from __future__ import annotations

from typing import Any

from callbridge.domain.event import CallEvent


def facts(event: CallEvent) -> dict[str, Any]:
    """Return an event's fields but its id (a digest, tested on its own) and its extras."""
    shown = dict(vars(event))
    shown.pop("event_id")
    shown.pop("extra")
    return shown
