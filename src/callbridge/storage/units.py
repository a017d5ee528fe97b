"""Units of work: a whole short transaction of synchronous SQLAlchemy Core in one step.

On SQLite, aiosqlite hands every cursor operation to its own thread and back (about four hops
per statement, 60 to 100 µs each on a small VM), so the hops, not SQLite, were most of the cost
of a webhook or a job. A unit runs its whole transaction on a plain ``sqlite3`` connection
instead. Reads run right in the event loop: in WAL mode a read transaction never waits for a
lock, and takes microseconds. Writes are group-committed (:class:`GroupCommit`), queued behind
the process's other writers on an asyncio lock: a webhook's in one ``asyncio.to_thread`` hop (its
commit waits for the disk), the worker's right in the loop unless another process holds SQLite's
lock (only a thread may wait for it without stopping the loop). On
PostgreSQL the same function runs in one of a few unit threads, on a blocking psycopg
connection: an async round trip costs several times the CPU of a blocking one (the event loop
registers and unregisters the socket each time), and the GIL is released while PostgreSQL works.

A unit that asks for jobs returns them (:class:`~callbridge.queue.base.NewJob`); they are
enqueued in the same transaction, so rows and jobs commit together or not at all. Storage knows
the queue only as :class:`Enqueues` (the queues are built on storage, not the other way round).
Inside :func:`deferring`, a :func:`later` write rides with the task's next unit (``deferred``).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from callbridge.storage import connections, deferred
from callbridge.storage.engine import (
    READ_ONLY,
    SYNCHRONOUS,
    ping_when_idle,
    tune_sqlite,
    write_lock,
)

logger = logging.getLogger(__name__)
T = TypeVar("T")
Job = TypeVar("Job")
Job_contra = TypeVar("Job_contra", contravariant=True)
WithJobs = Callable[[Connection], tuple[T, list[Job]]]


class Enqueues(Protocol[Job_contra]):
    """What a unit needs of a job queue: enqueue a job on the unit's own connection."""

    def enqueue_blocking(self, conn: Connection, job: Job_contra) -> bool:
        """Add ``job`` inside the open transaction of ``conn``; False if its lock is held."""
        ...


_BLOCKING: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()
_INLINE: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()
# Inline groups leave WAL checkpoints to other connections; one is run in a thread this often.
CHECKPOINT_EVERY = 256

# PostgreSQL units run in threads of their own: a blocking psycopg round trip costs a fraction
# of an async one (no event-loop registration per statement), and the GIL is released meanwhile.
_THREADS = 10
_POSTGRES_UNITS = ThreadPoolExecutor(_THREADS, thread_name_prefix="callbridge-unit")


def _blocking_engine(engine: AsyncEngine) -> Engine:
    """Return the synchronous twin of an async engine: same database, same settings."""
    twin = _BLOCKING.get(engine.sync_engine)
    if twin is None:
        if engine.dialect.name == "sqlite":
            twin = _sqlite_twin(engine, busy_seconds=30, in_loop=False)
        else:  # one connection for each thread that runs units
            twin = create_engine(engine.url, pool_size=_THREADS, max_overflow=0)
            ping_when_idle(twin)
        _BLOCKING[engine.sync_engine] = twin
    return twin


def _inline_engine(engine: AsyncEngine) -> Engine:
    """Return the SQLite twin whose writes run in the event loop: it never waits for the lock."""
    twin = _INLINE.get(engine.sync_engine)
    if twin is None:
        twin = _INLINE[engine.sync_engine] = _sqlite_twin(engine, busy_seconds=0, in_loop=True)
    return twin


def _sqlite_twin(engine: AsyncEngine, *, busy_seconds: int, in_loop: bool) -> Engine:
    """Open the async engine's SQLite file synchronously, with its pragmas and this busy wait."""
    url = engine.url.set(drivername="sqlite")
    twin = create_engine(url, connect_args={"timeout": busy_seconds, "check_same_thread": False})
    synchronous = SYNCHRONOUS.get(engine.sync_engine, "FULL")
    tune_sqlite(twin, synchronous, busy_ms=busy_seconds * 1000, autocheckpoint=not in_loop)
    return twin


def _in_read(twin: Engine, work: Callable[[Connection], T]) -> T:
    with twin.connect() as conn:
        conn = conn.execution_options(**{READ_ONLY: True})
        with conn.begin():
            return work(conn)


