"""Tokens a process leases from a roomy limit, so most takes need no transaction.

Where a limit is large (HubSpot's raised limits, or the searches of a big portal) and less than
half used, a take that goes to the database also takes a lease: ``size`` more tokens, for this
process only, usable for LEASE_SECONDS. The takes after it in that time are served from the
lease in memory. A lease holds LEASE_SHARE of what the limit allows in one LEASE_SECONDS of its
window (of the whole budget for windows of a second or less), so a process renewing its lease
back to back logs about twice LEASE_SHARE of the budget in any window, whatever the window's
length: a dozen processes lease at once before the half-used ceiling below stops them.

A lease is logged twice, at its start and at its end, each row carrying all its tokens: any
rolling window that holds a moment the lease was drawn on holds one of the two rows, so the log
still bounds every window HubSpot counts (the price is counting the lease twice, which is why
only a limit at most half used leases). Limits too small to lease (``size`` below LEASE_MIN:
HubSpot's own limits at every tier) are taken one transaction at a time, exactly as before.
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol


class Demand(Protocol):
    """What a lease needs of a take (``limits.Demand``): the limit's budget and the count."""

    @property
    def budget(self) -> int:
        """Return the tokens the limit allows in its window."""

    @property
    def window(self) -> float:
        """Return the seconds of the limit's rolling window."""

    @property
    def count(self) -> int:
        """Return the tokens this take draws."""


LEASE_SECONDS = 1.0
# Tokens leased at once: this share of the limit's budget per LEASE_SECONDS of its window, if
# that is at least LEASE_MIN. Sized by the whole window instead (2 % of 10 s), one process's
# leases filled 40 % of a 10-s window, and a second process found the ceiling reached.
LEASE_SHARE = 0.02
LEASE_MIN = 20


@dataclass
class Lease:
    """Tokens this process may take from a limit until ``until``."""

    granted: float
    used: float
    until: datetime

    def serves(self, count: int, now: datetime) -> bool:
        """Tell whether the lease is live and holds ``count`` more tokens."""
        return now < self.until and self.granted - self.used >= count


# (database, integration, limit) → this process's lease.
_LEASES: dict[tuple[str, str, str], Lease] = {}


def size(demand: Demand) -> int:
    """Return how many tokens a lease of this limit holds (0: the limit is too small)."""
    per_lease = min(1.0, LEASE_SECONDS / demand.window)
    tokens = int(demand.budget * LEASE_SHARE * per_lease)
    return tokens if tokens >= max(LEASE_MIN, demand.count) else 0


def may_lease(logged: float, demand: Demand) -> bool:
    """Tell whether the take and a lease, counted twice, keep the window at most half used."""
    tokens = size(demand)
    return tokens > 0 and logged + 2 * (demand.count + tokens) <= demand.budget / 2


def grant(demand: Demand, now: datetime) -> Lease:
    """Return the lease a take makes: its own tokens already drawn from it."""
    tokens = demand.count + size(demand)
    return Lease(tokens, demand.count, now + timedelta(seconds=LEASE_SECONDS))


def current(key: tuple[str, str, str]) -> Lease | None:
    """Return this process's lease of a limit, live or not."""
    return _LEASES.get(key)


def keep(key: tuple[str, str, str], lease: Lease) -> None:
    """Make ``lease`` this process's lease of the limit (what was left of the last is lost)."""
    if len(_LEASES) > 1024:  # integrations and test databases gone since
        _LEASES.clear()
    _LEASES[key] = lease


# Per event loop (tests run several), per set of limits: the renewal under way in this process.
_RENEWALS: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[tuple[tuple[str, str, str], ...], asyncio.Lock]
] = weakref.WeakKeyDictionary()


def renewal(keys: tuple[tuple[str, str, str], ...]) -> asyncio.Lock:
    """Return the lock one renewal of these limits' leases holds in this process at a time."""
    locks = _RENEWALS.setdefault(asyncio.get_running_loop(), {})
    lock = locks.get(keys)
    if lock is None:
        if len(locks) > 1024:  # integrations and test databases gone since
            locks.clear()
        lock = locks[keys] = asyncio.Lock()
    return lock


def forget_all() -> None:
    """Drop every lease of this process (for tests that rewrite the log under a lease)."""
    _LEASES.clear()
