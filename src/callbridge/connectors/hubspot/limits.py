"""Rolling-window rate limits per integration, kept in the database so every worker shares them.

HubSpot counts requests in rolling windows: at most 100 (or 190, 250) in any 10 s, at most 5
searches in any second, whatever instant the window starts at. A token bucket cannot promise
that: it lets its burst plus a window's refill through in one window (the search limiter once
let twice its rate through, and HubSpot answered 429 ``SECONDLY``). So each limit here is a
*sliding-window log*: one row per recent take (its time and its token count), and a take is
granted only if the takes of the last ``window + SLACK_SECONDS`` leave room for it. Any window
of that length, hence any rolling window HubSpot counts, holds at most ``budget`` tokens.

A take is all or nothing across limits (a lookup's searches and its general requests). A refused
take is told when to come back: when enough logged takes leave the window, and after the takes
already refused (the limit's waiting line: the time its last refused take is due), so syncs
refused one after the other come back one after the other instead of all at once.

HubSpot's daily limit is not kept here: it is shared by every app of the HubSpot account, so no
count of our own requests can foresee it. Its 429 ``DAILY`` makes the sync wait for the reset
(see ``client.py``).
"""

from __future__ import annotations

import dataclasses
import functools
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from callbridge.connectors.base import UNSAVED_ID
from callbridge.connectors.hubspot import leases
from callbridge.connectors.hubspot.tables import hubspot_rate_buckets as buckets
from callbridge.errors import RateLimited
from callbridge.storage import driver, units
from callbridge.storage.sql import ignoring_insert, upsert

# Added to every window: a request reaches HubSpot a little after its take (the requests before
# it in the sync, the event loop, the network), and not every request by the same lag. Two takes
# a window apart could otherwise land in one of HubSpot's windows.
SLACK_SECONDS = 0.2
# A refused take comes back up to this share of its own spacing late, so takes refused at the
# same moment by several workers do not all come back at the same instant.
JITTER = 0.1
# The row of a limit's waiting line: ``updated_at`` is when the last refused take is due.
LINE = ":line"
# The rows of a limit's log are named ``<limit>#<slot>``; a slot is reused once out of the window.
SLOT = "#"


@dataclass(frozen=True)
class Demand:
    """``count`` tokens of limit ``name``, which allows ``budget`` tokens in any ``window`` s.

    ``need``: if refused, the tokens to come back for (at least ``count``, at most ``budget``).
    A sync refused half-way takes again, when retried, what it took before this take.
    """

    name: str
    budget: int
    window: float
    count: int
    need: int = 0

    @property
    def span(self) -> timedelta:
        """Return how long a take stays in the log: the window and the slack."""
        return timedelta(seconds=self.window + SLACK_SECONDS)

    @property
    def wanted(self) -> int:
        """Return the tokens a refused take must find when it comes back."""
        return max(self.count, min(self.need, self.budget))

    @property
    def spacing(self) -> float:
        """Return the seconds one token occupies at the sustained rate."""
        return self.span.total_seconds() / self.budget


@dataclass(frozen=True)
class Take:
    """One logged take: when, and how many tokens."""

    at: datetime
    count: float


def live(log: Sequence[Take], now: datetime, demand: Demand) -> list[Take]:
    """Return the takes still in the window that ends ``now``, oldest first."""
    start = now - demand.span
    return sorted((take for take in log if take.at > start), key=lambda take: take.at)


def room(log: Sequence[Take], now: datetime, demand: Demand) -> bool:
    """Tell whether ``demand`` fits in the window that ends ``now``."""
    return sum(take.count for take in live(log, now, demand)) + demand.count <= demand.budget


def half_free(log: Sequence[Take], now: datetime, demand: Demand) -> bool:
    """Tell whether the window that ends ``now`` stays at most half used after ``demand``."""
    return sum(take.count for take in live(log, now, demand)) + demand.count <= demand.budget / 2


def due(log: Sequence[Take], now: datetime, line_end: datetime | None, demand: Demand) -> datetime:
    """Return when a refused ``demand`` will find its tokens, after the takes already waiting.

    Its ``wanted`` tokens are free once the oldest takes holding the excess leave the window;
    takes refused before it are served first, each ``spacing`` per token after the line's end.
    """
    takes = live(log, now, demand)
    excess = sum(take.count for take in takes) + demand.wanted - demand.budget
    free_at = now
    for take in takes:
        if excess <= 0:
            break
        excess -= take.count
        free_at = take.at + demand.span
    if line_end is not None and line_end > now:
        free_at = max(free_at, line_end + timedelta(seconds=demand.wanted * demand.spacing))
    return free_at


