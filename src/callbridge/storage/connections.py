"""SQLite connections kept open between units: one per engine, use and thread.

Opening a pooled connection for every unit (a ``Connection``, the pool's checkout, its checkin
and reset, the execution options set again) cost more Python than a read's statements: about
25 µs of the 35 µs of a read unit running one statement. A unit that runs in the event loop
runs from its ``BEGIN`` to its ``COMMIT`` without yielding, so the loop's thread keeps one
connection for its reads and one for its writes and opens a transaction on it each time.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable

from sqlalchemy import Connection, Engine

# By the async engine's synchronous engine (what the units' twins are kept by), then by use
# and thread. A kept connection refers to its twin, never to the async engine.
_KEPT: weakref.WeakKeyDictionary[Engine, dict[tuple[str, int], Connection]] = (
    weakref.WeakKeyDictionary()
)


def kept(owner: Engine, use: str, connect: Callable[[], Connection]) -> Connection:
    """Return this thread's open connection for ``use`` of ``owner``, connecting at first."""
    per_owner = _KEPT.setdefault(owner, {})
    key = (use, threading.get_ident())
    conn = per_owner.get(key)
    if conn is None or conn.closed or conn.invalidated:
        conn = per_owner[key] = connect()
    return conn


def close(owner: Engine) -> None:
    """Close every connection kept for ``owner`` (before its twins are disposed of)."""
    for conn in _KEPT.pop(owner, {}).values():
        conn.close()
