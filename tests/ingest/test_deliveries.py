"""A delivery's rows, stored on the driver, are those SQLAlchemy's execute stored; replays too."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table, select

from callbridge.ingest.deliveries import ingest
from callbridge.runtime import Runtime
from callbridge.service.bootstrap import create_company
from callbridge.storage import units
from callbridge.storage.sql import ignoring_insert
from callbridge.storage.tables import call_events, webhook_deliveries
from callbridge.testing.webhooks import generic_event, signed

SKIPPED = {"type": "contact.created", "id": "ct-1"}


def _rows(conn: Connection, table: Table, company_id: str) -> list[dict[str, Any]]:
    query = select(table).where(table.c.company_id == company_id).order_by(table.c.id)
    return [dict(row._mapping) for row in conn.execute(query)]


def _by_sqlalchemy(conn: Connection, delivery: dict[str, Any], event: dict[str, Any]) -> None:
    """Store a copy of the delivery and its event through SQLAlchemy's execute, as before."""
    dialect = conn.dialect.name
    values = {k: v for k, v in delivery.items() if k != "id"}
    values["delivery_id"] = "copy"
    copied = conn.execute(ignoring_insert(webhook_deliveries, dialect, "id"), values).scalar()
    row = {k: v for k, v in event.items() if k != "id"}
    row.update(delivery_id=copied, event_id="copy")
    conn.execute(ignoring_insert(call_events, dialect), row)


async def test_rows_and_replays_as_before(migrated_runtime: Runtime) -> None:
    runtime = migrated_runtime
    company = await create_company(runtime, "Acme")
    source_id, secret = company.source_id, company.source_secret
    ringing = generic_event("call.ringing", "c-1", direction="incoming", to="+14155550100")
    body, headers = signed(secret, [ringing, SKIPPED])
    first = await ingest(runtime, source_id, headers, body)
    assert (first.accepted, first.duplicate, first.ignored) == (1, False, first.ignored)
    assert first.ignored is not None
    replay = await ingest(runtime, source_id, headers, body)  # the same webhook-id
    assert (replay.accepted, replay.duplicate) == (0, True)
    again, again_headers = signed(secret, ringing)  # a new webhook-id, the event known
    known = await ingest(runtime, source_id, again_headers, again)
    assert (known.accepted, known.duplicate) == (0, True)

    def stored(conn: Connection) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        return (
            _rows(conn, webhook_deliveries, company.company_id),
            _rows(conn, call_events, company.company_id),
        )

    deliveries, events = await units.read(runtime.engine, stored)
    assert [d["delivery_id"] for d in deliveries] == [
        headers["webhook-id"],
        again_headers["webhook-id"],
    ]
    assert [d["body"] for d in deliveries] == [body, again]
    assert deliveries[0]["ignored_code"] is not None and deliveries[1]["ignored_code"] is None
    assert len(events) == 1 and events[0]["delivery_id"] == deliveries[0]["id"]

    await units.write(runtime.engine, lambda conn: _by_sqlalchemy(conn, deliveries[0], events[0]))
    deliveries_after, events_after = await units.read(runtime.engine, stored)
    copy, copied_event = deliveries_after[-1], events_after[-1]
    assert {**copy, "id": 0, "delivery_id": ""} == {**deliveries[0], "id": 0, "delivery_id": ""}
    same = {"id": 0, "delivery_id": 0, "event_id": ""}
    assert {**copied_event, **same} == {**events[0], **same}
