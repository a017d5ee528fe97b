"""The call history's first page is read through its index, not by sorting all the company's calls.

At 100k calls on SQLite a scan and sort of the whole table took ~200 ms a page (bench/RESULTS.md);
``ix_calls_company_created`` (migration 0012) lets the database stop after the page's rows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from callbridge.storage.call_pages import CallFilter, page
from callbridge.storage.engine import create_engine


async def _plan(url: str) -> str:
    """Run the first page's query, then return the database's plan of the very SQL it ran."""
    engine = create_engine(url)
    ran: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *rest: Any) -> None:
        if "FROM calls" in statement:
            ran.append((statement, params))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(page, "company-1", CallFilter(), 50, 0)
            event.remove(engine.sync_engine, "before_cursor_execute", capture)
            statement, params = ran[0]
            sqlite = engine.dialect.name == "sqlite"
            if not sqlite:  # an empty table: make PostgreSQL show whether it could use an index
                await connection.exec_driver_sql("SET enable_seqscan = off")
            explain = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
            rows = (await connection.exec_driver_sql(explain + statement, params)).all()
    finally:
        await engine.dispose()
    return "\n".join(str(row[-1]) for row in rows)


async def test_the_first_page_of_calls_is_read_through_the_history_index(
    migrated_url: str,
) -> None:
    plan = await _plan(migrated_url)
    assert "ix_calls_company_created" in plan, plan
    assert "SCAN calls" not in plan, plan  # SQLite: no walk over every call
    assert "USE TEMP B-TREE FOR ORDER BY" not in plan, plan  # only the id tie-break is sorted
