"""Small SQL helpers that must differ between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, literal_column
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession


async def insert_ignore(
    conn: AsyncConnection | AsyncSession, table: Table, values: dict[str, Any]
) -> bool:
    """Insert a row unless it violates a unique constraint; return whether it was inserted."""
    bind = conn.get_bind() if isinstance(conn, AsyncSession) else conn
    dialect = bind.dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    statement = (
        module.insert(table)
        .values(**values)
        .on_conflict_do_nothing()
        # rowcount is unreliable here across drivers (psycopg's async cursor reports -1).
        .returning(literal_column("1"))
    )
    result = await conn.execute(statement)
    return result.first() is not None
