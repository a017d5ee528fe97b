"""who saved each matrix version: the API key's id and its name at the time

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 00:30:00

``matrix_versions.saved_by_key_id`` and ``saved_by`` record the admin key a version was saved
with (through the API or the admin UI, which saves through the API's route), so the matrix's
history says who changed what. Versions saved before this revision have neither: the history
says the author was not recorded.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("matrix_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("saved_by_key_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("saved_by", sa.String(length=200), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("matrix_versions", schema=None) as batch_op:
        batch_op.drop_column("saved_by")
        batch_op.drop_column("saved_by_key_id")
