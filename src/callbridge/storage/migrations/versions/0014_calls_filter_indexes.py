"""indexes for the call history's filters by number and by agent, in the history's order

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 00:45:00

The number filter matches the start of the from or to number (an index range on each, united);
the agent filter reads the agent's calls newest first. Without them both walked every call of
the company (bench/RESULTS.md).
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_calls_company_from": ["company_id", "from_number", "created_at", "id"],
    "ix_calls_company_to": ["company_id", "to_number", "created_at", "id"],
    "ix_calls_company_user": ["company_id", "user_id", "created_at", "id"],
}


def upgrade() -> None:
    """Apply this revision."""
    for name, columns in INDEXES.items():
        op.create_index(name, "calls", columns)


def downgrade() -> None:
    """Revert this revision."""
    for name in INDEXES:
        op.drop_index(name, table_name="calls")
