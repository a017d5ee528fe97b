"""companies.time_zone: the zone the screens show a company's times in (an IANA name)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 06:30:00

Times are stored in UTC; the screens write them in the company's zone (``Europe/Paris``…),
checked against the system's zone database (``zoneinfo``) when it is set. Every company gets
"UTC", what the screens showed until now. Added in place (``recreate="never"``), as in 0016.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``companies.time_zone``, "UTC" for every company."""
    with op.batch_alter_table("companies", recreate="never") as batch_op:
        batch_op.add_column(
            sa.Column("time_zone", sa.String(64), nullable=False, server_default="UTC")
        )


def downgrade() -> None:
    """Drop the column."""
    with op.batch_alter_table("companies", recreate="never") as batch_op:
        batch_op.drop_column("time_zone")
