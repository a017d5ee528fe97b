"""an index of each company's calls in the call history's order (newest first, then id)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 22:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_index("ix_calls_company_created", "calls", ["company_id", "created_at", "id"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_calls_company_created", table_name="calls")
