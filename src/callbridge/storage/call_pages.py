"""The call history as the API shows it: a page of calls, and one call with all it left behind.

Repositories like the others (a ``Connection`` and the company in every WHERE clause), run by the
API through ``await sql.run(session, ...)``. A page's syncs and activity links are read in one
query each and grouped by call in one pass. Pages are keyset-paged (``Cursor``: the key of a
page's edge row) and every filter reads an index: tests/storage/test_call_history_plan.py checks
the plans on both databases.
"""

from __future__ import annotations

import base64
import binascii
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Table,
    and_,
    exists,
    literal_column,
    or_,
    select,
)

from callbridge.storage.tables import (
    activity_links,
    call_actions,
    call_events,
    call_syncs,
    calls,
    integrations,
    users,
)

Row = dict[str, Any]

#: Where a call's sync can stand in an integration (``call_syncs.status``).
SYNC_STATUSES = ("running", "waiting", "failed", "done", "no_match", "skipped")


@dataclass(frozen=True)
class CallFilter:
    """Which of the company's calls a page lists (None: any); every filter given must hold."""

    state: str | None = None
    direction: str | None = None
    number: str | None = None  # the start of the from or to number, as stored
    since: datetime | None = None  # created at or after
    until: datetime | None = None  # created before
    agent: str | None = None  # the user who took or made the call
    integration: str | None = None  # synced to this integration
    status: str | None = None  # a sync in this status (in ``integration`` when given)


@dataclass(frozen=True)
class Cursor:
    """A place in the history's order (newest first, then id): the key of a page's edge row."""

    created_at: datetime
    id: str

    def token(self) -> str:
        """Return the cursor as an opaque URL-safe string."""
        raw = f"{self.created_at.isoformat()}|{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def read(cls, token: str | None) -> Cursor | None:
        """Return the cursor a token stands for; None when empty or not one of ours."""
        if not token:
            return None
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            at, call_id = raw.split("|", 1)
            created_at = datetime.fromisoformat(at)
        except (ValueError, binascii.Error, UnicodeDecodeError):
            return None
        if created_at.tzinfo is None or not call_id or len(call_id) > 36:
            return None
        return cls(created_at, call_id)

    @classmethod
    def of(cls, call: Row) -> Cursor:
        """Return the cursor at a call of a page."""
        return cls(call["created_at"], call["id"])


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
    db: Connection,
    company_id: str,
    wanted: CallFilter,
    limit: int,
    offset: int = 0,
    *,
    after: Cursor | None = None,
    before: Cursor | None = None,
) -> list[PagedCall]:
    """Return a page of the company's calls, newest first, each with its syncs and links.

    ``after`` pages on to older calls, ``before`` back to newer ones (keyset: the database
    reads the page's rows from an index, however deep the page is).
    """
    query = select(calls).where(calls.c.company_id == company_id, *_conditions(company_id, wanted))
    at = _sort_key(db, wanted)
    order = (at.desc(), calls.c.id.desc())
    if after is not None:
        query = query.where(*_older(at, after))
    if before is not None:
        query = query.where(*_newer(at, before))
        order = (at.asc(), calls.c.id.asc())
    rows = _rows(db, query.order_by(*order).limit(limit).offset(offset))
    if before is not None:
        rows.reverse()
    ids = [row["id"] for row in rows]
    syncs = by_call(_rows(db, _of_calls(call_syncs, company_id, ids)))
    links = by_call(_rows(db, _of_calls(activity_links, company_id, ids)))
    return [PagedCall(row, syncs.get(row["id"], []), links.get(row["id"], [])) for row in rows]


#: A number prefix this long is read from the number indexes; a shorter one (``+336``), which may
#: match most calls, walks the history's order instead (at 100k calls on SQLite, sorting the
#: matches of ``+3`` took 350-450 ms, walking the company's calls takes at worst ~200 ms).
NUMBER_READ_BY_INDEX = 8


