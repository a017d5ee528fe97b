"""Small SQL helpers that must differ between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any, overload

from sqlalchemy import Table, literal_column
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession


@overload
async def insert_ignore(
    conn: AsyncConnection | AsyncSession, table: Table, values: dict[str, Any]
) -> bool: ...


@overload
async def insert_ignore(
    conn: AsyncConnection | AsyncSession, table: Table, values: dict[str, Any], returning: str
) -> Any: ...


async def insert_ignore(
    conn: AsyncConnection | AsyncSession,
    table: Table,
    values: dict[str, Any],
    returning: str | None = None,
) -> Any:
    """Insert a row unless it violates a unique constraint.

    Return whether it was inserted, or with ``returning`` the column's value (None if not).
    """
    bind = conn.get_bind() if isinstance(conn, AsyncSession) else conn
    module = postgresql if bind.dialect.name == "postgresql" else sqlite
    column = table.c[returning] if returning else literal_column("1")
    # RETURNING, because rowcount is unreliable here (psycopg's async cursor reports -1).
    statement = module.insert(table).values(**values).on_conflict_do_nothing().returning(column)
    row = (await conn.execute(statement)).first()
    if returning is None:
        return row is not None
    return None if row is None else row[0]
