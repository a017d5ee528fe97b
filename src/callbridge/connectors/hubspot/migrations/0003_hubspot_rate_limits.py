"""hubspot rate limit buckets, phone lookup cache and written objects

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 09:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _integration(name: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["integration_id"], ["integrations.id"], name=op.f(f"fk_{name}_integration_id_integrations")
    )


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "hubspot_rate_buckets",
        sa.Column("integration_id", sa.String(length=36), nullable=False),
        sa.Column("bucket", sa.String(length=20), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _integration("hubspot_rate_buckets"),
        sa.PrimaryKeyConstraint("integration_id", "bucket", name=op.f("pk_hubspot_rate_buckets")),
    )
    op.create_table(
        "hubspot_phone_cache",
        sa.Column("integration_id", sa.String(length=36), nullable=False),
        sa.Column("phone_e164", sa.String(length=20), nullable=False),
        sa.Column("records", sa.JSON(), nullable=False),
        sa.Column("cached_at", sa.DateTime(timezone=True), nullable=False),
        _integration("hubspot_phone_cache"),
        sa.PrimaryKeyConstraint(
            "integration_id", "phone_e164", name=op.f("pk_hubspot_phone_cache")
        ),
    )
    op.create_table(
        "hubspot_objects",
        sa.Column("integration_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("record_id", sa.String(length=60), nullable=False),
        sa.Column("object_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _integration("hubspot_objects"),
        sa.PrimaryKeyConstraint(
            "integration_id", "kind", "external_id", "record_id", name=op.f("pk_hubspot_objects")
        ),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("hubspot_objects")
    op.drop_table("hubspot_phone_cache")
    op.drop_table("hubspot_rate_buckets")