def _sort_key(db: Connection, wanted: CallFilter) -> ColumnElement[Any]:
    """Return what the page is ordered by: ``created_at``, hidden from the index by a number.

    A number's calls are read from its two index ranges and sorted: the history's order would
    otherwise tempt the database to walk every call of the company, newest first, and test each
    (the planner cannot tell how many calls a number has from an empty or unanalysed table).
    A short prefix keeps the history's order (see ``NUMBER_READ_BY_INDEX``).
    """
    if not wanted.number or len(wanted.number) < NUMBER_READ_BY_INDEX:
        return calls.c.created_at
    if db.dialect.name == "sqlite":
        hidden = "+calls.created_at"  # unary plus: the same value, no longer the column
    else:
        hidden = "(calls.created_at + interval '0 seconds')"
    return literal_column(hidden, type_=calls.c.created_at.type)


def _conditions(company_id: str, wanted: CallFilter) -> list[ColumnElement[bool]]:
    """Return the WHERE conditions of a filter (the company's own is the caller's)."""
    found: list[ColumnElement[bool]] = []
    for column, value in (
        (calls.c.state, wanted.state),
        (calls.c.direction, wanted.direction),
        (calls.c.user_id, wanted.agent),
    ):
        if value:
            found.append(column == value)
    if wanted.number:
        ranged = len(wanted.number) >= NUMBER_READ_BY_INDEX
        numbers = (calls.c.from_number, calls.c.to_number)
        found.append(or_(*(_starts(column, wanted.number, ranged) for column in numbers)))
    if wanted.since:
        found.append(calls.c.created_at >= wanted.since)
    if wanted.until:
        found.append(calls.c.created_at < wanted.until)
    if wanted.integration or wanted.status:
        found.append(_synced(company_id, wanted.integration, wanted.status))
    return found


def _starts(column: ColumnElement[str | None], prefix: str, ranged: bool) -> ColumnElement[bool]:
    """Match values starting with ``prefix``: a range an index reads, then the exact test.

    The range is exact under a byte-wise collation (SQLite, PostgreSQL's C); LIKE keeps the
    result exact under any other. A short prefix (not ``ranged``: SQLite, even analysed, would
    read and sort every call it matches) and one ending past the Basic Multilingual Plane's usual
    characters (no number does) are tested by LIKE alone.
    """
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    like = column.like(escaped + "%", escape="\\")
    if not ranged or ord(prefix[-1]) >= 0xD7FF:
        return like
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return and_(column >= prefix, column < upper, like)


def _synced(company_id: str, integration: str | None, status: str | None) -> ColumnElement[bool]:
    """Keep calls with a sync in ``integration`` (any when None) in ``status`` (any when None)."""
    sync = call_syncs.c
    query = select(sync.call_id).where(sync.company_id == company_id, sync.call_id == calls.c.id)
    if integration:
        query = query.where(sync.integration_id == integration)
    if status:
        query = query.where(sync.status == status)
    return exists(query)


def _older(at: ColumnElement[Any], cursor: Cursor) -> list[ColumnElement[bool]]:
    """Keep calls after ``cursor`` in the history's order (written so an index range reads it)."""
    return [at <= cursor.created_at, or_(at < cursor.created_at, calls.c.id < cursor.id)]


def _newer(at: ColumnElement[Any], cursor: Cursor) -> list[ColumnElement[bool]]:
    """Keep calls before ``cursor`` in the history's order."""
    return [at >= cursor.created_at, or_(at > cursor.created_at, calls.c.id > cursor.id)]


def owns(db: Connection, company_id: str, agent: str | None, integration: str | None) -> bool:
    """Tell whether the company has the user ``agent`` and the integration named (when named)."""
    for table, wanted in ((users, agent), (integrations, integration)):
        if wanted is None:
            continue
        query = select(table.c.id).where(table.c.company_id == company_id, table.c.id == wanted)
        if db.execute(query).first() is None:
            return False
    return True


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
