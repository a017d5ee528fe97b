"""The two verbs of the service: ``ingest`` a webhook durably, and ``process`` its jobs."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from callbridge import dialer_events
from callbridge.domain.call import Call, fold
from callbridge.domain.phone import PhoneNumber
from callbridge.errors import InputError
from callbridge.matching import external_number
from callbridge.queue.base import Handler, Payload
from callbridge.runtime import Runtime
from callbridge.storage import accounts, calls, integrations, selections
from callbridge.storage.codec import event_to_json
from callbridge.storage.source_cache import Source
from callbridge.storage.sql import insert_ignore
from callbridge.storage.tables import call_events, users, webhook_deliveries
from callbridge.sync import sync_call
from callbridge.telephony import PROVIDERS


class UnknownSource(InputError):
    """The webhook URL names no telephony source."""


@dataclass(frozen=True)
class IngestResult:
    """What the webhook endpoint answers: how many events were new, and if all were known."""

    accepted: int
    duplicate: bool
    ignored: str | None = None


async def ingest(
    runtime: Runtime,
    source_id: str,
    headers: Mapping[str, str],
    body: bytes,
    provider: str | None = None,
) -> IngestResult:
    """Verify, parse and durably store one delivery with its jobs, before it is acknowledged."""
    source = await runtime.sources.get(runtime.reads, runtime.box, source_id)
    if source is None or (provider is not None and source.provider != provider):
        raise UnknownSource(
            f"no {provider or 'telephony'} source {source_id}: check the webhook URL"
        )
    adapter = PROVIDERS[source.provider]
    adapter.verify(headers, body, source.secrets, runtime.clock())
    delivery = adapter.parse(body)
    delivery_id = headers.get("webhook-id") or hashlib.sha256(body).hexdigest()
    async with runtime.sessions.begin() as session:
        stored = await _store(runtime, session, source, delivery_id, body, delivery.ignored)
        if not stored:
            return IngestResult(0, True, delivery.ignored)
        accepted = 0
        for event in delivery.events:
            accepted += await _store_event(runtime, session, source, stored, event)
    if accepted:
        runtime.queue.notify()
    return IngestResult(accepted, accepted == 0 and bool(delivery.events), delivery.ignored)


async def _store(
    runtime: Runtime,
    session: AsyncSession,
    source: Source,
    delivery_id: str,
    body: bytes,
    ignored: str | None,
) -> int | None:
    """Store the raw delivery; None if this delivery id was already received."""
    values = {
        "company_id": source.company_id,
        "source_id": source.id,
        "delivery_id": delivery_id,
        "received_at": runtime.clock(),
        "body": body,
        "ignored_reason": ignored,
    }
    inserted = await insert_ignore(session, webhook_deliveries, values, returning="id")
    return None if inserted is None else int(inserted)


async def _store_event(
    runtime: Runtime, session: AsyncSession, source: Source, delivery: int, event: Any
) -> int:
    """Store one event and enqueue the fold of its call; 0 if the event id was already known."""
    inserted = await insert_ignore(
        session,
        call_events,
        {
            "company_id": source.company_id,
            "source_id": source.id,
            "delivery_id": delivery,
            "event_id": event.event_id,
            "provider_call_id": event.call_id,
            "kind": event.kind.value,
            "occurred_at": event.occurred_at,
            "data": event_to_json(event),
        },
    )
    if not inserted:
        return 0
    key = f"{source.id}:{event.call_id}"
    connection = await session.connection()
    # On SQLite a waiting fold cannot start before this transaction commits (it holds the only
    # write lock, and claiming a job needs it), so one waiting fold per call reads every event.
    # On PostgreSQL it could start in between and miss this event: there, one fold per event.
    coalesce = connection.dialect.name == "sqlite"
    await runtime.queue.enqueue(
        connection,
        "fold",
        {"company_id": source.company_id, "source_id": source.id, "call": event.call_id},
        lock_key=f"call:{key}",
        queueing_lock=f"fold:{key}" if coalesce else None,
    )
    return 1


async def fold_call(runtime: Runtime, payload: Payload) -> None:
    """Fold a call's events; once it is final, enqueue its sync to every active integration."""
    company_id, source_id = payload["company_id"], payload["source_id"]
    async with runtime.sessions.begin() as session:
        call = fold(await calls.load_events(session, source_id, payload["call"]))
        user_id = await agent_user(session, company_id, call)
        call_id = await calls.save_call(
            session, company_id, source_id, call, user_id, runtime.clock()
        )
        dialer_events.after_commit(session, runtime, company_id, call_id)
        if not call.is_final:
            return
        company = await accounts.get_company(session, company_id)
        assert company is not None
        extensions = await accounts.extensions(session, company_id)
        for integration in await integrations.list_integrations(session, company_id):
            number = external_number(call, integration["default_region"], company, extensions)
            key = number.e164 if isinstance(number, PhoneNumber) else f"call:{call_id}"
            delay = await selections.sync_delay(
                session, call_id, user_id, integration, key, call.crm_record_id
            )
            await runtime.queue.enqueue(
                await session.connection(),
                "sync",
                {"company_id": company_id, "call_id": call_id, "integration_id": integration["id"]},
                lock_key=f"sync:{integration['id']}:{key}",
                queueing_lock=f"sync:{call_id}:{integration['id']}",
                delay_seconds=delay,
            )


async def agent_user(session: AsyncSession, company_id: str, call: Call) -> str | None:
    """Map the call's agent to a user of the company by telephony id, email or extension."""
    agent = call.agent
    if agent is None:
        return None
    matches = []
    if agent.id:
        matches.append(users.c.telephony_user_id == agent.id)
    if agent.email:
        matches.append(users.c.email == agent.email.lower())
    if agent.extension:
        matches.append(users.c.extension == agent.extension)
    if not matches:
        return None
    row = await session.execute(
        select(users.c.id).where(users.c.company_id == company_id, or_(*matches)).limit(1)
    )
    return row.scalar_one_or_none()


def handlers(runtime: Runtime) -> dict[str, Handler]:
    """Return the job handlers by task name, bound to ``runtime``."""

    async def fold_job(payload: Payload) -> None:
        await fold_call(runtime, payload)

    async def sync_job(payload: Payload) -> None:
        await sync_call(runtime, payload)

    return {"fold": fold_job, "sync": sync_job}


async def process(runtime: Runtime, task: str, payload: Payload) -> None:
    """Run one job by task name (used by tests and ``callbridge replay``)."""
    await handlers(runtime)[task](payload)
