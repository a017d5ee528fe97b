"""``sql.run`` runs a repository function on the session's own connection and transaction."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Connection, update

from callbridge.runtime import Runtime
from callbridge.service.bootstrap import create_company
from callbridge.settings import Settings
from callbridge.storage import sql
from callbridge.storage.accounts import get_company
from callbridge.storage.tables import companies


def _rename(db: Connection, company_id: str, name: str) -> int:
    """Rename the company (a repository write, for the test)."""
    statement = update(companies).where(companies.c.id == company_id).values(name=name)
    return db.execute(statement).rowcount


class _Undo(Exception):
    """Raised to roll the session's transaction back."""


async def test_a_repository_run_sees_and_shares_the_session_transaction(
    migrated_url: str, tmp_path: Path
) -> None:
    runtime = Runtime.create(Settings(data_dir=tmp_path, database_url=migrated_url))
    try:
        acme = await create_company(runtime, "ACME")
        with pytest.raises(_Undo):
            async with runtime.sessions.begin() as session:
                await session.execute(
                    update(companies).where(companies.c.id == acme.company_id).values(name="Seen")
                )
                found = await sql.run(session, get_company, acme.company_id)
                assert found is not None and found["name"] == "Seen"
                assert await sql.run(session, _rename, acme.company_id, "Undone") == 1
                raise _Undo
        async with runtime.reads() as session:
            found = await sql.run(session, get_company, acme.company_id)
        assert found is not None and found["name"] == "ACME"
        async with runtime.sessions.begin() as session:
            await sql.run(session, _rename, acme.company_id, name="Kept")
        async with runtime.reads() as session:
            found = await sql.run(session, get_company, acme.company_id)
        assert found is not None and found["name"] == "Kept"
    finally:
        await runtime.close()
