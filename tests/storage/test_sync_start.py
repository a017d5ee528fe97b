"""What a sync starts from, in one statement: the same rows as the reads one table at a time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Connection, insert
from sqlalchemy.ext.asyncio import AsyncEngine

from callbridge.storage import call_choices, call_history, integrations, sync_start, units
from callbridge.storage.engine import create_engine
from callbridge.storage.tables import call_selections, calls
from tests.storage.tenant_rows import store_tenant

AT = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)


@pytest.fixture
async def engine(migrated_url: str) -> AsyncIterator[AsyncEngine]:
    """Yield an engine on a migrated database holding two companies, a call each."""
    engine = create_engine(migrated_url)
    async with engine.begin() as conn:
        for company in ("acme", "other"):
            integration_ids = [f"{company}-crm", f"{company}-crm-2"]
            await store_tenant(
                conn, company, source=f"{company}-src", agents=[f"{company}-agent"],
                integration_ids=integration_ids, at=AT,
            )  # fmt: skip
            row: dict[str, Any] = {"company_id": company, "source_id": f"{company}-src"}
            row["state"] = "ended"
            row |= {"tags": ["a"], "agent": {"id": "7"}, "created_at": AT, "updated_at": AT}
            await conn.execute(
                insert(calls), [{**row, "id": f"{company}-call", "provider_call_id": "p1"}]
            )
            await conn.execute(
                insert(calls), [{**row, "id": f"{company}-call-2", "provider_call_id": "p2"}]
            )
    yield engine
    units.dispose(engine)
    await engine.dispose()


def _one_at_a_time(db: Connection, company: str, call: str, integration: str) -> object:
    """Read the same rows the way the sync read them before, one statement each."""
    row = call_history.get_call(db, company, call)
    found = integrations.get_integration(db, company, integration)
    if row is None or found is None:
        return None
    return sync_start.Start(
        row,
        found,
        call_history.get_sync(db, company, call, integration),
        call_choices.has_choice(db, company, call),
    )


def _both(
    company: str, call: str, integration: str
) -> Callable[[Connection], tuple[object, object]]:
    def read(db: Connection) -> tuple[object, object]:
        joined = sync_start.read(db, company, call, integration)
        return joined, _one_at_a_time(db, company, call, integration)

    return read


async def _sync_and_choice(engine: AsyncEngine) -> None:
    def write(db: Connection) -> None:
        call_history.save_sync(
            db, "acme", "acme-call", "acme-crm", AT, status="done", reason_code={"code": "x"}
        )
        choice: dict[str, Any] = {"company_id": "acme", "call_id": "acme-call"}
        choice["integration_id"] = "acme-crm"
        choice |= {"record_id": "r1", "object_type": "contact", "how": "pick", "chosen_at": AT}
        db.execute(insert(call_selections), choice)

    await units.write(engine, write)


async def test_it_reads_what_the_reads_one_table_at_a_time_read(engine: AsyncEngine) -> None:
    """Call, integration, earlier sync and choice, with and without the optional rows."""
    await _sync_and_choice(engine)
    for call, integration in [
        ("acme-call", "acme-crm"),  # a sync and a choice
        ("acme-call", "acme-crm-2"),  # a choice, no sync there
        ("acme-call-2", "acme-crm"),  # neither
    ]:
        joined, separate = await units.read(engine, _both("acme", call, integration))
        assert joined == separate and joined is not None
    joined, _ = await units.read(engine, _both("acme", "acme-call", "acme-crm"))
    assert isinstance(joined, sync_start.Start) and joined.sync is not None
    assert joined.chosen and joined.sync["reason_code"] == {"code": "x"}
    assert joined.call["tags"] == ["a"] and joined.call["started_at"] is None


@pytest.mark.parametrize(
    ("company", "call", "integration"),
    [
        ("acme", "gone", "acme-crm"),
        ("acme", "acme-call", "gone"),
        ("acme", "other-call", "acme-crm"),  # another company's call
        ("acme", "acme-call", "other-crm"),  # another company's integration
        ("other", "acme-call", "acme-crm"),  # both of another company
    ],
)
async def test_nothing_when_the_call_or_integration_is_not_the_companys(
    engine: AsyncEngine, company: str, call: str, integration: str
) -> None:
    """A deleted call or integration, or one of another company, reads as nothing."""
    joined, separate = await units.read(engine, _both(company, call, integration))
    assert joined is None and separate is None
