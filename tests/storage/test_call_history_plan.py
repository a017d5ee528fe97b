"""The call history's pages are read through an index, not by sorting all the company's calls.

At 100k calls on SQLite a scan and sort of the whole table took ~200 ms a page (bench/RESULTS.md);
``ix_calls_company_created`` (migration 0012) lets the database stop after the page's rows, also on
a deep page (keyset: the cursor is an index range); ``ix_calls_company_from``/``_to`` and
``ix_calls_company_user`` (migration 0014) read the calls of a number or of an agent directly.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from callbridge.storage.call_pages import CallFilter, Cursor, page
from callbridge.storage.engine import create_engine
from callbridge.storage.tables import call_syncs, calls
from tests.storage.tenant_rows import store_tenant

START = datetime(2026, 1, 1, tzinfo=UTC)
DEEP = Cursor(START + timedelta(minutes=2000), "c" * 36)
CALLS = 4000


async def _fill(connection: AsyncConnection, analysed: bool) -> None:
    """Store CALLS calls of company-1 (400 numbers, 2 agents, a sync each), maybe analysed."""
    draw = random.Random(7)
    common = {"company_id": "company-1"}
    await store_tenant(
        connection,
        "company-1",
        source="s",
        agents=["user-1", "user-2"],
        integration_ids=["integration-1"],
        at=START,
    )
    rows = [
        {
            **common,
            "id": f"call-{n:05d}",
            "source_id": "s",
            "provider_call_id": f"p{n}",
            "state": "ended",
            "from_number": f"+336{draw.randrange(400):08d}",
            "to_number": "+33100000000",
            "user_id": f"user-{n % 2 + 1}",
            "tags": [],
            "event_count": 1,
            "created_at": START + timedelta(minutes=n),
            "updated_at": START,
        }
        for n in range(CALLS)
    ]
    await connection.execute(insert(calls), rows)
    syncs = [
        {
            **common,
            "call_id": row["id"],
            "integration_id": "integration-1",
            "matched": [],
            "status": draw.choice(["done", "failed"]),
            "attempts": 1,
            "updated_at": START,
        }
        for row in rows
    ]
    await connection.execute(insert(call_syncs), syncs)
    if analysed:
        await connection.exec_driver_sql("ANALYZE")


async def _plan(url: str, wanted: CallFilter, cursor: Cursor | None = None) -> str:
    """Run a page's query, then return the database's plan of the very SQL it ran.

    SQLite's tables are left unanalysed, as Callbridge leaves them; PostgreSQL's are analysed, as
    its autovacuum does (unanalysed, it believes a table holds one row and any plan will do).
    """
    engine = create_engine(url)
    ran: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *rest: Any) -> None:
        if "FROM calls" in statement:
            ran.append((statement, params))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        async with engine.connect() as connection:
            await _fill(connection, analysed=engine.dialect.name != "sqlite")
            await connection.run_sync(page, "company-1", wanted, 50, 0, after=cursor)
            event.remove(engine.sync_engine, "before_cursor_execute", capture)
            statement, params = ran[0]
            sqlite = engine.dialect.name == "sqlite"
            explain = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
            rows = (await connection.exec_driver_sql(explain + statement, params)).all()
    finally:
        await engine.dispose()
    return "\n".join(str(row[-1]) for row in rows)


def _no_scan(plan: str) -> None:
    assert "SCAN calls" not in plan, plan  # SQLite: no walk over every call
    assert "Seq Scan on calls" not in plan, plan  # PostgreSQL: the same
    assert "SCAN call_syncs" not in plan and "Seq Scan on call_syncs" not in plan, plan


async def test_the_first_page_of_calls_is_read_through_the_history_index(
    migrated_url: str,
) -> None:
    plan = await _plan(migrated_url, CallFilter())
    assert "ix_calls_company_created" in plan, plan
    _no_scan(plan)
    assert "USE TEMP B-TREE" not in plan, plan  # the index gives the order: nothing is sorted
    assert "Sort" not in plan, plan


async def test_a_deep_page_starts_at_its_cursor_in_the_index(migrated_url: str) -> None:
    plan = await _plan(migrated_url, CallFilter(state="ended"), DEEP)
    assert "ix_calls_company_created" in plan, plan
    _no_scan(plan)
    assert "USE TEMP B-TREE" not in plan and "Sort" not in plan, plan
    if migrated_url.startswith("sqlite"):
        assert "created_at<?" in plan.replace(" ", ""), plan  # a range, not a walk from the top


async def test_the_agent_filter_reads_the_agents_calls_only(migrated_url: str) -> None:
    plan = await _plan(migrated_url, CallFilter(agent="user-1"), DEEP)
    assert "ix_calls_company_user" in plan, plan
    _no_scan(plan)
    assert "USE TEMP B-TREE" not in plan and "Sort" not in plan, plan


@pytest.mark.parametrize("cursor", [None, DEEP])
async def test_the_number_filter_reads_the_numbers_ranges(
    migrated_url: str, cursor: Cursor | None
) -> None:
    plan = await _plan(migrated_url, CallFilter(number="+33600000012"), cursor)
    assert "ix_calls_company_from" in plan and "ix_calls_company_to" in plan, plan
    _no_scan(plan)


async def test_integration_and_status_filters_look_each_call_up(migrated_url: str) -> None:
    wanted = CallFilter(integration="integration-1", status="failed")
    plan = await _plan(migrated_url, wanted, DEEP)
    assert "ix_calls_company_created" in plan, plan
    _no_scan(plan)


async def test_a_short_number_prefix_walks_the_history_order_instead(migrated_url: str) -> None:
    """``+33`` may match most calls: sorting them all would cost more than walking to 50."""
    plan = await _plan(migrated_url, CallFilter(number="+336"))
    assert "SCAN calls" not in plan and "Seq Scan on calls" not in plan, plan
    if migrated_url.startswith("sqlite"):  # PostgreSQL's analysed plan may pick either
        assert "ix_calls_company_created" in plan, plan
        assert "USE TEMP B-TREE" not in plan, plan
