"""Create the async engine: SQLite tuned for durability, or PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import weakref
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, make_url, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from callbridge.storage import driver

READ_ONLY = "callbridge_read_only"


def create_engine(url: str, *, durable: bool = True, **kwargs: Any) -> AsyncEngine:
    """Return an engine for ``url``; SQLite gets WAL, synchronous=FULL, write-first transactions.

    ``durable=False`` (the worker's engine) uses synchronous=NORMAL: in WAL mode a power loss can
    then drop only the newest commits, all after the last FULL one, so a job whose result is
    lost is lost with its completion and simply runs again; webhooks are always acknowledged
    through a durable engine.
    """
    if url.startswith("sqlite"):
        create_private_file(url)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        synchronous = "FULL" if durable else "NORMAL"
        tune_sqlite(engine.sync_engine, synchronous)
        SYNCHRONOUS[engine.sync_engine] = synchronous
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    engine = create_async_engine(url, **kwargs)
    ping_when_idle(engine.sync_engine)
    return engine


def create_private_file(url: str) -> None:
    """Create the SQLite file of ``url`` readable by its owner only (0600), if it is missing.

    It holds the webhook deliveries and the call history, like the secret key beside it. SQLite
    gives the ``-wal`` and ``-shm`` files it creates the database file's permissions. A file that
    exists already keeps its permissions: they are the operator's choice.
    """
    database = make_url(url).database
    if not url.startswith("sqlite") or not database or database.startswith((":memory:", "file:")):
        return
    path = Path(database)
    if path.exists() or not path.parent.is_dir():
        return
    with contextlib.suppress(FileExistsError):  # another process created it meanwhile
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


# A pooled connection idle longer than this is pinged before use (see ping_when_idle).
IDLE_PING_SECONDS = 5.0


def ping_when_idle(engine: Engine, idle_seconds: float = IDLE_PING_SECONDS) -> None:
    """Ping a pooled PostgreSQL connection before use only if it sat idle ``idle_seconds``.

    ``pool_pre_ping`` pings on every checkout: one more round trip for every transaction, about
    a dozen per call under load. A connection that served a moment ago is alive; one that sat
    idle may have been closed by a restart or a firewall, and is replaced before it fails a
    request (SQLAlchemy retries the checkout on DisconnectionError).
    """

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        checked_in_at = record.info.get("checked_in_at")
        if checked_in_at is None or time.monotonic() - checked_in_at < idle_seconds:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as err:  # the driver's own error for a dead socket
            raise DisconnectionError(f"idle connection is gone: {err}") from err
        if not alive:
            raise DisconnectionError("idle connection did not answer a ping")


# The synchronous mode each SQLite engine was created with (its units of work use the same).
SYNCHRONOUS: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()


def tune_sqlite(
    engine: Engine, synchronous: str, *, busy_ms: int = 30_000, autocheckpoint: bool = True
) -> None:
    """Make every SQLite transaction durable and take the write lock up front.

    Python's sqlite3 module begins transactions lazily; a read that later writes can then fail
    with "database is locked" instead of waiting. ``BEGIN IMMEDIATE`` waits (busy timeout) instead.
    ``busy_ms=0`` makes it fail at once instead, and ``autocheckpoint=False`` leaves the WAL
    checkpoints to other connections: for connections used right in the event loop.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        if not autocheckpoint:
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Read-only sessions (see read_sessionmaker) must not queue behind writers for a lock
        # they never need: in WAL mode a plain BEGIN reads a snapshot without blocking.
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        driver.begin(conn, "BEGIN" if read_only else "BEGIN IMMEDIATE")


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Return the session factory used by repositories and the pipeline."""
    if engine.dialect.name == "sqlite":
        return _SerializedSessions(engine, expire_on_commit=False)
    return async_sessionmaker(engine, expire_on_commit=False)


_WRITE_LOCKS: dict[tuple[str, int], asyncio.Lock] = {}


def write_lock(engine: AsyncEngine) -> asyncio.Lock:
    """Return this process's lock for writing to the engine's SQLite file (one per event loop).

    SQLite has one writer at a time. Left to itself a blocked writer polls with growing sleeps
    (SQLite's busy handler, up to 100 ms a try), which is what made latency climb under load;
    queueing the process's own writers on an asyncio lock wakes the next one at once. Other
    processes still wait through the busy timeout.
    """
    key = (str(engine.url.database), id(asyncio.get_running_loop()))
    lock = _WRITE_LOCKS.get(key)
    if lock is None:
        if len(_WRITE_LOCKS) > 64:  # event loops of finished tests
            _WRITE_LOCKS.clear()
        lock = _WRITE_LOCKS[key] = asyncio.Lock()
    return lock


class _SerializedSessions(async_sessionmaker[AsyncSession]):
    """Sessions whose ``begin()`` waits for the process's SQLite write lock first."""

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncSession]:  # type: ignore[override]
        """Open a session and a write transaction, after the process's other writers."""
        bind = self.kw["bind"]
        async with write_lock(bind), super().begin() as session:
            yield session


def read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Return a factory of sessions that only read: on SQLite they never take the write lock."""
    return async_sessionmaker(engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False)


async def ping(engine: AsyncEngine) -> None:
    """Run a trivial query; raise whatever keeps the database from answering."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
