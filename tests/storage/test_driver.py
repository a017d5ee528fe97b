"""Statements run on the driver (``storage.driver``) do what SQLAlchemy's does, on both databases.

Two tables of the same shape get the same generated statements, one through
:func:`driver.execute`, the other through ``Connection.execute``: every answer (rows, row counts,
errors) and the tables' contents must be the same.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    delete,
    event,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from callbridge.storage import driver, units
from callbridge.storage.engine import create_engine
from callbridge.storage.sql import _upsert_statement, ignoring_insert, rows_where, select_where
from callbridge.storage.types import UTCDateTime

_META = MetaData()


def _shape(name: str) -> Table:
    """A table with a key, a counter, JSON, a UTC time and a Python-side default."""
    return Table(
        name,
        _META,
        Column("id", String(20), primary_key=True),
        Column("n", Integer, nullable=False, default=0),
        Column("tags", JSON, nullable=False, default=list),
        Column("at", UTCDateTime, nullable=True),
        Column("note", Text, nullable=True),
    )


ON_DRIVER, ON_SQLALCHEMY = _shape("driver_rows"), _shape("sqlalchemy_rows")
START = datetime(2026, 12, 7, tzinfo=UTC)
COLUMNS = ("n", "tags", "at", "note")


@pytest.fixture
async def engine(migrated_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a migrated database with both tables."""
    engine = create_engine(migrated_url)
    await units.write(engine, lambda db: _META.create_all(db))
    yield engine
    units.dispose(engine)
    await engine.dispose()


ids = st.sampled_from(["a", "b", "c"])
values = st.fixed_dictionaries(
    {},
    optional={
        "n": st.integers(-5, 5),
        "tags": st.lists(st.sampled_from(["x", "é", "%s", "'"]), max_size=3),
        "at": st.integers(0, 10**6).map(lambda s: START + timedelta(seconds=s)),
        # No NUL nor lone surrogate: neither database stores them, and the API refuses both.
        "note": st.none()
        | st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=8),
    },
)
upserts = st.tuples(
    st.just("upsert"),
    ids,
    values,
    st.none() | st.tuples(st.just("n"), st.integers(0, 2)),
    st.sampled_from([None, "id", "n"]),
    st.sampled_from([("id",), ("id", "tags")]),
    st.sampled_from([None, "note"]),
).filter(lambda op: op[3] is not None or set(op[2]) - set(op[5]))  # an upsert changes something
others = st.tuples(st.sampled_from(["select", "update", "delete", "insert", "ignore"]), ids, values)
operations = st.lists(upserts | others, min_size=1, max_size=12)


def _apply(db: Connection, table: Table, op: tuple[Any, ...], fast: bool) -> Any:
    """Run one generated operation on ``table``; return what it answered."""
    kind, key = op[0], op[1]
    row = {"id": key, **op[2]}
    run = driver.execute if fast else _on_sqlalchemy
    if kind == "upsert":
        counter, returning, keep, unless_same = op[3:]
        shape = (tuple(sorted(row)), ("id",), counter, returning, keep, unless_same)
        statement: Any = _upsert_statement(table, db.dialect.name, shape)
        return _answer(run(db, statement, row, shape[0]))
    if kind == "select":
        return _answer(run(db, _SELECT[table.name], {"id": key}, None))
    if kind == "update":
        return _answer(run(db, _UPDATE[table.name], {"key": key, "note": str(row)}, None))
    if kind == "delete":
        return _answer(run(db, _DELETE[table.name], {"key": key}, None))
    if kind == "ignore":
        statement = ignoring_insert(table, db.dialect.name, "n")
        return _answer(run(db, statement, row, tuple(row)))
    return _answer(run(db, table.insert(), row, tuple(row)))  # may break the key


def _on_sqlalchemy(db: Connection, statement: Any, params: Any, _keys: Any) -> Any:
    # SQLAlchemy reads an INSERT's row count from a closed cursor (-1 on psycopg) unless told.
    result = db.execute(statement.execution_options(preserve_rowcount=True), params)
    return (result.all(), None) if result.returns_rows else ([], result.rowcount)


def _answer(result: Any) -> Any:
    """Reduce an answer to comparable values (rows by name and position, or a row count)."""
    if isinstance(result, driver.Rows):
        result = (result.rows, None) if result.returns_rows else ([], result.rowcount)
    rows, count = result
    return [(tuple(row), dict(row._mapping)) for row in rows], count


