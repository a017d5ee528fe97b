"""Alembic environment: runs migrations on the async engine Callbridge uses."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from callbridge.runtime.schema import metadata
from callbridge.storage.engine import create_engine

target_metadata = metadata


def _run(connection: Connection) -> None:
    # Migrations copy whole tables; the tenancy audit of the tests has nothing to check there.
    connection = connection.execution_options(tenant_entry="migration")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


url = context.config.get_main_option("sqlalchemy.url")
if url is None:
    raise RuntimeError("the migration runner must set sqlalchemy.url")
existing = context.config.attributes.get("connection")
if existing is not None:
    _run(existing)
else:
    asyncio.run(_run_async(url))
