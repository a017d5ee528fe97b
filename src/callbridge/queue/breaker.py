"""A circuit breaker per integration: when its CRM keeps failing, its syncs wait together.

Each sync runs inside :meth:`Breaker.guard`. After ``failures`` transient failures in a row
(timeouts, 5xx, connection errors) the integration's breaker *opens*: its syncs stop calling
the CRM and wait (``CrmUnreachable``, no attempt spent) until ``retry_at``. Then one sync goes
through as the *probe* (``half_open``); the others keep waiting. If the probe's CRM answers, the
breaker closes and every waiting sync of the integration is made due at once (``wake``): they
resume together. If it fails, the breaker opens again for twice as long (up to a cap).

The state is a row of ``circuit_breakers`` (shared by every worker process, every statement
scoped by company and integration). A sync of a healthy integration reads it once and writes
nothing; only failures, probes and recoveries write. The sync reads it with its other inputs,
in their transaction (:func:`state`), and hands it to :meth:`Breaker.guard`.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from callbridge.errors import ConnectorError, CrmUnreachable, RateLimited, Transient
from callbridge.queue.base import JobQueue
from callbridge.queue.breaker_table import circuit_breakers as breakers
from callbridge.queue.jobs import sync_lock_prefix
from callbridge.settings import Settings
from callbridge.storage import driver, units
from callbridge.storage.sql import ignoring_insert

# The breaker's row not read yet: :meth:`Breaker.admit` reads it.
UNREAD: Any = object()


@dataclass(frozen=True)
class BreakerPolicy:
    """When a breaker opens, and how long it stays open before a probe."""

    failures: int = 5
    open_seconds: float = 30.0
    max_open_seconds: float = 900.0
    # How long a probe may run before another sync may probe (its worker may have died).
    probe_seconds: float = 120.0

    @classmethod
    def from_settings(cls, settings: Settings) -> BreakerPolicy:
        """Return the policy the process's settings ask for."""
        return cls(
            failures=settings.breaker_failures,
            open_seconds=settings.breaker_open_seconds,
            max_open_seconds=settings.breaker_max_open_seconds,
        )

    def open_for(self, opens: int, rand: Callable[[], float] = random.random) -> float:
        """Return the wait before the next probe after the ``opens``-th opening (±10 %)."""
        wait = min(self.max_open_seconds, self.open_seconds * 2.0 ** min(opens - 1, 62))
        return wait * (0.9 + 0.2 * rand())


@dataclass(frozen=True)
class Admission:
    """A sync let through: as the probe or not, and whether the breaker had seen failures."""

    company_id: str
    integration_id: str
    probe: bool
    clean: bool


def unreachable_message(since: datetime, error: str | None) -> str:
    """Say since when an integration's CRM is unreachable, as the API and the calls show it."""
    shown = f"CRM unreachable since {since.isoformat(timespec='seconds')}"
    return f"{shown} ({error})" if error else shown


def states(db: Connection, company_id: str) -> dict[str, dict[str, Any]]:
    """Return the state of the company's integrations whose CRM is unreachable, by id."""
    query = select(breakers).where(
        breakers.c.company_id == company_id, breakers.c.state != "closed"
    )
    return {
        row.integration_id: {
            "state": "unreachable" if row.state == "open" else "probing",
            "since": row.since,
            "next_probe_at": row.retry_at if row.state == "open" else row.probe_until,
            "message": unreachable_message(row.since, row.last_error),
        }
        for row in db.execute(query).all()
    }


