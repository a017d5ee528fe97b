"""The folded call handed to its sync when the sync runs next in the fold's slot.

When the fold that makes a call final has its sync adopted as its successor
(``queue.successor``, in either queue), the same task runs that sync right after: the fold leaves
it the call it just folded and stored, so the sync does not read the events and fold them
again. The sync takes it (once: a retry, a crash's re-run or any other job reads as usual) and
uses it only if the stored call is still the one folded from as many events (``sync.inputs``):
events are stored once and never deleted, so the same count means the same events. With the
call it takes what the fold read to find the external number, the company and its users'
extensions, read a moment before, as if the sync had run that moment earlier: the sync reads
neither again (only when it uses the handed call).
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass

from callbridge.domain.call import Call
from callbridge.storage.accounts import Company


@dataclass(frozen=True)
class Handed:
    """The call a fold stored, for the sync of that call (Callbridge's id) run next."""

    call_id: str
    call: Call
    company: Company | None = None  # the company as the fold read it
    extensions: list[str] | None = None  # its users' extensions, as the fold read them


_HANDED: contextvars.ContextVar[Handed | None] = contextvars.ContextVar(
    "callbridge_folded_call", default=None
)


def give(
    call_id: str,
    call: Call,
    company: Company | None = None,
    extensions: list[str] | None = None,
) -> None:
    """Leave the folded ``call`` (and what the fold read with it) to the sync run next here."""
    _HANDED.set(Handed(call_id, call, company, extensions))


def take(call_id: str) -> Handed | None:
    """Return what was handed for ``call_id``, if anything; whatever was handed is taken once."""
    handed = _HANDED.get()
    if handed is None:
        return None
    _HANDED.set(None)
    return handed if handed.call_id == call_id else None