def _in_loop_read(engine: AsyncEngine, work: Callable[[Connection], T]) -> T:
    """Run a SQLite read unit in the event loop, on the connection its thread keeps for reads."""

    def connect() -> Connection:
        return _blocking_engine(engine).connect().execution_options(**{READ_ONLY: True})

    conn = connections.kept(engine.sync_engine, "read", connect)
    with conn.begin():
        return work(conn)


def _in_write(twin: Engine, work: Callable[[Connection], T]) -> T:
    with twin.begin() as conn:
        return work(conn)


async def _in_thread(
    run: Callable[[Engine, Callable[[Connection], T]], T],
    engine: AsyncEngine,
    work: Callable[[Connection], T],
) -> T:
    """Run a PostgreSQL unit in one of the unit threads."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_POSTGRES_UNITS, run, _blocking_engine(engine), work)


def writes_in_loop(engine: AsyncEngine) -> bool:
    """Tell whether ``engine``'s write units run right in the event loop (see GroupCommit)."""
    return engine.dialect.name == "sqlite" and SYNCHRONOUS.get(engine.sync_engine) == "NORMAL"


async def write(engine: AsyncEngine, work: Callable[[Connection], T]) -> T:
    """Run ``work`` in one write transaction (on SQLite, maybe shared) and return its result."""
    work = deferred.carrying(work)  # with the writes waiting for this task's next unit
    if engine.dialect.name != "sqlite":
        return await _in_thread(_in_write, engine, work)
    return await _group_for(engine).submit(work)


async def later(engine: AsyncEngine, work: deferred.Write) -> None:
    """Write ``work`` with the task's next unit inside :func:`deferring`, else at once."""
    if not deferred.postpone(work):
        await write(engine, work)


def deferring(engine: AsyncEngine) -> contextlib.AbstractAsyncContextManager[None]:
    """Let :func:`later` writes wait for the block's next unit; write the rest at its end."""
    return deferred.collecting(functools.partial(write, engine))


async def read(engine: AsyncEngine, work: Callable[[Connection], T]) -> T:
    """Run ``work`` in one read-only transaction (on SQLite it never takes the write lock)."""
    if engine.dialect.name != "sqlite":
        return await _in_thread(_in_read, engine, work)
    return _in_loop_read(engine, work)


async def write_with_jobs(engine: AsyncEngine, queue: Enqueues[Job], work: WithJobs[T, Job]) -> T:
    """Run ``work`` and enqueue the jobs it returns, all in one transaction.

    The jobs are enqueued in the context of the task that asked for them (the unit itself may
    run in another task or thread): the queue may see which job is running there.
    """
    asking = contextvars.copy_context()

    def run(conn: Connection) -> T:
        result, jobs = work(conn)
        for job in jobs:
            asking.run(queue.enqueue_blocking, conn, job)
        return result

    return await write(engine, run)


class GroupCommit:
    """Run concurrent SQLite write units in one transaction: one lock, one hop, one commit.

    SQLite has one writer at a time, and with ``synchronous=FULL`` each commit waits for the
    disk. Units that arrive while a transaction is under way are queued, then run together in
    the next one, each in its own savepoint: one unit's error is its own, a failed commit fails
    them all. A unit's caller resumes only once its transaction is committed.

    The worker's engine (``synchronous=NORMAL``: a commit does not wait for the disk) runs its
    groups right in the event loop: the hop to a thread and back, and the GIL passed between
    the two threads on every statement, cost more than the statements (a call's jobs took
    40 % less CPU without them). Only when another process holds the lock, which would stop
    the loop, does the group wait for it in a thread.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._pending: list[tuple[Callable[[Connection], Any], asyncio.Future[Any]]] = []
        self._drainer: asyncio.Task[None] | None = None
        self._inline = writes_in_loop(engine)
        self._inline_commits = 0

    async def submit(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in the next group's transaction and return its result once committed."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending.append((work, future))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._pending:
            async with write_lock(self._engine):
                batch, self._pending = self._pending, []
                try:
                    outcomes = await self._commit([w for w, _ in batch])
                except Exception as error:  # the commit failed: nothing of the group is stored
                    outcomes = [(False, error)] * len(batch)
            for (_, future), (ok, value) in zip(batch, outcomes, strict=True):
                if future.done():  # its caller went away; the rows are stored all the same
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)

    async def _commit(self, works: list[Callable[[Connection], Any]]) -> list[tuple[bool, Any]]:
        """Run one group, in the loop when it may, else in a thread; return each outcome."""
        if self._inline:
            engine = self._engine
            kept = connections.kept(engine.sync_engine, "write", _inline_engine(engine).connect)
            try:
                outcomes = _in_group(lambda: contextlib.nullcontext(kept), works)
            except _Busy:
                pass  # another process writes: wait for it in a thread
            else:
                self._inline_commits += 1
                if self._inline_commits % CHECKPOINT_EVERY == 0:
                    asyncio.get_running_loop().run_in_executor(
                        None, _checkpoint, _blocking_engine(self._engine)
                    )
                return outcomes
        return await asyncio.to_thread(_in_group, _blocking_engine(self._engine).connect, works)


class _Busy(Exception):
    """Another connection holds SQLite's write lock, and this one may not wait."""