class RateBucket:
    """Take tokens before requests, or raise RateLimited with the wait; never sleep.

    Each take and give-back is one unit of work (``storage.units``): on SQLite a few statements
    on a plain connection, group-committed with the process's other writes; on PostgreSQL one
    blocking transaction in a unit thread, the limit's line rows locked ``FOR UPDATE``.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        integration_id: str,
        clock: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._engine: AsyncEngine = sessions.kw["bind"]
        self._integration_id = integration_id
        self._clock = clock
        self._mine: dict[str, list[str]] = {}  # limit → rows of this bucket's takes, newest last
        # limit → (lease, tokens) this bucket drew from a lease, newest last (see ``leases``)
        self._drawn: dict[str, list[tuple[leases.Lease, int]]] = {}
        # Whether the last take left every limit it took from at most half used: requests that
        # may turn out unneeded (a speculative search) are worth their latency then.
        self.roomy = False

    async def take(self, *demands: Demand) -> None:
        """Take every demand's tokens at once, or none and raise RateLimited with the wait."""
        if self._integration_id == UNSAVED_ID:  # a credentials check before the integration exists
            return
        if self._from_leases(demands):
            return
        if not all(leases.size(demand) for demand in demands):  # too small to lease
            await self._take_logged(demands)
            return
        # A lease running out finds many syncs of this process taking at once: one renews it,
        # the others are then served from the new lease instead of each locking the limit's
        # line in the database (and each taking a lease of its own).
        async with leases.renewal(tuple(self._lease_key(demand) for demand in demands)):
            if not self._from_leases(demands):
                await self._take_logged(demands)

    async def _take_logged(self, demands: Sequence[Demand]) -> None:
        """Take in the database's log: grant every demand (with a lease) or raise RateLimited."""
        now, refused, granted = await units.write(
            self._engine, functools.partial(self._take, demands)
        )
        for demand, lease in granted:
            leases.keep(self._lease_key(demand), lease)
            self._drawn.setdefault(demand.name, []).append((lease, demand.count))
        if refused:
            demand, when = max(refused, key=lambda item: item[1])
            jitter = random.random() * JITTER * demand.wanted * demand.spacing
            raise RateLimited(
                f"HubSpot {demand.name} budget of {demand.budget}/{demand.window:g} s used",
                (when - now).total_seconds() + jitter,
            )

    def _lease_key(self, demand: Demand) -> tuple[str, str, str]:
        return (str(self._engine.url), self._integration_id, demand.name)

    def _from_leases(self, demands: Sequence[Demand]) -> bool:
        """Serve every demand from this process's live leases, or none of them."""
        now = self._clock()
        found = [leases.current(self._lease_key(demand)) for demand in demands]
        served = [
            lease
            for lease, d in zip(found, demands, strict=True)
            if lease and lease.serves(d.count, now)
        ]
        if len(served) < len(demands):
            return False
        for lease, demand in zip(served, demands, strict=True):
            lease.used += demand.count
            self._drawn.setdefault(demand.name, []).append((lease, demand.count))
        self.roomy = True  # a lease is granted only while its limit is at most half used
        return True

    def _take(
        self, demands: Sequence[Demand], conn: Connection
    ) -> tuple[datetime, list[tuple[Demand, datetime]], list[tuple[Demand, leases.Lease]]]:
        """Log the takes, or book the refused ones' places in their lines; say which.

        A take that leaves its limit at most half used, counting a lease twice, takes one.
        """
        rows = self._locked_rows(conn, [d.name for d in demands])
        now = self._clock()
        refused = [
            (d, due(_log(rows, d.name), now, _line_end(rows, d.name), d))
            for d in demands
            if not room(_log(rows, d.name), now, d)
        ]
        # A refusal books the take's place in the line; nothing enters the log.
        for demand, when in refused:
            self._write(conn, demand.name + LINE, 0.0, when)
        granted: list[tuple[Demand, leases.Lease]] = []
        if not refused:
            self.roomy = all(half_free(_log(rows, d.name), now, d) for d in demands)
            for demand in demands:
                logged = sum(take.count for take in live(_log(rows, demand.name), now, demand))
                if leases.may_lease(logged, demand):
                    lease = leases.grant(demand, now)
                    for when in (now, lease.until):  # logged at its start and at its end
                        self._write(conn, _free_slot(rows, demand, now), lease.granted, when)
                    granted.append((demand, lease))
                    continue
                slot = _free_slot(rows, demand, now)
                self._write(conn, slot, float(demand.count), now)
                self._mine.setdefault(demand.name, []).append(slot)
        return now, refused, granted

    async def give_back(self, *demands: Demand) -> None:
        """Return unused tokens of this bucket's own takes (for requests not sent after all)."""
        if self._integration_id == UNSAVED_ID:
            return
        rest = [d for d in map(self._to_leases, demands) if d.count > 0]
        if rest:
            await units.write(self._engine, functools.partial(self._give_back, rest))

    def _to_leases(self, demand: Demand) -> Demand:
        """Return drawn tokens to their leases; return the demand for what is left to give."""
        left, drawn = demand.count, self._drawn.get(demand.name, [])
        while left > 0 and drawn:
            lease, tokens = drawn.pop()
            back = min(left, tokens)
            lease.used -= back  # a lease that has ended keeps nothing: no harm done
            left -= back
            if tokens > back:
                drawn.append((lease, tokens - back))
        return dataclasses.replace(demand, count=left)

    def _give_back(self, demands: Sequence[Demand], conn: Connection) -> None:
        rows = self._locked_rows(conn, [demand.name for demand in demands])
        for demand in demands:
            left, mine = demand.count, self._mine.get(demand.name, [])
            # Only this bucket's own takes: lowering another worker's would let it through.
            for slot in reversed(mine):
                row = rows.get(slot)
                if left <= 0 or row is None or row.tokens <= 0:
                    continue
                back = min(left, row.tokens)
                left -= back
                self._write(conn, slot, row.tokens - back, row.updated_at)

    def _locked_rows(self, conn: Connection, names: Sequence[str]) -> dict[str, Any]:
        """Lock the limits' lines (created if missing), then read every row of the limits.

        The line rows serialize the takers of a limit across processes (SQLite has one writer
        anyway). The log is read by a second statement, so on PostgreSQL it sees the rows a
        taker that held the lock before us added.
        """
        lines = [name + LINE for name in names]
        insert = ignoring_insert(buckets, conn.dialect.name)
        start = {"integration_id": self._integration_id, "tokens": 0.0}
        for line in lines:
            values = {**start, "bucket": line, "updated_at": self._clock()}
            driver.execute(conn, insert, values, tuple(values))
        conn.execute(_LOCK_LINES, {"integration_id": self._integration_id, "lines": lines})
        found = driver.execute(conn, _ROWS, {"integration_id": self._integration_id})
        rows = {row.bucket: row for row in found}
        return {key: row for key, row in rows.items() if key.split(SLOT)[0].split(":")[0] in names}

    def _write(self, conn: Connection, name: str, tokens: float, when: datetime) -> None:
        row = {"integration_id": self._integration_id, "bucket": name}
        upsert(conn, buckets, {**row, "tokens": tokens, "updated_at": when}, _KEYS)


