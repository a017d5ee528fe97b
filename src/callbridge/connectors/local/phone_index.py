"""The local CRM's lookup by number on SQLite, answered in one thread hop.

Every call starts with this lookup. Through SQLAlchemy's async layer and aiosqlite each lookup
costs several hand-offs to aiosqlite's thread (checkout, BEGIN, execute, fetch, rollback), which
dominates the query itself (tens of microseconds with the index). Here the whole lookup runs in
one ``asyncio.to_thread`` call on a read-only connection kept per thread.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.dialects import sqlite as sqlite_dialect

_TIMES = ("created_at", "updated_at")


class SqlitePhoneIndex:
    """Run one compiled SELECT on a read-only SQLite connection per worker thread."""

    def __init__(self, path: str, statement: Any) -> None:
        self._path = path
        compiled = statement.compile(dialect=sqlite_dialect.dialect())
        self._sql = str(compiled)
        self._order = list(compiled.positiontup or [])
        self._local = threading.local()

    async def rows(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Return the statement's rows for ``params``, times as aware UTC datetimes."""
        return await asyncio.to_thread(self._run, [params[name] for name in self._order])

    def _run(self, values: list[Any]) -> list[dict[str, Any]]:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(f"file:{self._path}?mode=ro", uri=True, timeout=30)
            connection.row_factory = sqlite3.Row
            self._local.connection = connection
        rows = connection.execute(self._sql, values).fetchall()
        connection.rollback()  # end the read snapshot so the WAL can be checkpointed
        return [_typed(dict(row)) for row in rows]


def _typed(row: dict[str, Any]) -> dict[str, Any]:
    for name in _TIMES:
        value = row.get(name)
        if isinstance(value, str):
            row[name] = datetime.fromisoformat(value).replace(tzinfo=UTC)
    return row


_INDEXES: dict[str, SqlitePhoneIndex] = {}
_GUARD = threading.Lock()


def index_for(path: str, statement: Any) -> SqlitePhoneIndex:
    """Return the shared index of one database file."""
    with _GUARD:
        if path not in _INDEXES:
            _INDEXES[path] = SqlitePhoneIndex(path, statement)
        return _INDEXES[path]
