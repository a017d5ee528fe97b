"""HubSpot claims say whether their create carried the unique callbridge_key

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 15:15:00

An unsure create (its answer lost) is read back by ``callbridge_key`` only if it was sent with the
key; claims written before this revision were not, so they read ``false`` and are searched for.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("hubspot_objects", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("keyed", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("hubspot_objects", schema=None) as batch_op:
        batch_op.drop_column("keyed")