_KEYS = ("integration_id", "bucket")
_LOCK_LINES = (
    select(buckets.c.bucket)
    .where(
        buckets.c.integration_id == bindparam("integration_id"),
        buckets.c.bucket.in_(bindparam("lines", expanding=True)),
    )
    .with_for_update()
)
_ROWS = select(buckets.c.bucket, buckets.c.tokens, buckets.c.updated_at).where(
    buckets.c.integration_id == bindparam("integration_id")
)


def _log(rows: dict[str, Any], name: str) -> list[Take]:
    """Return the logged takes of limit ``name``."""
    prefix = name + SLOT
    return [Take(r.updated_at, r.tokens) for key, r in rows.items() if key.startswith(prefix)]


def _line_end(rows: dict[str, Any], name: str) -> datetime | None:
    row = rows.get(name + LINE)
    return None if row is None else row.updated_at


def _free_slot(rows: dict[str, Any], demand: Demand, now: datetime) -> str:
    """Return a row of the log to write this take in: one out of the window, or a new one.

    The row is marked taken in ``rows``, so a second slot asked for in the same take (a lease
    is logged in two) is another row.
    """
    prefix, start = demand.name + SLOT, now - demand.span
    used = {key: row for key, row in rows.items() if key.startswith(prefix)}
    free = (key for key, row in used.items() if row.updated_at <= start or row.tokens <= 0)
    chosen = next(free, None)
    if chosen is None:
        index = 0
        while f"{prefix}{index}" in used:
            index += 1
        chosen = f"{prefix}{index}"
    rows[chosen] = _Taken(float("inf"), now + demand.span)  # not free for the rest of this take
    return chosen


class _Taken(NamedTuple):
    """A row this take writes, as the rest of the take sees it."""

    tokens: float
    updated_at: datetime
