"""Live events for each agent's dialer: ringing calls with their candidates, confirmed choices.

In one process, events fan out through asyncio queues, one per open stream. On PostgreSQL an
event is published with ``NOTIFY`` instead, and every process LISTENs on one connection and fans
it out to its own streams, so an API replica sees the calls folded by any worker. Events are a
convenience for the dialer, never the record: what was chosen is in the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import weakref
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from callbridge.domain.phone import PhoneNumber, normalize
from callbridge.domain.record import CrmRecord, ObjectType
from callbridge.errors import ConnectorError
from callbridge.rules import agent_choice
from callbridge.runtime import Runtime
from callbridge.runtime.connectors import connector_for
from callbridge.storage import call_history, integrations, sql, users
from callbridge.storage.integrations import DISABLED, IntegrationRow

CHANNEL = "callbridge_dialer"
QUEUE_SIZE = 100
# NOTIFY payloads are limited to 8000 bytes; larger events say "changed" and the dialer refetches.
NOTIFY_LIMIT = 7900

log = logging.getLogger(__name__)
Key = tuple[str, str]


class Broker:
    """Fan events out to the open streams of each (company, agent)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._streams: dict[Key, set[asyncio.Queue[dict[str, Any]]]] = {}
        self._listener: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()

    @property
    def uses_notify(self) -> bool:
        """Tell whether events travel through PostgreSQL's NOTIFY (multi-process)."""
        return self._engine.dialect.name == "postgresql"

    async def publish(self, company_id: str, user_id: str, event: dict[str, Any]) -> None:
        """Send an event to every stream of the agent, in this process or any other."""
        if not self.uses_notify:
            self.deliver(company_id, user_id, event)
            return
        body = json.dumps({"c": company_id, "u": user_id, "e": event}, default=str)
        if len(body.encode()) > NOTIFY_LIMIT:
            small = {"type": event.get("type"), "call_id": event.get("call_id"), "truncated": True}
            body = json.dumps({"c": company_id, "u": user_id, "e": small})
        try:
            async with self._engine.begin() as conn:
                await conn.execute(text("SELECT pg_notify(:c, :b)"), {"c": CHANNEL, "b": body})
        except Exception:  # the stream is best effort: deliver here at least
            log.warning("NOTIFY failed; delivering in this process only", exc_info=True)
            self.deliver(company_id, user_id, event)

    def deliver(self, company_id: str, user_id: str, event: dict[str, Any]) -> None:
        """Put an event on this process's streams of the agent (a full stream drops it)."""
        for queue in self._streams.get((company_id, user_id), ()):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(event)

    @contextlib.asynccontextmanager
    async def subscribe(
        self, company_id: str, user_id: str
    ) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        """Open a stream of the agent's events for as long as the context lasts."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        self._streams.setdefault((company_id, user_id), set()).add(queue)
        try:
            if self.uses_notify:
                await self._listen()
            yield queue
        finally:
            streams = self._streams.get((company_id, user_id), set())
            streams.discard(queue)
            if not streams:
                self._streams.pop((company_id, user_id), None)

    async def _listen(self) -> None:
        if self._listener is None or self._listener.done():
            self._listening.clear()
            self._listener = asyncio.create_task(self._run_listener())
        await asyncio.wait_for(self._listening.wait(), timeout=10)

    async def _run_listener(self) -> None:
        """LISTEN on one dedicated connection and deliver what any process publishes."""
        while True:
            try:
                async with self._engine.connect() as conn:
                    await conn.execution_options(isolation_level="AUTOCOMMIT")
                    await conn.exec_driver_sql(f"LISTEN {CHANNEL}")
                    driver: Any = (await conn.get_raw_connection()).driver_connection
                    self._listening.set()
                    async for note in driver.notifies():
                        self._on_notify(note.payload)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("dialer LISTEN connection lost; reconnecting", exc_info=True)
                await asyncio.sleep(1)

    def _on_notify(self, payload: str) -> None:
        message = json.loads(payload)
        self.deliver(message["c"], message["u"], message["e"])

    async def close(self) -> None:
        """Stop listening."""
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener


# One broker per database and event loop: the API and the embedded worker may use two engines
# on one SQLite file (see Runtime.for_worker), and must still meet on the same streams.
_brokers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, Broker]] = (
    weakref.WeakKeyDictionary()
)


def broker(engine: AsyncEngine) -> Broker:
    """Return this process's broker for the database behind ``engine``."""
    per_loop = _brokers.setdefault(asyncio.get_running_loop(), {})
    key = engine.url.render_as_string(hide_password=True)
    found = per_loop.get(key)
    if found is None:
        found = per_loop[key] = Broker(engine)
    return found


