"""retries until a horizon after the first failure; a circuit breaker per integration

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 16:00:00

Jobs are retried until the retry horizon (24 h by default) after their first failure instead of
8 attempts, so each queue keeps when a job first failed (SQLite: ``jobs.first_failed_at``;
PostgreSQL: ``callbridge_job_errors.first_failed_at``, beside Procrastinate's job) and, apart
from its attempts, how many of its runs were lost with their worker (``lost_runs``: too many
bury the job). ``circuit_breakers`` holds each integration's breaker, shared by every worker.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_failed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("lost_runs", sa.Integer(), server_default="0", nullable=False)
        )
    op.create_table(
        "circuit_breakers",
        sa.Column("company_id", sa.String(length=36), nullable=False),
        sa.Column("integration_id", sa.String(length=36), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("opens", sa.Integer(), server_default="0", nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("probe_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('closed', 'open', 'half_open')", name=op.f("ck_circuit_breakers_state")
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_circuit_breakers_company_id_companies")
        ),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_circuit_breakers_integration_id_integrations"),
        ),
        sa.PrimaryKeyConstraint("integration_id", name=op.f("pk_circuit_breakers")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE callbridge_job_errors ADD COLUMN first_failed_at timestamptz, "
            "ADD COLUMN lost_runs integer NOT NULL DEFAULT 0"
        )


def downgrade() -> None:
    """Revert this revision."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE callbridge_job_errors DROP COLUMN first_failed_at, DROP COLUMN lost_runs"
        )
    op.drop_table("circuit_breakers")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("lost_runs")
        batch_op.drop_column("first_failed_at")
