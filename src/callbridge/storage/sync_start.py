"""What a sync starts from, read in one statement: the call, the integration, the earlier run.

A sync read its call, its integration, its earlier run and whether a record was ever chosen for
the call one statement each (four runs through the driver's Python for rows read together every
time). :func:`read` joins them, every table scoped by the company and the integration (or the
call) given, and splits the row again. The matrix is read apart: which version depends on the
earlier run, and the matrix dry run reads the one in force itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import BindParameter, Connection, Table, and_, bindparam, exists, select

from callbridge.storage import driver
from callbridge.storage.call_history import CallRow, SyncRow
from callbridge.storage.integrations import IntegrationRow
from callbridge.storage.tables import call_selections, call_syncs, calls, integrations


@dataclass(frozen=True)
class Start:
    """The call, its integration and earlier run there, and whether a record was chosen."""

    call: CallRow
    integration: IntegrationRow
    sync: SyncRow | None  # None: never synced to the integration before
    chosen: bool  # a record was ever chosen for the call (in any integration)


def read(db: Connection, company_id: str, call_id: str, integration_id: str) -> Start | None:
    """Return what a sync of the call in the integration starts from; None if either is gone."""
    scope = {"company_id": company_id, "call_id": call_id, "integration_id": integration_id}
    row = driver.execute(db, _START, scope).first()
    if row is None:
        return None
    call, integration, sync = (dict(zip(keys, row[a:b], strict=True)) for keys, a, b in _SPANS)
    return Start(
        cast(CallRow, call),
        cast(IntegrationRow, integration),
        cast(SyncRow, sync) if sync["id"] is not None else None,
        bool(row[-1]),
    )


_COMPANY: BindParameter[str] = bindparam("company_id")
_CALL: BindParameter[str] = bindparam("call_id")
_INTEGRATION: BindParameter[str] = bindparam("integration_id")
_TABLES = (calls, integrations, call_syncs)


def _spans() -> list[tuple[tuple[str, ...], int, int]]:
    """Return each table's column names and where they sit in the joined row."""
    spans, start = [], 0
    for table in _TABLES:
        keys = tuple(column.key for column in table.c)
        spans.append((keys, start, start + len(keys)))
        start += len(keys)
    return spans


def _labelled(table: Table) -> list[Any]:
    """Return the table's columns labelled with its name: the joined tables share names."""
    return [column.label(f"{table.name}_{column.key}") for column in table.c]


_SPANS = _spans()
_CHOSEN = exists().where(
    call_selections.c.company_id == _COMPANY, call_selections.c.call_id == _CALL
)
_START = (
    select(
        *(column for table in _TABLES for column in _labelled(table)),
        _CHOSEN.label("chosen"),
    )
    .select_from(
        calls.join(
            integrations,
            and_(integrations.c.company_id == _COMPANY, integrations.c.id == _INTEGRATION),
        ).outerjoin(
            call_syncs,
            and_(
                call_syncs.c.company_id == _COMPANY,
                call_syncs.c.call_id == _CALL,
                call_syncs.c.integration_id == _INTEGRATION,
            ),
        )
    )
    .where(
        calls.c.company_id == _COMPANY,
        calls.c.id == _CALL,
        integrations.c.company_id == _COMPANY,
        integrations.c.id == _INTEGRATION,
    )
)
