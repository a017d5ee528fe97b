"""company_languages: a company's default language for the screens

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 01:05:00

One row a company that set a language (en, fr, es); the web UI uses it when the user picked none.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "company_languages",
        sa.Column("company_id", sa.String(36), sa.ForeignKey("companies.id"), primary_key=True),
        sa.Column("language", sa.String(5), nullable=False),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("company_languages")
