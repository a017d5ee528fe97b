"""How a repository function reaches its connection, and SQL that differs between databases.

A repository function is synchronous SQLAlchemy Core taking a :class:`~sqlalchemy.Connection`
first. A unit of work (:mod:`callbridge.storage.units`) hands it its connection; an async
session calls it with :func:`run`, on the session's own connection and transaction. Nothing
else calls a repository function.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import Connection, Insert, Select, Table, bindparam, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from callbridge.storage import driver

P = ParamSpec("P")
T = TypeVar("T")


async def run(
    session: AsyncSession,
    fn: Callable[Concatenate[Connection, P], T],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """Run a synchronous repository function on the session's connection, in its transaction."""
    connection = await session.connection()
    return await connection.run_sync(fn, *args, **kwargs)


def upsert(
    db: Connection,
    table: Table,
    values: dict[str, Any],
    keys: tuple[str, ...],
    counter: tuple[str, int] | None = None,
    returning: str | None = None,
    keep: tuple[str, ...] = ("id",),
    unless_same: str | None = None,
) -> Any:
    """Insert a row, or update the row with the same ``keys`` to ``values``, in one statement.

    ``counter`` names a column and how much to add to it when the row already exists (the new
    row takes the value in ``values``); ``keep`` names columns an update leaves as they were.
    ``unless_same`` names a column: the existing row is left alone when it already holds the
    new value there. With ``returning``, return that column of the row (None if left alone).
    """
    shape = (tuple(sorted(values)), keys, counter, returning, keep, unless_same)
    statement = _upsert_statement(table, dialect_of(db), shape)
    result = driver.execute(db, statement, values, shape[0])
    return None if returning is None else result.scalar_one_or_none()


Shape = tuple[
    tuple[str, ...],
    tuple[str, ...],
    tuple[str, int] | None,
    str | None,
    tuple[str, ...],
    str | None,
]


@functools.lru_cache(maxsize=256)
def _upsert_statement(table: Table, dialect: str, shape: Shape) -> Insert:
    """Build an upsert once per table and set of columns; the values come as parameters."""
    columns, keys, counter, returning, keep, unless_same = shape
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(table)
    excluded = statement.excluded
    changes: dict[str, Any] = {
        name: excluded[name] for name in columns if name not in keys and name not in keep
    }
    if counter is not None:
        column, step = counter
        changes[column] = table.c[column] + step
    where = None if unless_same is None else table.c[unless_same] != excluded[unless_same]
    upsert_statement: Insert = statement.on_conflict_do_update(
        index_elements=list(keys), set_=changes, where=where
    )
    return upsert_statement.returning(table.c[returning]) if returning else upsert_statement


def dialect_of(db: Connection) -> str:
    """Return the name of the database dialect behind a connection."""
    return db.dialect.name


@functools.cache
def ignoring_insert(table: Table, dialect: str, returning: str | None = None) -> Insert:
    """Return a reusable ``INSERT … ON CONFLICT DO NOTHING RETURNING`` for rows given at run time.

    Built once per table and dialect, so SQLAlchemy's compiled cache serves every later use.
    """
    module = postgresql if dialect == "postgresql" else sqlite
    column = table.c[returning] if returning else literal_column("1")
    statement: Insert = module.insert(table).on_conflict_do_nothing().returning(column)
    return statement


def select_where(db: Connection, table: Table, where: dict[str, Any]) -> driver.Rows:
    """Return the rows of ``table`` whose columns equal ``where`` (on the driver: a hot read)."""
    return driver.execute(db, rows_where(table, *where), where)


@functools.cache
def rows_where(table: Table, *columns: str) -> Select[Any]:
    """Return a reusable SELECT of the rows whose named columns equal the same-named parameters.

    Built once per table and columns, so SQLAlchemy's compiled cache serves every later run.
    """
    return select(table).where(*(table.c[name] == bindparam(name) for name in columns))
