"""A token bucket per integration, kept in the database so every worker process shares it.

A take is all or nothing across buckets (a lookup's searches and its general requests). A refused
take is told to come back when the tokens it needs will be there: the bucket keeps a waiting line
(the time its last refused take is due), so syncs refused one after the other come back one after
the other, each when the refill has covered the takes due before it, instead of all at once.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callbridge.connectors.base import UNSAVED_ID
from callbridge.connectors.hubspot.tables import hubspot_rate_buckets as buckets
from callbridge.errors import RateLimited
from callbridge.storage.sql import insert_ignore

# The most tokens one take asks for: a lookup's two searches and the call log after them, or an
# open-deal lookup's two requests and the call log after them.
LARGEST_TAKE = 3
# A refused take comes back up to this share of its own refill time late, so takes refused at
# the same moment by several workers do not all come back at the same instant.
JITTER = 0.1
# The row of a bucket's waiting line: ``updated_at`` is when the last refused take is due.
LINE = ":line"


def shape(budget: int, window: float, *, strict: bool = True) -> tuple[float, float]:
    """Return (burst, refill per second) of a bucket for ``budget`` takes per ``window``.

    Strict: no window ever holds more than ``budget`` takes. A bucket of capacity B refilled at r
    per second allows at most B + r·window takes in any window, so r = (budget - B) / window.
    B is small (a twentieth of the budget, at least one more than the largest take), as every
    token of B is taken from the sustained rate: with a budget of 100 per 10 s, B = 5 and
    r = 9.5/s. Not strict: a plain bucket of ``budget`` refilled at budget / window (twice the
    budget in the worst window; HubSpot's per-second search limit is then answered with a
    short 429).
    """
    if not strict:
        return float(budget), budget / window
    burst = float(min(budget - 1, max(LARGEST_TAKE + 1, budget // 20)))
    return burst, (budget - burst) / window


@dataclass(frozen=True)
class Demand:
    """``count`` tokens of bucket ``name``, which allows ``budget`` takes per ``window`` s.

    ``need``: if refused, the tokens to come back for (at least ``count``, at most a burst). A
    sync refused half-way takes again, when retried, what it took before this take.
    """

    name: str
    budget: int
    window: float
    count: int
    strict: bool = True
    need: int = 0

    @property
    def burst(self) -> float:
        """Return the bucket's capacity."""
        return shape(self.budget, self.window, strict=self.strict)[0]

    @property
    def rate(self) -> float:
        """Return the bucket's refill, in tokens per second."""
        return shape(self.budget, self.window, strict=self.strict)[1]

    @property
    def wanted(self) -> float:
        """Return the tokens a refused take must find when it comes back."""
        return max(self.count, min(self.need, self.burst))


def due(now: datetime, tokens: float, line_end: datetime | None, demand: Demand) -> datetime:
    """Return when a refused ``demand`` will find its tokens, after the takes already waiting.

    The bucket was empty ``tokens / rate`` seconds ago; if takes are waiting, it is empty again
    when the last of them is served (``line_end``). This take's tokens are there
    ``wanted / rate`` seconds after that.
    """
    empty = now - timedelta(seconds=tokens / demand.rate)
    if line_end is not None and line_end > empty:
        empty = line_end
    return empty + timedelta(seconds=demand.wanted / demand.rate)


class RateBucket:
    """Take tokens before requests, or raise RateLimited with the wait; never sleep."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        integration_id: str,
        clock: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._integration_id = integration_id
        self._clock = clock

    async def take(self, *demands: Demand) -> None:
        """Take every demand's tokens at once, or none and raise RateLimited with the wait."""
        if self._integration_id == UNSAVED_ID:  # a credentials check before the integration exists
            return
        refused: list[tuple[Demand, datetime]] = []
        async with self._sessions.begin() as session:
            now = self._clock()
            rows = await self._rows(session, [d.name for d in demands])
            tokens = {d.name: self._tokens(rows.get(d.name), now, d) for d in demands}
            for demand in demands:
                if tokens[demand.name] < demand.count:
                    line = rows.get(demand.name + LINE)
                    when = due(now, tokens[demand.name], line and line.updated_at, demand)
                    refused.append((demand, when))
            if refused:
                # The refusal books the take's place in the line; the tokens stay in the bucket.
                for demand, when in refused:
                    await self._write(session, demand.name + LINE, rows, 0.0, when)
            else:
                for demand in demands:
                    left = tokens[demand.name] - demand.count
                    await self._write(session, demand.name, rows, left, now)
        if refused:
            demand, when = max(refused, key=lambda item: item[1])
            jitter = random.random() * JITTER * demand.wanted / demand.rate
            wait = (when - now).total_seconds() + jitter
            raise RateLimited(
                f"HubSpot {demand.name} budget of {demand.budget}/{demand.window:g} s used", wait
            )

    async def give_back(self, *demands: Demand) -> None:
        """Return unused tokens (taken for requests that turned out not to be needed)."""
        if self._integration_id == UNSAVED_ID:
            return
        async with self._sessions.begin() as session:
            now = self._clock()
            rows = await self._rows(session, [demand.name for demand in demands])
            for demand in demands:
                tokens = self._tokens(rows.get(demand.name), now, demand)
                await self._write(
                    session, demand.name, rows, min(demand.burst, tokens + demand.count), now
                )

    async def _rows(self, session: AsyncSession, names: Sequence[str]) -> dict[str, Any]:
        wanted = [*names, *(name + LINE for name in names)]
        query = (
            select(buckets.c.bucket, buckets.c.tokens, buckets.c.updated_at)
            .where(buckets.c.integration_id == self._integration_id, buckets.c.bucket.in_(wanted))
            .with_for_update()
        )
        return {row.bucket: row for row in (await session.execute(query)).all()}

    @staticmethod
    def _tokens(row: Any, now: datetime, demand: Demand) -> float:
        """Return the tokens in the bucket now: what was left, plus the refill since (capped)."""
        if row is None:
            return demand.burst
        elapsed = max(0.0, (now - row.updated_at).total_seconds())
        return float(min(demand.burst, row.tokens + elapsed * demand.rate))

    async def _write(
        self, session: AsyncSession, name: str, rows: dict[str, Any], tokens: float, when: datetime
    ) -> None:
        values = {"tokens": tokens, "updated_at": when}
        if name in rows or not await insert_ignore(
            session, buckets, {"integration_id": self._integration_id, "bucket": name, **values}
        ):
            await session.execute(
                update(buckets)
                .where(buckets.c.integration_id == self._integration_id, buckets.c.bucket == name)
                .values(**values)
            )
