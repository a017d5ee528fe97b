"""PostgreSQL: jobs indexed by lock; a finished job wakes the workers waiting on its lock

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 17:00:00

Procrastinate notifies its workers only when a job is inserted. A job refused because its lock
was held then waits for the next poll. Until now the worker woke them itself after each job (a
transaction, sometimes several, per job); this trigger does it inside Procrastinate's own finish
or retry statement, and only when a job actually waits on the lock.

It also indexes the jobs waiting or running by lock. Procrastinate's fetch asks, for each
candidate, whether a job with its lock runs or waits ahead of it; with only its (id, lock) index
that walked every waiting job, so each fetch grew slower as a backlog grew, which grew the
backlog. The trigger's question uses the same index.
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_FUNCTION = """
CREATE OR REPLACE FUNCTION callbridge_wake_on_lock_release() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM procrastinate_jobs
                WHERE lock = OLD.lock AND status = 'todo' AND id <> OLD.id) THEN
        PERFORM pg_notify('procrastinate_queue_v1#' || OLD.queue_name,
                          json_build_object('type', 'job_inserted', 'job_id', OLD.id)::text);
    END IF;
    RETURN NULL;
END;
$$
"""

_BY_LOCK = """
CREATE INDEX IF NOT EXISTS callbridge_procrastinate_jobs_by_lock ON procrastinate_jobs (lock, id)
    WHERE status IN ('todo', 'doing')
"""

_ON_DELETE = """
CREATE TRIGGER callbridge_wake_on_lock_release_delete
    AFTER DELETE ON procrastinate_jobs
    FOR EACH ROW WHEN (OLD.status = 'doing' AND OLD.lock IS NOT NULL)
    EXECUTE FUNCTION callbridge_wake_on_lock_release()
"""

_ON_UPDATE = """
CREATE TRIGGER callbridge_wake_on_lock_release_update
    AFTER UPDATE OF status ON procrastinate_jobs
    FOR EACH ROW WHEN (OLD.status = 'doing' AND NEW.status <> 'doing' AND OLD.lock IS NOT NULL)
    EXECUTE FUNCTION callbridge_wake_on_lock_release()
"""


def upgrade() -> None:
    """Apply this revision."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in (_BY_LOCK, _FUNCTION, _ON_DELETE, _ON_UPDATE):
        op.execute(statement)


def downgrade() -> None:
    """Revert this revision."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "DROP TRIGGER IF EXISTS callbridge_wake_on_lock_release_update ON procrastinate_jobs"
    )
    op.execute(
        "DROP TRIGGER IF EXISTS callbridge_wake_on_lock_release_delete ON procrastinate_jobs"
    )
    op.execute("DROP FUNCTION IF EXISTS callbridge_wake_on_lock_release()")
    op.execute("DROP INDEX IF EXISTS callbridge_procrastinate_jobs_by_lock")
