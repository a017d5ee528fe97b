"""local CRM phones are indexed by their second reading too (digits stored without their "+")

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 18:40:00

``crm_record_phones.ambiguous_e164`` holds the international reading of bare digits that are
also a valid national number of the integration's region (``33612345607`` with region DE:
+4933612345607 as usual, +33612345607 as well), indexed like ``e164``. Existing phones are read
again with their integration's region, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from callbridge.domain.phone import stored_readings

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_INTEGRATIONS = sa.table(
    "integrations", sa.column("id", sa.String), sa.column("default_region", sa.String)
)
_PHONES = sa.table(
    "crm_record_phones",
    sa.column("id", sa.Integer),
    sa.column("integration_id", sa.String),
    sa.column("raw", sa.String),
    sa.column("e164", sa.String),
    sa.column("ambiguous_e164", sa.String),
)


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("crm_record_phones", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ambiguous_e164", sa.String(length=20), nullable=True))
        batch_op.create_index(
            "ix_crm_record_phones_ambiguous", ["integration_id", "ambiguous_e164"], unique=False
        )
    _backfill(op.get_bind())


def _backfill(db: sa.Connection) -> None:
    """Give each existing phone its second reading, read with its own integration's region."""
    regions = db.execute(sa.select(_INTEGRATIONS.c.id, _INTEGRATIONS.c.default_region)).all()
    for integration_id, region in regions:
        phones = db.execute(
            sa.select(_PHONES.c.id, _PHONES.c.raw).where(
                _PHONES.c.integration_id == integration_id, _PHONES.c.e164.is_not(None)
            )
        ).all()
        for phone_id, raw in phones:
            second = [r.number.e164 for r in stored_readings(raw, region) if r.ambiguous]
            if second:
                db.execute(
                    sa.update(_PHONES)
                    .where(_PHONES.c.integration_id == integration_id, _PHONES.c.id == phone_id)
                    .values(ambiguous_e164=second[0])
                )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("crm_record_phones", schema=None) as batch_op:
        batch_op.drop_index("ix_crm_record_phones_ambiguous")
        batch_op.drop_column("ambiguous_e164")
