"""Hot statements run straight on the database driver, compiled once per dialect.

``Connection.execute`` spends its Python on every statement: the cache key and compiled-cache
lookup, an execution context, the parameters built through ``construct_params``, event dispatch
and a result object (about a fifth of the embedded server's CPU, at ~55 statements a call).
:func:`execute` compiles a statement built once (a module constant or a cached builder) the first
time it runs on a dialect, keeps the SQL string, the bind and result processors and the columns'
Python defaults, and then only converts the parameters, runs the DBAPI cursor of the unit's
connection (in its transaction) and converts the rows. Same SQL, same values, same transaction.

Observers still see every statement: the ``before_execute`` and ``before_cursor_execute``
listeners of the connection (the tenant-scope audit of the tests, the benchmarks' statement
count) are called as SQLAlchemy calls them. Driver errors are raised as SQLAlchemy's, with its
handling of a lost connection. A statement this cannot prepare (expanding parameters, SQL-side
or context-dependent defaults) and a connection outside a transaction take SQLAlchemy's path.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Executable
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler

_MISSING = object()

# A bound parameter: the key a caller names it by, its compiled name, its value when not
# given (_MISSING: required) and the type's conversion to the driver's value.
Slot = tuple[str, str, Any, Callable[[Any], Any] | None]


class Rows:
    """What a statement returned: its rows (converted like SQLAlchemy's) and its row count."""

    __slots__ = ("returns_rows", "rowcount", "rows")

    def __init__(self, rows: list[Any], rowcount: int, returns_rows: bool) -> None:
        self.rows = rows
        self.rowcount = rowcount
        self.returns_rows = returns_rows  # a SELECT or RETURNING, even when no row came

    def __iter__(self) -> Iterator[Any]:
        return iter(self.rows)

    def first(self) -> Any:
        """Return the first row, or None."""
        return self.rows[0] if self.rows else None

    def all(self) -> list[Any]:
        """Return every row."""
        return list(self.rows)

    def scalar_one_or_none(self) -> Any:
        """Return the first column of the only row, None without a row; fail on more rows."""
        if len(self.rows) > 1:
            raise ValueError(f"{len(self.rows)} rows where at most one was expected")
        return self.rows[0][0] if self.rows else None


@dataclass
class _Prepared:
    """A statement compiled for one dialect, with everything needed to run it on its driver."""

    sql: str
    positional: bool
    slots: tuple[Slot, ...]
    defaults: tuple[tuple[str, Any], ...]  # (column key, its scalar or zero-argument default)
    keys: tuple[str, ...]  # the result's columns ((): none)
    types: tuple[Any, ...]
    row: type[Any] | None = None  # made with the processors, on the first rows
    processors: tuple[Callable[[Any], Any] | None, ...] | None = None  # (): none converts


_PREPARED: dict[tuple[int, str, tuple[str, ...] | None], tuple[Executable, _Prepared | None]] = {}


def execute(
    db: Connection,
    statement: Executable,
    params: Mapping[str, Any],
    column_keys: Sequence[str] | None = None,
) -> Rows:
    """Run ``statement`` (built once, not per call) with ``params`` in ``db``'s transaction.

    ``column_keys``: the columns an ``INSERT`` without ``.values()`` is given (``params``' keys).
    """
    keys = tuple(column_keys) if column_keys is not None else None
    cache_key = (id(statement), db.dialect.name, keys)
    entry = _PREPARED.get(cache_key)
    if entry is None or entry[0] is not statement:
        if len(_PREPARED) > 1024:  # statements built per call would fill it: start over
            _PREPARED.clear()
        entry = _PREPARED[cache_key] = (statement, _prepare(statement, db.dialect, keys))
    prepared = entry[1]
    if prepared is None or not db.in_transaction():
        result = db.execute(statement, dict(params))
        rows = result.all() if result.returns_rows else []
        return Rows(list(rows), result.rowcount, result.returns_rows)
    return _run(db, statement, prepared, params)


def _prepare(
    statement: Executable, dialect: Dialect, column_keys: tuple[str, ...] | None
) -> _Prepared | None:
    """Compile ``statement`` for ``dialect``; None if it needs SQLAlchemy's execution path."""
    keys = list(column_keys) if column_keys is not None else None
    compiled = statement.compile(dialect=dialect, column_keys=keys)  # type: ignore[attr-defined]
    if not isinstance(compiled, SQLCompiler):
        return None
    if compiled.post_compile_params or compiled.literal_execute_params or compiled.update_prefetch:
        return None
    if compiled._collected_params:  # statement.params(): not used by the hot statements
        return None
    defaults: list[tuple[str, Any]] = []
    for column in compiled.insert_prefetch:
        generator = column.default
        if generator is None or not (generator.is_scalar or generator.is_callable):
            return None
        defaults.append((column.key, generator))
    processors = compiled._bind_processors
    escaped = compiled.escaped_bind_names
    by_name = {name: bind for bind, name in compiled.bind_names.items()}
    order = compiled.positiontup if dialect.positional else list(by_name)
    slots: list[Slot] = []
    for name in order or ():
        bind = by_name[name]
        if bind.callable is not None:
            return None
        default = _MISSING if bind.required else bind.value
        processor = processors.get(name)
        if processor is not None and not callable(processor):  # a tuple type: not hot
            return None
        slots.append((bind.key, escaped.get(name, name), default, processor))
    columns = compiled._result_columns or []
    return _Prepared(
        compiled.string,
        bool(dialect.positional),
        tuple(slots),
        tuple(defaults),
        tuple(entry.keyname for entry in columns),
        tuple(entry.type for entry in columns),
    )


def _parameters(prepared: _Prepared, params: Mapping[str, Any]) -> Any:
    """Return the driver's parameters: positional (a tuple) or named (a dict)."""
    if prepared.defaults:
        given = params
        params = {key: _default(d) for key, d in prepared.defaults if key not in given}
        params.update(given)
    values = []
    for key, name, default, processor in prepared.slots:
        value = params.get(key, _MISSING)
        if value is _MISSING:
            value = params.get(name, default)
            if value is _MISSING:
                raise KeyError(f"a value is required for bind parameter {key!r}")
        values.append(processor(value) if processor is not None else value)
    if prepared.positional:
        return tuple(values)
    return {slot[1]: value for slot, value in zip(prepared.slots, values, strict=True)}


def _default(default: Any) -> Any:
    """Return a column default's value: a scalar, or a zero-argument callable's result."""
    return default.arg if default.is_scalar else default.arg(None)


def _run(
    db: Connection, statement: Executable, prepared: _Prepared, params: Mapping[str, Any]
) -> Rows:
    """Run a prepared statement on the connection's DBAPI cursor, telling the listeners."""
    dispatch = db.dispatch
    if dispatch.before_execute:
        for listener in dispatch.before_execute:
            listener(db, statement, (), dict(params), {})
    parameters = _parameters(prepared, params)
    cursor = db.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if dispatch.before_cursor_execute:
            for listener in dispatch.before_cursor_execute:
                listener(db, cursor, prepared.sql, parameters, None, False)
        cursor.execute(prepared.sql, parameters)
        description = cursor.description
        raw: list[Any] = list(cursor.fetchall()) if description is not None else []
        rowcount = cursor.rowcount
    except Exception as error:
        cursor.close()
        db._handle_dbapi_exception(error, prepared.sql, parameters, cursor, None)
    cursor.close()
    if description is None:
        return Rows(raw, rowcount, False)
    return Rows(_converted(db.dialect, prepared, description, raw), rowcount, True)


def _converted(
    dialect: Dialect, prepared: _Prepared, description: Sequence[Any], raw: list[Any]
) -> list[Any]:
    """Return the rows as SQLAlchemy's would read: by position, by name, as ``_mapping``."""
    if prepared.processors is None or prepared.row is None:
        if not prepared.keys:  # SQL text without typed columns: the driver's values, named
            prepared.keys = tuple(column[0] for column in description)
            prepared.types = (None,) * len(description)
        prepared.processors = tuple(
            None if type_ is None else type_._cached_result_processor(dialect, column[1])
            for type_, column in zip(prepared.types, description, strict=True)
        )
        prepared.row = _row_type(prepared.keys)
        if not any(prepared.processors):
            prepared.processors = ()
    make, processors = prepared.row._make, prepared.processors
    if not processors:
        return [make(row) for row in raw]
    return [
        make([value if p is None else p(value) for p, value in zip(processors, row, strict=True)])
        for row in raw
    ]


def _row_type(keys: tuple[str, ...]) -> type[Any]:
    """Return a named tuple of ``keys`` that also offers ``_mapping``, like SQLAlchemy's rows."""
    base = collections.namedtuple("Row", keys, rename=True)  # type: ignore[misc]

    class Row(base):
        __slots__ = ()

        @property
        def _mapping(self) -> dict[str, Any]:
            return dict(zip(keys, self, strict=True))

    return Row


def begin(db: Connection, sql: str) -> None:
    """Open the transaction with ``sql`` (SQLite's ``BEGIN``) on the driver, telling listeners."""
    cursor = db.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        for listener in db.dispatch.before_cursor_execute:
            listener(db, cursor, sql, (), None, False)
        cursor.execute(sql)
    except Exception as error:
        cursor.close()
        db._handle_dbapi_exception(error, sql, (), cursor, None)
    cursor.close()
