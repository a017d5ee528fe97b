"""A token bucket per integration, kept in the database so every worker process shares it."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callbridge.connectors.hubspot.tables import hubspot_rate_buckets as buckets
from callbridge.errors import RateLimited
from callbridge.storage.sql import insert_ignore


def shape(budget: int, window: float, *, strict: bool = True) -> tuple[float, float]:
    """Return (burst, refill per second) of a bucket for ``budget`` takes per ``window``.

    Strict: no window ever holds more than ``budget`` takes. A bucket of capacity B refilled at r
    per second allows at most B + r·window takes in any window, so r = (budget - B) / window;
    B is a tenth of the budget (at least 8: a sync reserves its usual requests in one take).
    Not strict: a plain bucket of ``budget`` refilled at budget / window (twice the budget in
    the worst window; HubSpot's per-second search limit is then answered with a short 429).
    """
    if not strict:
        return float(budget), budget / window
    burst = float(min(budget - 1, max(8, budget // 10)))
    return burst, (budget - burst) / window


class RateBucket:
    """Take one token before each request, or raise RateLimited with the wait; never sleep."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        integration_id: str,
        clock: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._integration_id = integration_id
        self._clock = clock

    async def take(
        self, name: str, budget: int, window: float, *, strict: bool = True, count: int = 1
    ) -> None:
        """Take ``count`` tokens at once from bucket ``name`` (``budget`` per ``window`` s)."""
        burst, rate = shape(budget, window, strict=strict)
        key = (buckets.c.integration_id == self._integration_id, buckets.c.bucket == name)
        async with self._sessions.begin() as session:
            now = self._clock()
            row = (
                await session.execute(
                    select(buckets.c.tokens, buckets.c.updated_at).where(*key).with_for_update()
                )
            ).first()
            tokens = burst
            if row is not None:
                elapsed = max(0.0, (now - row.updated_at).total_seconds())
                tokens = min(burst, row.tokens + elapsed * rate)
            if tokens < count:
                # Wait for a full burst, not one token: a job spends several requests in a row,
                # and one that always woke up to a single token would never get through; the
                # jitter keeps the jobs refused together from all waking up together.
                wait = (burst - tokens) / rate * (1 + random.random() / 2)
                raise RateLimited(f"HubSpot {name} budget of {budget}/{window:g} s used", wait)
            values = {"tokens": tokens - count, "updated_at": now}
            if row is not None or not await insert_ignore(
                session,
                buckets,
                {"integration_id": self._integration_id, "bucket": name, **values},
            ):
                await session.execute(update(buckets).where(*key).values(**values))
