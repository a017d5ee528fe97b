"""A token bucket per integration, kept in the database so every worker process shares it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callbridge.connectors.hubspot.tables import hubspot_rate_buckets as buckets
from callbridge.errors import RateLimited
from callbridge.storage.sql import insert_ignore


def shape(budget: int, window: float) -> tuple[float, float]:
    """Return (burst, refill per second) so no ``window`` ever holds more than ``budget`` takes.

    A bucket of capacity B refilled at r per second allows at most B + r·window takes in any
    window, so r = (budget - B) / window. B is small, to keep most of the budget for the steady
    rate, but at least 2: one lookup is two back-to-back searches (contacts, companies).
    """
    burst = float(min(budget - 1, max(2, budget // 20)))
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

    async def take(self, name: str, budget: int, window: float) -> None:
        """Take a token from bucket ``name`` holding ``budget`` per ``window`` seconds."""
        burst, rate = shape(budget, window)
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
            if tokens < 1:
                wait = (1 - tokens) / rate
                raise RateLimited(f"HubSpot {name} budget of {budget}/{window:g} s used", wait)
            values = {"tokens": tokens - 1, "updated_at": now}
            if row is not None or not await insert_ignore(
                session,
                buckets,
                {"integration_id": self._integration_id, "bucket": name, **values},
            ):
                await session.execute(update(buckets).where(*key).values(**values))
