"""The folded call handed to its sync when the sync runs next in the fold's slot.

When the fold that makes a call final has its sync adopted as its successor (the embedded
queue, ``queue.sqlite_successor``), the same task runs that sync right after: the fold leaves
it the call it just folded and stored, so the sync does not read the events and fold them
again. The sync takes it (once: a retry, a crash's re-run or any other job reads as usual) and
uses it only if the stored call is still the one folded from as many events (``sync.inputs``):
events are stored once and never deleted, so the same count means the same events.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass

from callbridge.domain.call import Call


@dataclass(frozen=True)
class Handed:
    """The call a fold stored, for the sync of that call (Callbridge's id) run next."""

    call_id: str
    call: Call


_HANDED: contextvars.ContextVar[Handed | None] = contextvars.ContextVar(
    "callbridge_folded_call", default=None
)


def give(call_id: str, call: Call) -> None:
    """Leave the folded ``call`` to the sync that runs next in this task."""
    _HANDED.set(Handed(call_id, call))


def take(call_id: str) -> Call | None:
    """Return the call handed for ``call_id``, if any; whatever was handed is taken once."""
    handed = _HANDED.get()
    if handed is None:
        return None
    _HANDED.set(None)
    return handed.call if handed.call_id == call_id else None
