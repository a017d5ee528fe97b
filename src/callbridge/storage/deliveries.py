"""A source's recent deliveries: the stored ones, and the bounded log of refused ones."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import (
    JSON,
    Connection,
    Integer,
    String,
    Table,
    and_,
    cast,
    delete,
    insert,
    literal,
    null,
    select,
)

from callbridge.storage.tables import call_events, calls, webhook_deliveries, webhook_refusals

#: Refusals kept per source: the newest ones, enough to debug a setup, never a growing table.
KEPT_REFUSALS = 50


class WebhookRefusalRow(TypedDict):
    """A row of ``webhook_refusals``: what a refused sender was told, with a redacted excerpt."""

    id: int
    company_id: str
    source_id: str
    received_at: datetime
    status: int
    error: str
    field: str | None
    message: str
    body_excerpt: str


class DeliveryEventRow(TypedDict):
    """An event a stored delivery brought, and the call it was folded into (None: not yet)."""

    delivery_id: int
    event_id: str
    kind: str
    provider_call_id: str
    call_id: str | None


def record_refusal(db: Connection, refusal: WebhookRefusalRow) -> None:
    """Store a refusal (its ``id`` is ignored) and drop the source's refusals beyond the kept."""
    values = {key: value for key, value in refusal.items() if key != "id"}
    db.execute(insert(webhook_refusals).values(**values))
    scope = and_(
        webhook_refusals.c.company_id == refusal["company_id"],
        webhook_refusals.c.source_id == refusal["source_id"],
    )
    oldest_kept = db.execute(
        select(webhook_refusals.c.id)
        .where(scope)
        .order_by(webhook_refusals.c.id.desc())
        .offset(KEPT_REFUSALS - 1)
        .limit(1)
    ).scalar()
    if oldest_kept is not None:
        db.execute(delete(webhook_refusals).where(scope, webhook_refusals.c.id < oldest_kept))


# The columns of the combined list after its origin, id and time, each with its type: a table
# without one of them gives NULL there.
_COMBINED = {
    "delivery_id": String,
    "ignored_reason": String,
    "ignored_code": JSON,
    "status": Integer,
    "error": String,
    "field": String,
    "message": String,
    "body_excerpt": String,
}


def _newest(table: Table, origin: str, company_id: str, source_id: str, newest: int) -> Any:
    """Select the source's newest rows of ``table`` in the shape of the combined list."""
    columns = [
        table.c[name] if name in table.c else cast(null(), kind).label(name)
        for name, kind in _COMBINED.items()
    ]
    return (
        select(literal(origin).label("origin"), table.c.id, table.c.received_at, *columns)
        .where(table.c.company_id == company_id, table.c.source_id == source_id)
        .order_by(table.c.received_at.desc(), table.c.id.desc())
        .limit(newest)
        .subquery()
    )


def recent(
    db: Connection, company_id: str, source_id: str, limit: int, offset: int
) -> list[dict[str, Any]]:
    """Return a page of the source's deliveries, stored and refused, newest first."""
    newest = limit + offset
    stored = _newest(webhook_deliveries, "stored", company_id, source_id, newest)
    refused = _newest(webhook_refusals, "refused", company_id, source_id, newest)
    both = select(stored).union_all(select(refused)).subquery()
    page = (
        select(both)
        .order_by(both.c.received_at.desc(), both.c.origin, both.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [dict(row) for row in db.execute(page).mappings()]


def events_of(db: Connection, company_id: str, delivery_ids: list[int]) -> list[DeliveryEventRow]:
    """Return the events stored from these deliveries, each with its call once folded."""
    if not delivery_ids:
        return []
    joined = call_events.outerjoin(
        calls,
        and_(
            calls.c.company_id == call_events.c.company_id,
            calls.c.source_id == call_events.c.source_id,
            calls.c.provider_call_id == call_events.c.provider_call_id,
        ),
    )
    query = (
        select(
            call_events.c.delivery_id,
            call_events.c.event_id,
            call_events.c.kind,
            call_events.c.provider_call_id,
            calls.c.id.label("call_id"),
        )
        .select_from(joined)
        .where(call_events.c.company_id == company_id, call_events.c.delivery_id.in_(delivery_ids))
        .order_by(call_events.c.id)
    )
    rows = db.execute(query).mappings()
    return [DeliveryEventRow(**row) for row in rows]  # type: ignore[typeddict-item]
