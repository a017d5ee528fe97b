"""The two verbs of the service: ``ingest`` a webhook durably, and ``process`` its jobs."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, or_, select

from callbridge import dialer_events
from callbridge.domain.call import Call, fold
from callbridge.domain.event import CallEvent
from callbridge.domain.phone import PhoneNumber
from callbridge.errors import UnknownSource
from callbridge.matching import external_number
from callbridge.queue import jobs
from callbridge.queue.base import Handler, NewJob, Payload
from callbridge.runtime import Runtime
from callbridge.storage import accounts, calls, integrations, selections, units
from callbridge.storage.codec import event_to_json
from callbridge.storage.source_cache import Source
from callbridge.storage.sql import Executes, ignoring_insert
from callbridge.storage.tables import call_events, users, webhook_deliveries
from callbridge.sync import sync_call
from callbridge.telephony import PROVIDERS
from callbridge.telephony.limits import check_delivery_id


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
    now = runtime.clock()
    adapter.verify(headers, body, source.secrets, now)
    # Everything stored below fits its column and can be folded and synced: parse and the
    # delivery id enforce the limits of telephony.limits before anything is acknowledged.
    delivery = adapter.parse(body, now)
    sent_id = headers.get("webhook-id")
    delivery_id = check_delivery_id(sent_id) if sent_id else hashlib.sha256(body).hexdigest()
    received = Received(source, delivery_id, body, delivery.ignored, now)
    store = functools.partial(_store, received, delivery.events)
    stored = await units.write_with_jobs(runtime.engine, runtime.queue, store)
    if stored is None:
        return IngestResult(0, True, delivery.ignored)
    if stored:
        runtime.queue.notify()
    return IngestResult(stored, stored == 0 and bool(delivery.events), delivery.ignored)


@dataclass(frozen=True)
class Received:
    """One verified delivery, as it is stored."""

    source: Source
    delivery_id: str
    body: bytes
    ignored: str | None
    at: datetime


def _store(
    received: Received, events: Sequence[CallEvent], conn: Connection
) -> tuple[int | None, list[NewJob]]:
    """Store the raw delivery and its new events, with their calls' folds; None: a replay."""
    source = received.source
    dialect = conn.dialect.name
    delivery = conn.execute(
        ignoring_insert(webhook_deliveries, dialect, "id"),
        {
            "company_id": source.company_id,
            "source_id": source.id,
            "delivery_id": received.delivery_id,
            "received_at": received.at,
            "body": received.body,
            "ignored_reason": received.ignored,
        },
    ).scalar()
    if delivery is None:
        return None, []
    folds: dict[str, NewJob] = {}
    accepted = 0
    for event in events:
        row = {
            "company_id": source.company_id,
            "source_id": source.id,
            "delivery_id": delivery,
            "event_id": event.event_id,
            "provider_call_id": event.call_id,
            "kind": event.kind.value,
            "occurred_at": event.occurred_at,
            "data": event_to_json(event),
        }
        if conn.execute(ignoring_insert(call_events, dialect), row).first() is None:
            continue  # an event id already stored
        job = jobs.fold_job(source.company_id, source.id, event.call_id)
        folds[event.call_id] = job
        accepted += 1
    # One waiting fold per call reads every event: it cannot start before this transaction
    # commits (SQLite: this holds the only write lock; PostgreSQL: the queue holds the waiting
    # job's row until then), so it never misses the event stored here.
    return accepted, list(folds.values())


async def fold_call(runtime: Runtime, payload: Payload) -> None:
    """Fold a call's events; once it is final, enqueue its sync to every active integration."""
    folded = await units.write_with_jobs(
        runtime.engine, runtime.queue, functools.partial(_fold, payload, runtime.clock())
    )
    call_id, user_id = folded
    if call_id is not None and user_id is not None:  # only an agent's dialer listens
        dialer_events.announce_soon(runtime, payload["company_id"], call_id)


def _fold(
    payload: Payload, now: datetime, db: Connection
) -> tuple[tuple[str | None, str | None], list[NewJob]]:
    """Store the folded call; when it is final, ask for its sync in each integration.

    A fold that finds no event it has not folded already changes nothing and asks for nothing:
    a fold queued while the previous one ran may find its event already folded by it.
    """
    company_id, source_id = payload["company_id"], payload["source_id"]
    call = fold(calls.load_events(db, company_id, source_id, payload["call"]))
    user_id = agent_user(db, company_id, call)
    call_id = calls.save_call(db, company_id, source_id, call, user_id, now)
    if call_id is None:
        return (None, None), []
    if not call.is_final:
        return (call_id, user_id), []
    company = accounts.get_company(db, company_id)
    assert company is not None
    extensions = accounts.extensions(db, company_id)
    syncs = []
    for integration in integrations.list_integrations(db, company_id):
        number = external_number(call, integration["default_region"], company, extensions)
        e164 = number.e164 if isinstance(number, PhoneNumber) else None
        delay = selections.sync_delay(db, call_id, user_id, integration, e164, call.crm_record_id)
        syncs.append(jobs.sync_job(company_id, call_id, integration["id"], e164, delay))
    return (call_id, user_id), syncs


def agent_user(session: Executes, company_id: str, call: Call) -> str | None:
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
    row = session.execute(
        select(users.c.id).where(users.c.company_id == company_id, or_(*matches)).limit(1)
    )
    return row.scalar_one_or_none()


def handlers(runtime: Runtime) -> dict[str, Handler]:
    """Return the job handlers by task name, bound to ``runtime``."""

    async def fold_job(payload: Payload) -> None:
        await fold_call(runtime, payload)

    async def sync_job(payload: Payload) -> None:
        await sync_call(runtime, payload)

    return {jobs.FOLD: fold_job, jobs.SYNC: sync_job}


async def process(runtime: Runtime, task: str, payload: Payload) -> None:
    """Run one job by task name (used by tests and ``callbridge replay``)."""
    await handlers(runtime)[task](payload)
