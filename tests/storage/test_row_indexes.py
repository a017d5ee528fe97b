"""The reads every call makes find their rows through an index that names them, not the company's.

SQLite's planner has no statistics on a fresh database: offered an index on ``company_id`` alone
and one naming the row, it took the company's and read every row of the company, so each call
cost more than the one before (migration 0022). PostgreSQL plans by its statistics.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from sqlalchemy.dialects import sqlite

from callbridge.queue import breaker
from callbridge.runtime.schema import upgrade
from callbridge.storage import call_choices, call_history, dial_intents, sync_start
from callbridge.storage.sql import rows_where
from callbridge.storage.tables import activity_links, calls, contact_claims

HOT: dict[str, Any] = {
    "the fold's events": call_history._EVENTS,
    "the sync's start": sync_start._START,
    "the sync's links": rows_where(activity_links, "company_id", "call_id", "integration_id"),
    "the sync's claim": rows_where(contact_claims, "company_id", "integration_id", "phone_e164"),
    "a call": rows_where(calls, "company_id", "id"),
    "a choice made": call_choices._ANY_CHOICE,
    "an open dial intent": dial_intents._OPEN_INTENT,
    "the breaker": breaker._STATE,
}


@pytest.mark.parametrize("name", HOT)
async def test_a_hot_read_never_searches_by_the_company_alone(sqlite_url: str, name: str) -> None:
    """Every table of the statement is searched by an index naming more than the company."""
    await upgrade(sqlite_url)
    sql = str(HOT[name].compile(dialect=sqlite.dialect()))
    with sqlite3.connect(sqlite_url.split("///", 1)[1]) as db:
        plan = [row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}", ("x",) * sql.count("?"))]
    searches = [step for step in plan if step.startswith(("SEARCH", "SCAN"))]
    assert searches and all(step.startswith("SEARCH") for step in searches), plan
    assert not [step for step in searches if step.endswith("(company_id=?)")], plan
