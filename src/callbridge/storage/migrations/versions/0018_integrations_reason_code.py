"""integrations.status_reason_code and limited_until: an integration's health as codes and times

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 04:10:00

``status_reason`` keeps the English text the API answers; ``status_reason_code`` says the same
as a stable code (``callbridge.storage.integrations.REASON_CODES``) so the integrations screen
says it in the reader's language; reasons stored before this revision have none and are shown
as stored. ``limited_until``: the CRM account's daily API limit is used up until then (HubSpot's
resets at midnight in the account's zone); the sync that met the limit writes it.
``recreate="never"``: the columns are added and dropped in place on SQLite (3.35+), as in 0016.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``integrations.status_reason_code`` and ``integrations.limited_until``."""
    with op.batch_alter_table("integrations", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("status_reason_code", sa.String(40), nullable=True))
        batch_op.add_column(sa.Column("limited_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Drop the two columns."""
    with op.batch_alter_table("integrations", recreate="never") as batch_op:
        batch_op.drop_column("limited_until")
        batch_op.drop_column("status_reason_code")