# Opens the connection a group runs on: a new one from a pool, or one kept open (nullcontext).
Connect = Callable[[], contextlib.AbstractContextManager[Connection]]


@contextlib.contextmanager
def _transaction(connect: Connect) -> Iterator[Connection]:
    """Open a write transaction; raise :class:`_Busy` if the lock is taken and waiting is off."""
    with connect() as conn:
        try:
            transaction = conn.begin()
        except OperationalError as error:
            if "locked" in str(error.orig):
                raise _Busy from error
            raise
        with transaction:
            yield conn


def _checkpoint(twin: Engine) -> None:
    """Copy the WAL back into the database file without blocking writers (PASSIVE)."""
    try:
        raw = twin.raw_connection()
        try:
            raw.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)")  # type: ignore[union-attr]
        finally:
            raw.close()
    except Exception:  # the next one, or another connection's, will do it
        logger.warning("a WAL checkpoint failed", exc_info=True)


def _in_group(connect: Connect, works: list[Callable[[Connection], Any]]) -> list[tuple[bool, Any]]:
    if len(works) == 1:  # alone in its transaction: no savepoint needed
        try:
            with _transaction(connect) as conn:
                return [(True, works[0](conn))]
        except _Busy:
            raise
        except Exception as error:
            return [(False, error)]
    outcomes: list[tuple[bool, Any]] = []
    with _transaction(connect) as conn:
        for work in works:
            outcomes.append(_in_savepoint(conn, work))
    return outcomes


def _in_savepoint(conn: Connection, work: Callable[[Connection], Any]) -> tuple[bool, Any]:
    """Run one unit of a group in its own savepoint; undo only its rows if it fails.

    The savepoint is set on the sqlite3 connection itself: through SQLAlchemy each ``SAVEPOINT``
    and ``RELEASE`` cost a statement's Python (~40 µs, a quarter of a call's statements), here a
    few µs. The connection is in autocommit mode (``tune_sqlite``), so sqlite3 adds nothing.
    """
    raw = conn.connection.driver_connection
    assert raw is not None
    raw.execute("SAVEPOINT unit")
    try:
        outcome: tuple[bool, Any] = (True, work(conn))
    except Exception as error:
        raw.execute("ROLLBACK TO unit")
        outcome = (False, error)
    raw.execute("RELEASE unit")
    return outcome


_GROUPS: weakref.WeakKeyDictionary[Engine, dict[int, GroupCommit]] = weakref.WeakKeyDictionary()


def _group_for(engine: AsyncEngine) -> GroupCommit:
    """Return the group commit of ``engine`` for the running event loop."""
    per_loop = _GROUPS.setdefault(engine.sync_engine, {})
    key = id(asyncio.get_running_loop())
    group = per_loop.get(key)
    if group is None:
        if len(per_loop) > 16:  # event loops of finished tests
            per_loop.clear()
        group = per_loop[key] = GroupCommit(engine)
    return group


def dispose(engine: AsyncEngine) -> None:
    """Close the synchronous twins' connections (with the async engine's)."""
    connections.close(engine.sync_engine)
    for twins in (_BLOCKING, _INLINE):
        twin = twins.pop(engine.sync_engine, None)
        if twin is not None:
            twin.dispose()
