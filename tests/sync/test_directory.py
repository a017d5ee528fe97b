"""The sync's directory reads the users and their links in one statement: the same as two."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Connection, update
from sqlalchemy.ext.asyncio import AsyncEngine

from callbridge.storage import units, user_links
from callbridge.storage.engine import create_engine
from callbridge.storage.tables import users
from callbridge.sync import people
from tests.storage.tenant_rows import store_tenant

AT = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


@pytest.fixture
async def engine(migrated_url: str) -> AsyncIterator[AsyncEngine]:
    """Yield an engine on two companies, their agents linked in some of their integrations."""
    engine = create_engine(migrated_url)
    async with engine.begin() as conn:
        for company in ("acme", "other"):
            agents = [f"{company}-{name}" for name in ("ann", "bob", "cid")]
            await store_tenant(
                conn, company, source=f"{company}-src", agents=agents,
                integration_ids=[f"{company}-1", f"{company}-2"], at=AT,
            )  # fmt: skip
        await conn.execute(
            update(users)
            .where(users.c.company_id == "acme", users.c.id == "acme-cid")
            .values(role="top_manager", name="z")
        )

    def link(db: Connection) -> None:
        for company in ("acme", "other"):
            for user, integration, crm in [
                ("ann", "1", "u1"),
                ("cid", "1", "u3"),
                ("bob", "2", "u2"),
            ]:
                user_links.set_link(
                    db, company, f"{company}-{integration}", f"{company}-{user}", crm, "manual", AT
                )

    await units.write(engine, link)
    yield engine
    units.dispose(engine)
    await engine.dispose()


@pytest.mark.parametrize("integration", ["acme-1", "acme-2", "other-1"])
async def test_the_directory_holds_the_integrations_links_of_the_companys_users(
    engine: AsyncEngine, integration: str
) -> None:
    """Links of the integration only, as ``user_links.links`` reads them; names and TOP too."""

    def read(db: Connection) -> tuple[people.Directory, dict[str, dict[str, Any]]]:
        directory = people.load_directory(db, "acme", integration)
        return directory, user_links.links(db, "acme", integration)

    directory, links = await units.read(engine, read)
    assert directory.links == links
    assert directory.top == ["acme-cid"]
    assert set(directory.names) == {"acme-ann", "acme-bob", "acme-cid"}
    expected = {"acme-1": {"acme-ann", "acme-cid"}, "acme-2": {"acme-bob"}, "other-1": set()}
    assert set(directory.links) == expected[integration]