async def find_candidates(
    runtime: Runtime, integrations: list[IntegrationRow], raw: str
) -> dict[str, list[CrmRecord]]:
    """Return the records matching ``raw`` in each integration, searched concurrently."""

    async def search(integration: IntegrationRow) -> list[CrmRecord]:
        number = normalize(raw, integration["default_region"])
        if not isinstance(number, PhoneNumber) or integration["status"] != "active":
            return []
        try:
            return await connector_for(runtime, integration).find_by_phone(number)
        except ConnectorError:  # one CRM down must not hide the others' records
            log.warning("candidate search failed in %s", integration["id"], exc_info=True)
            return []

    found = await asyncio.gather(*(search(i) for i in integrations))
    return {i["id"]: records for i, records in zip(integrations, found, strict=True)}


def show(candidates: dict[str, list[CrmRecord]], only: ObjectType | None = None) -> dict[str, Any]:
    """Describe candidates as the dialer lists them: grouped by object type, with a count."""
    pairs = [(i, r) for i, records in candidates.items() for r in records]
    groups = agent_choice.group(pairs, only)
    return {
        "count": sum(len(items) for items in groups.values()),
        "groups": {
            kind: [{"integration_id": i, **summary(r)} for i, r in items]
            for kind, items in groups.items()
        },
    }


def summary(record: CrmRecord) -> dict[str, Any]:
    """Describe one record for the dialer."""
    return {
        "record_id": record.id,
        "object_type": record.object_type.value,
        "name": record.name,
        "owner": record.owner,
        "updated_at": record.updated_at.isoformat() if record.updated_at else None,
    }


async def selection_scope(
    runtime: Runtime, company_id: str, permissions: list[str] | None
) -> tuple[list[IntegrationRow], str | None]:
    """Return the integrations where manual selection is on, or why selection is disabled."""
    async with runtime.reads() as session:
        rows = await sql.run(session, integrations.list_integrations, company_id)
    enabled = [
        row
        for row in rows
        if (row["config"] or {}).get(agent_choice.OPTION) and row["status"] != DISABLED
    ]
    reason = agent_choice.gate(permissions, bool(enabled))
    return (enabled, None) if reason is None else ([], reason)


async def announce(runtime: Runtime, company_id: str, call_id: str) -> None:
    """Tell the call's agent about it: ringing with its candidates, or over (grace window)."""
    async with runtime.reads() as session:
        call = await sql.run(session, call_history.get_call, company_id, call_id)
        if call is None or call["user_id"] is None:
            return
        role = await sql.run(session, users.user_role, company_id, call["user_id"])
        admin = role == "admin"
        permissions = await sql.run(session, users.user_permissions, company_id, call["user_id"])
    event: dict[str, Any] = {
        "type": "call",
        "call_id": call_id,
        "provider_call_id": call["provider_call_id"],
        "state": call["state"],
        "direction": call["direction"],
        "number": call["from_number"] if call["direction"] == "incoming" else call["to_number"],
    }
    if call["state"] in ("ringing", "answered") and event["number"]:
        scope, reason = await selection_scope(runtime, company_id, None if admin else permissions)
        event["selection"] = {"enabled": reason is None, "reason": reason}
        if scope:
            event.update(show(await find_candidates(runtime, scope, event["number"])))
    await broker(runtime.engine).publish(company_id, call["user_id"], event)


_tasks: set[asyncio.Task[None]] = set()


def announce_soon(runtime: Runtime, company_id: str, call_id: str) -> None:
    """Announce the call to its agent in the background (never blocking the fold)."""
    task = asyncio.get_running_loop().create_task(_announce_safely(runtime, company_id, call_id))
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


async def _announce_safely(runtime: Runtime, company_id: str, call_id: str) -> None:
    try:
        await announce(runtime, company_id, call_id)
    except Exception:  # the dialer's live view is best effort; the fold already succeeded
        log.warning("could not announce call %s to its agent", call_id, exc_info=True)
