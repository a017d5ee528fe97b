"""The call history as the API shows it: a page of calls, and one call with all it left behind.

Repositories like the others (a ``Connection`` and the company in every WHERE clause), run by the
API through ``await sql.run(session, ...)``. A page's syncs and activity links are read in one
query each and grouped by call in one pass.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, Table, or_, select

from callbridge.storage.tables import activity_links, call_actions, call_events, call_syncs, calls

Row = dict[str, Any]


@dataclass(frozen=True)
class CallFilter:
    """Which of the company's calls a page lists (None: any)."""

    state: str | None = None
    direction: str | None = None
    number: str | None = None  # a substring of the from or to number
    since: datetime | None = None


@dataclass(frozen=True)
class PagedCall:
    """A call of a page, with its sync in each integration and the records it was logged on."""

    call: Row
    syncs: list[Row] = field(default_factory=list)
    links: list[Row] = field(default_factory=list)


@dataclass(frozen=True)
class CallRecord:
    """One call with its events, its syncs, the actions planned and the activities written."""

    call: Row
    events: list[Row]
    syncs: list[Row]
    actions: list[Row]
    links: list[Row]


def page(
    db: Connection, company_id: str, wanted: CallFilter, limit: int, offset: int
) -> list[PagedCall]:
    """Return a page of the company's calls, newest first, each with its syncs and links."""
    query = select(calls).where(calls.c.company_id == company_id)
    if wanted.state:
        query = query.where(calls.c.state == wanted.state)
    if wanted.direction:
        query = query.where(calls.c.direction == wanted.direction)
    if wanted.number:
        pattern = f"%{wanted.number}%"
        query = query.where(or_(calls.c.from_number.like(pattern), calls.c.to_number.like(pattern)))
    if wanted.since:
        query = query.where(calls.c.created_at >= wanted.since)
    query = query.order_by(calls.c.created_at.desc(), calls.c.id).limit(limit).offset(offset)
    rows = _rows(db, query)
    ids = [row["id"] for row in rows]
    syncs = by_call(_rows(db, _of_calls(call_syncs, company_id, ids)))
    links = by_call(_rows(db, _of_calls(activity_links, company_id, ids)))
    return [PagedCall(row, syncs.get(row["id"], []), links.get(row["id"], [])) for row in rows]


def by_call(rows: Iterable[Row]) -> dict[str, list[Row]]:
    """Group rows by their ``call_id``, keeping their order within each call."""
    grouped: defaultdict[str, list[Row]] = defaultdict(list)
    for row in rows:
        grouped[row["call_id"]].append(row)
    return dict(grouped)


def record(db: Connection, company_id: str, call_id: str) -> CallRecord | None:
    """Return one of the company's calls with all it left behind; None: no such call."""
    found = _rows(db, select(calls).where(calls.c.id == call_id, calls.c.company_id == company_id))
    if not found:
        return None
    call = found[0]
    events = (
        select(call_events.c.event_id, call_events.c.kind, call_events.c.occurred_at)
        .where(
            call_events.c.company_id == company_id,
            call_events.c.source_id == call["source_id"],
            call_events.c.provider_call_id == call["provider_call_id"],
        )
        .order_by(call_events.c.occurred_at)
    )
    actions = _of_call(call_actions, company_id, call_id).order_by(call_actions.c.id)
    return CallRecord(
        call,
        _rows(db, events),
        _rows(db, _of_call(call_syncs, company_id, call_id)),
        _rows(db, actions),
        _rows(db, _of_call(activity_links, company_id, call_id)),
    )


def _of_calls(table: Table, company_id: str, call_ids: Sequence[str]) -> Select[Any]:
    """Select the rows of ``table`` for a page of the company's calls."""
    return select(table).where(table.c.company_id == company_id, table.c.call_id.in_(call_ids))


def _of_call(table: Table, company_id: str, call_id: str) -> Select[Any]:
    """Select the rows of ``table`` for one of the company's calls."""
    return select(table).where(table.c.company_id == company_id, table.c.call_id == call_id)


def _rows(db: Connection, query: Select[Any]) -> list[Row]:
    return [dict(row) for row in db.execute(query).mappings().all()]
