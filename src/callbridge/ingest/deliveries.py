"""The two verbs of the service: ``ingest`` a webhook durably, and ``process`` its jobs."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from callbridge.domain.event import CallEvent
from callbridge.domain.said import code_of
from callbridge.errors import PayloadError, SignatureError, UnknownSource
from callbridge.ingest.refusals import Refused, remember
from callbridge.queue import jobs
from callbridge.queue.base import NewJob
from callbridge.runtime import Runtime
from callbridge.storage import driver, units
from callbridge.storage.codec import event_to_json
from callbridge.storage.source_cache import Source
from callbridge.storage.sql import ignoring_insert
from callbridge.storage.tables import call_events, webhook_deliveries
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
    url: str = "",
) -> IngestResult:
    """Verify, parse and durably store one delivery with its jobs, before it is acknowledged.

    ``url`` is the public URL the delivery was posted to (Twilio signs it).
    """
    source = await runtime.sources.get(runtime.reads, runtime.box, source_id)
    now = runtime.clock()
    if source is None or (provider is not None and source.provider != provider):
        unknown = UnknownSource(
            f"no {provider or 'telephony'} source {source_id}: check the webhook URL"
        )
        if source is not None:  # the right source at another provider's URL: tell its admin
            await remember(runtime, source, Refused(404, "unknown_source", str(unknown)), body, now)
        raise unknown
    adapter = PROVIDERS[source.provider]
    try:
        adapter.verify(headers, body, source.secrets, now, url)
        # Everything stored below fits its column and can be folded and synced: parse and the
        # delivery id enforce the limits of telephony.limits before anything is acknowledged.
        delivery = adapter.parse(body, now)
        sent_id = headers.get("webhook-id")
        delivery_id = check_delivery_id(sent_id) if sent_id else hashlib.sha256(body).hexdigest()
    except SignatureError as err:
        await remember(runtime, source, Refused(401, "invalid_signature", str(err)), body, now)
        raise
    except PayloadError as err:
        refused = Refused(422, "invalid_payload", err.problem, err.field)
        await remember(runtime, source, refused, body, now)
        raise
    received = Received(source, delivery_id, body, delivery.ignored, now)
    store = functools.partial(_store, received, delivery.events)
    stored = await units.write_with_jobs(runtime.engine, runtime.queue, store)
    if stored is None:
        return IngestResult(0, True, delivery.ignored)
    if stored:
        runtime.queue.notify()
    return IngestResult(stored, stored == 0 and bool(delivery.events), delivery.ignored)


async def refuse_oversized(runtime: Runtime, source_id: str, provider: str, limit: int) -> None:
    """Log, on its source, a delivery refused with 413 for a body over ``limit`` bytes."""
    source = await runtime.sources.get(runtime.reads, runtime.box, source_id)
    if source is not None and source.provider == provider:
        refused = Refused(413, "too_large", f"body is larger than {limit} bytes")
        await remember(runtime, source, refused, b"", runtime.clock())


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
    values = {
        "company_id": source.company_id,
        "source_id": source.id,
        "delivery_id": received.delivery_id,
        "received_at": received.at,
        "body": received.body,
        "ignored_reason": received.ignored,
        "ignored_code": code_of(received.ignored),
    }
    # On the driver: the same INSERT … ON CONFLICT DO NOTHING RETURNING, without SQLAlchemy's
    # execution path (its Python was a third of the webhook's unit).
    stored = driver.execute(
        conn, ignoring_insert(webhook_deliveries, dialect, "id"), values, _DELIVERY
    )
    first = stored.first()
    if first is None:
        return None, []
    delivery = first[0]
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
        if driver.execute(conn, ignoring_insert(call_events, dialect), row, _EVENT).first() is None:
            continue  # an event id already stored
        job = jobs.fold_job(source.company_id, source.id, event.call_id)
        folds[event.call_id] = job
        accepted += 1
    # One waiting fold per call reads every event: it cannot start before this transaction
    # commits (SQLite: this holds the only write lock; PostgreSQL: the queue holds the waiting
    # job's row until then), so it never misses the event stored here.
    return accepted, list(folds.values())


# The columns each insert is given (its rows' keys, always the same).
_DELIVERY = (
    "company_id",
    "source_id",
    "delivery_id",
    "received_at",
    "body",
    "ignored_reason",
    "ignored_code",
)
_EVENT = (
    "company_id",
    "source_id",
    "delivery_id",
    "event_id",
    "provider_call_id",
    "kind",
    "occurred_at",
    "data",
)