class Breaker:
    """Let syncs reach their CRM, or make them wait while it is unreachable."""

    def __init__(
        self,
        engine: AsyncEngine,
        queue: JobQueue,
        policy: BreakerPolicy,
        clock: Callable[[], datetime],
    ) -> None:
        self._engine = engine
        self._queue = queue
        self._policy = policy
        self._clock = clock

    @asynccontextmanager
    async def guard(
        self, company_id: str, integration_id: str, known: Any = UNREAD
    ) -> AsyncIterator[Admission]:
        """Run the block if the breaker lets it through, and note how the CRM answered.

        ``known``: the breaker's row as the sync just read it (:func:`state`; None: no row).
        """
        admission = await self.admit(company_id, integration_id, known)
        try:
            yield admission
        except Transient as err:
            await self.failed(admission, err)
            raise
        except RateLimited:  # our own limits or the CRM's: says nothing of its health
            await self.released(admission)
            raise
        except ConnectorError:  # an answer (refused, invalid): the CRM is reachable
            await self.succeeded(admission)
            raise
        except BaseException:
            await self.released(admission)
            raise
        await self.succeeded(admission)

    async def admit(self, company_id: str, integration_id: str, known: Any = UNREAD) -> Admission:
        """Return the sync's admission, or raise CrmUnreachable with the wait."""
        ids = (company_id, integration_id)
        row = known
        if row is UNREAD:
            row = await units.read(self._engine, lambda conn: state(conn, *ids))
        now = self._clock()
        if row is None or row.state == "closed":
            return Admission(*ids, probe=False, clean=row is None or row.failures == 0)
        if row.state == "open" and now < row.retry_at:
            raise self._unreachable(row, row.retry_at, now)
        claimed = await units.write(self._engine, lambda conn: self._claim_probe(conn, ids, now))
        if isinstance(claimed, Admission):
            return claimed
        raise self._unreachable(claimed, claimed.probe_until or claimed.retry_at, now)

    def _claim_probe(self, conn: Connection, ids: tuple[str, str], now: datetime) -> Any:
        """Become the probe if it is time for one; else return the row to wait on."""
        row = _row(conn, *ids, lock=True)
        if row is None or row.state == "closed":
            return Admission(*ids, probe=False, clean=row is None or row.failures == 0)
        due = row.retry_at if row.state == "open" else row.probe_until
        if now < due:
            return row
        probe_until = now + timedelta(seconds=self._policy.probe_seconds)
        _set(conn, ids, now, state="half_open", probe_until=probe_until)
        return Admission(*ids, probe=True, clean=False)

    def _unreachable(self, row: Any, until: datetime, now: datetime) -> CrmUnreachable:
        wait = max(0.0, (until - now).total_seconds())
        wait += random.random() * min(5.0, 0.1 * wait + 0.5)  # not all at the same instant
        message = unreachable_message(row.since, row.last_error)
        return CrmUnreachable(
            f"{message}; waiting with the integration's other syncs until a probe gets an "
            f"answer (next probe at {until.isoformat(timespec='seconds')})",
            wait,
        )

    async def succeeded(self, admission: Admission) -> None:
        """Close the breaker after an answer; wake the syncs that waited for it."""
        if admission.clean:
            return
        ids = (admission.company_id, admission.integration_id)
        now = self._clock()

        def close(conn: Connection) -> bool:
            row = _row(conn, *ids, lock=True)
            if row is None or (row.state == "closed" and row.failures == 0):
                return False
            _set(conn, ids, now, state="closed", failures=0, opens=0, since=None,
                 retry_at=None, probe_until=None, last_error=None)  # fmt: skip
            return bool(row.state != "closed")

        if await units.write(self._engine, close):
            await self._queue.wake(sync_lock_prefix(admission.integration_id))

    async def released(self, admission: Admission) -> None:
        """Give the probe's turn back when its sync ended without a word from the CRM."""
        if not admission.probe:
            return
        ids = (admission.company_id, admission.integration_id)
        now = self._clock()
        statement = (
            update(breakers)
            .where(
                breakers.c.company_id == ids[0],
                breakers.c.integration_id == ids[1],
                breakers.c.state == "half_open",
            )
            .values(state="open", retry_at=now, probe_until=None, updated_at=now)
        )
        await units.write(self._engine, lambda conn: conn.execute(statement))

    async def failed(self, admission: Admission, error: Exception) -> None:
        """Count a transient failure; open the breaker at the threshold or after a failed probe."""
        ids = (admission.company_id, admission.integration_id)
        now = self._clock()
        policy = self._policy

        def count(conn: Connection) -> None:
            row = _row(conn, *ids, lock=True) or _create(conn, ids, now)
            values: dict[str, Any] = {"failures": row.failures + 1, "since": row.since or now}
            values["last_error"] = f"{type(error).__name__}: {error}"[:500]
            probe_failed = admission.probe and row.state == "half_open"
            if probe_failed or (row.state == "closed" and values["failures"] >= policy.failures):
                opens = row.opens + 1
                retry_at = now + timedelta(seconds=policy.open_for(opens))
                values |= {"state": "open", "opens": opens, "retry_at": retry_at}
                values["probe_until"] = None
            _set(conn, ids, now, **values)

        await units.write(self._engine, count)


def state(conn: Connection, company_id: str, integration_id: str) -> Any:
    """Return the integration's breaker row (None: it never failed), on the driver."""
    scope = {"company_id": company_id, "integration_id": integration_id}
    return driver.execute(conn, _STATE, scope).first()


_STATE = select(breakers).where(
    breakers.c.company_id == bindparam("company_id"),
    breakers.c.integration_id == bindparam("integration_id"),
)


def _row(conn: Connection, company_id: str, integration_id: str, lock: bool = False) -> Any:
    query = select(breakers).where(
        breakers.c.company_id == company_id, breakers.c.integration_id == integration_id
    )
    return conn.execute(query.with_for_update() if lock else query).first()


def _create(conn: Connection, ids: tuple[str, str], now: datetime) -> Any:
    """Add the integration's row (closed, no failure) and return it, locked."""
    row = {"company_id": ids[0], "integration_id": ids[1], "state": "closed", "failures": 0}
    row |= {"opens": 0, "updated_at": now}
    conn.execute(ignoring_insert(breakers, conn.dialect.name), row)
    return _row(conn, *ids, lock=True)


def _set(conn: Connection, ids: tuple[str, str], now: datetime, **values: Any) -> None:
    conn.execute(
        update(breakers)
        .where(breakers.c.company_id == ids[0], breakers.c.integration_id == ids[1])
        .values(updated_at=now, **values)
    )


# Integrations by breaker state, with the start of their outage, across companies: counts only,
# no tenant's row leaves the database.
_OPEN_BY_STATE = (
    select(
        breakers.c.state,
        func.count().label("integrations"),
        func.min(breakers.c.since).label("since"),
    )
    .where(breakers.c.state != "closed")
    .group_by(breakers.c.state)
    .execution_options(tenant_entry="metrics: integrations counted by breaker state")
)


def open_by_state(conn: Connection) -> list[tuple[str, int, datetime | None]]:
    """Count the integrations whose breaker is not closed, by state, with their oldest outage."""
    return [(row.state, int(row.integrations), row.since) for row in conn.execute(_OPEN_BY_STATE)]
