"""The ``jobs`` table of the embedded (SQLite) queue.

A job is ``todo`` until a worker claims it (``doing``, with a lease it keeps extending while the
handler runs). A job that succeeds is deleted, to keep the table small; one that fails for good
stays as ``dead`` until it is replayed. ``done`` is reserved for tools that keep finished jobs.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
    text,
)

from callbridge.storage.metadata import metadata
from callbridge.storage.types import UTCDateTime

STATUSES = ("todo", "doing", "done", "dead")


jobs = Table(
    "jobs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("task", String(128), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("lock_key", String(255), nullable=True),
    Column("queueing_lock", String(255), nullable=True),
    Column("status", String(8), nullable=False, server_default="todo"),
    Column("scheduled_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("lease_until", UTCDateTime, nullable=True),
    Column("worker_id", String(128), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=True),
    # When the job first failed: retries go on until the retry horizon after it.
    Column("first_failed_at", UTCDateTime, nullable=True),
    # Runs lost because the worker died; too many bury the job (it may be what kills them).
    Column("lost_runs", Integer, nullable=False, server_default="0"),
    CheckConstraint(
        "status IN ({})".format(", ".join(f"'{status}'" for status in STATUSES)), name="status"
    ),
    # Ids order the jobs (per-key FIFO); AUTOINCREMENT keeps SQLite from reusing deleted ones.
    sqlite_autoincrement=True,
)

# The claim query filters on status then due time, and walks jobs in id order.
Index("ix_jobs_status_scheduled_at", jobs.c.status, jobs.c.scheduled_at, jobs.c.id)
# Claims walk the waiting jobs in id order and stop at the first due one with a free key.
Index(
    "ix_jobs_todo_in_order",
    jobs.c.id,
    jobs.c.scheduled_at,
    sqlite_where=text("status = 'todo'"),
    postgresql_where=text("status = 'todo'"),
)
# Per-key checks: "is this key held, or is an older job of this key waiting?".
Index("ix_jobs_lock_key_status", jobs.c.lock_key, jobs.c.status, jobs.c.id)
# At most one waiting job per queueing lock; running and dead jobs do not count.
Index(
    "uq_jobs_queueing_lock_todo",
    jobs.c.queueing_lock,
    unique=True,
    sqlite_where=text("status = 'todo'"),
    postgresql_where=text("status = 'todo'"),
)