def _statements(table: Table) -> tuple[Any, Any, Any]:
    c = table.c
    return (
        select(table).where(c.id == bindparam("id")),
        update(table).where(c.id == bindparam("key")).values(note=bindparam("note"), n=c.n + 1),
        delete(table).where(c.id == bindparam("key")),
    )


_SELECT, _UPDATE, _DELETE = (
    {t.name: _statements(t)[i] for t in (ON_DRIVER, ON_SQLALCHEMY)} for i in range(3)
)


def _both(ops: list[tuple[Any, ...]], db: Connection) -> tuple[list[Any], list[Any]]:
    """Run the operations on each table, through each path; return each side's answers."""
    for table in (ON_DRIVER, ON_SQLALCHEMY):
        db.execute(delete(table))
    answers: tuple[list[Any], list[Any]] = ([], [])
    for op in ops:
        for side, (table, fast) in enumerate(((ON_DRIVER, True), (ON_SQLALCHEMY, False))):
            savepoint = db.begin_nested()
            try:
                answers[side].append(_apply(db, table, op, fast))
                savepoint.commit()
            except IntegrityError as error:
                savepoint.rollback()
                answers[side].append(("refused", type(error.orig).__name__))
    for table in (ON_DRIVER, ON_SQLALCHEMY):
        contents = db.execute(select(table).order_by(table.c.id)).all()
        answers[table is ON_SQLALCHEMY].append([tuple(row) for row in contents])
    return answers


@settings(max_examples=40)
@given(ops=operations)
async def test_the_driver_answers_and_writes_what_sqlalchemy_does(
    engine: AsyncEngine, ops: list[tuple[Any, ...]]
) -> None:
    on_driver, on_sqlalchemy = await units.write(engine, lambda db: _both(ops, db))
    assert on_driver == on_sqlalchemy


async def test_listeners_see_every_statement_on_the_driver(engine: AsyncEngine) -> None:
    """The tenant-scope audit (``before_execute``) and cursor listeners see driver statements."""
    seen: list[Any] = []
    cursors: list[str] = []

    def before(conn: Any, statement: Any, multi: Any, params: Any, options: Any) -> None:
        seen.append((statement, params))

    def cursor(conn: Any, cur: Any, sql: str, params: Any, context: Any, many: bool) -> None:
        cursors.append(sql.split()[0])

    event.listen(Engine, "before_execute", before)
    event.listen(Engine, "before_cursor_execute", cursor)
    try:
        await units.read(engine, lambda db: select_where(db, ON_DRIVER, {"id": "a"}).all())
    finally:
        event.remove(Engine, "before_execute", before)
        event.remove(Engine, "before_cursor_execute", cursor)
    assert [params for _, params in seen] == [{"id": "a"}]
    assert seen[0][0] is rows_where(ON_DRIVER, "id")
    assert "SELECT" in cursors


async def test_a_refused_write_raises_sqlalchemys_error_and_keeps_the_transaction(
    engine: AsyncEngine,
) -> None:
    row = {"id": "dup", "n": 1}

    def twice(db: Connection) -> int:
        driver.execute(db, ON_DRIVER.insert(), row, tuple(row))
        with pytest.raises(IntegrityError), db.begin_nested():
            driver.execute(db, ON_DRIVER.insert(), row, tuple(row))
        return len(select_where(db, ON_DRIVER, {"id": "dup"}).all())

    assert await units.write(engine, twice) == 1


async def test_outside_a_transaction_it_takes_sqlalchemys_path(engine: AsyncEngine) -> None:
    """A connection not yet in a transaction begins one as SQLAlchemy would, and commits it."""
    twin = units._blocking_engine(engine)
    with twin.connect() as db:
        assert not db.in_transaction()
        driver.execute(db, ON_DRIVER.insert(), {"id": "late"}, ("id",))
        assert db.in_transaction()
        db.commit()
    rows = await units.read(engine, lambda db: select_where(db, ON_DRIVER, {"id": "late"}).all())
    assert [(row.id, row.n, row.tags) for row in rows] == [("late", 0, [])]


async def test_raw_text_rows_are_named_by_their_columns(engine: AsyncEngine) -> None:
    statement = text("SELECT 1 AS one, 'two' AS two")
    row = await units.read(engine, lambda db: driver.execute(db, statement, {}).first())
    assert (row.one, row.two, tuple(row)) == (1, "two", (1, "two"))
