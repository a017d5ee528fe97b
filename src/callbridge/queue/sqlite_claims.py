"""How a worker finds the next job to run: the claim statements of the ``jobs`` table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, TextualSelect, bindparam, text

from callbridge.queue.sqlite_table import jobs
from callbridge.storage import driver

# A job may start when no other job of its lock key runs (under a live lease) or waits before it.
_KEY_FREE = """(jobs.lock_key IS NULL OR NOT EXISTS (
    SELECT 1 FROM jobs AS other
     WHERE other.lock_key = jobs.lock_key AND other.id != jobs.id
       AND (other.status = 'doing' AND other.lease_until >= :now
            OR other.status IN ('todo', 'doing') AND other.id < jobs.id)))"""


def _claim_query(source: str, due: str) -> TextualSelect:
    """Select the oldest job of ``source`` that is ``due`` and whose lock key is free."""
    return (
        text(
            "SELECT id, task, payload, attempts, status, first_failed_at, lost_runs "
            f"FROM {source} WHERE {due} AND {_KEY_FREE} ORDER BY id LIMIT 1"
        )
        .bindparams(bindparam("now", type_=jobs.c.scheduled_at.type))
        .columns(
            jobs.c.id,
            jobs.c.task,
            jobs.c.payload,
            jobs.c.attempts,
            jobs.c.status,
            jobs.c.first_failed_at,
            jobs.c.lost_runs,
        )
    )


# Statements built once. Waiting jobs are walked in id order through their partial index, so a
# claim stops at the first free one instead of sorting the whole backlog (which made each claim
# slower as the queue grew). SQLite would pick the status index and sort unless told otherwise.
WAITING = _claim_query(
    "jobs INDEXED BY ix_jobs_todo_in_order", "status = 'todo' AND scheduled_at <= :now"
)
# A lease that ran out means its worker died: the job is up for grabs again.
ABANDONED = _claim_query("jobs", "status = 'doing' AND lease_until < :now")


def claimable(conn: Connection, now: datetime, abandoned: bool = True) -> Any:
    """Return the next job to run: an abandoned one first (if asked), else the oldest waiting."""
    params = {"now": now}
    if abandoned and (row := driver.execute(conn, ABANDONED, params).first()) is not None:
        return row
    return driver.execute(conn, WAITING, params).first()
