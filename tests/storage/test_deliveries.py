"""The refusal log keeps the newest refusals of each source, and no other source's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from callbridge.runtime import Runtime
from callbridge.service.bootstrap import create_company
from callbridge.settings import Settings
from callbridge.storage import sql
from callbridge.storage.deliveries import (
    KEPT_REFUSALS,
    WebhookRefusalRow,
    recent,
    record_refusal,
)
from callbridge.storage.tables import webhook_refusals

START = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def _refusal(company_id: str, source_id: str, number: int) -> WebhookRefusalRow:
    return WebhookRefusalRow(
        id=0,
        company_id=company_id,
        source_id=source_id,
        received_at=START + timedelta(seconds=number),
        status=401,
        error="invalid_signature",
        field=None,
        message=f"refusal {number}",
        body_excerpt="",
    )


async def test_only_the_newest_refusals_of_a_source_are_kept(
    migrated_url: str, tmp_path: Path
) -> None:
    runtime = Runtime.create(Settings(data_dir=tmp_path, database_url=migrated_url))
    try:
        acme = await create_company(runtime, "ACME")
        globex = await create_company(runtime, "Globex")
        async with runtime.sessions.begin() as session:
            await sql.run(session, record_refusal, _refusal(globex.company_id, globex.source_id, 0))
            for number in range(KEPT_REFUSALS + 7):
                await sql.run(
                    session, record_refusal, _refusal(acme.company_id, acme.source_id, number)
                )
        async with runtime.reads() as session:
            rows = await sql.run(session, recent, acme.company_id, acme.source_id, 500, 0)
            theirs = await sql.run(session, recent, globex.company_id, globex.source_id, 500, 0)
            both = webhook_refusals.c.company_id.in_([acme.company_id, globex.company_id])
            count = select(func.count()).select_from(webhook_refusals).where(both)
            total = (await session.execute(count)).scalar()
        expected = [f"refusal {n}" for n in reversed(range(7, KEPT_REFUSALS + 7))]
        assert [row["message"] for row in rows] == expected
        assert [row["message"] for row in theirs] == ["refusal 0"]
        assert total == KEPT_REFUSALS + 1
    finally:
        await runtime.close()
