"""a bounded log of each source's refused deliveries; deliveries indexed by source and time

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 21:20:00

``webhook_refusals`` keeps the last refused deliveries of each telephony source (bad signature
or token, malformed field, wrong provider in the URL, body too large): the status and message
the sender got and a redacted excerpt of the body, so ``GET /sources/{id}/deliveries`` can show
them beside the accepted ones. ``ix_webhook_deliveries_source_received`` serves that list,
newest first.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "webhook_refusals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("company_id", sa.String(length=36), nullable=False),
        sa.Column("source_id", sa.String(length=36), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=40), nullable=False),
        sa.Column("field", sa.String(length=255), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("body_excerpt", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_webhook_refusals_company_id_companies")
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["telephony_sources.id"],
            name=op.f("fk_webhook_refusals_source_id_telephony_sources"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_refusals")),
    )
    with op.batch_alter_table("webhook_refusals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_refusals_company_id"), ["company_id"], unique=False
        )
        batch_op.create_index(
            "ix_webhook_refusals_source_received", ["source_id", "received_at"], unique=False
        )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_webhook_deliveries_source_received", ["source_id", "received_at"], unique=False
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_deliveries_source_received")
    op.drop_table("webhook_refusals")
