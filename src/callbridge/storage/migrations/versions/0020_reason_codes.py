"""call_syncs.reason_code and webhook_deliveries.ignored_code: reasons as codes the screens say

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 06:45:00

``call_syncs.reason`` and ``webhook_deliveries.ignored_reason`` keep the English text the API
answers; the new columns (JSON: ``code`` and ``params``, see ``callbridge.domain.said``) say the
same as a stable code, so the call's page and the source's page say it in the reader's language.
Rows written before this revision have none: the screens show their stored text.
``recreate="never"``: the columns are added and dropped in place on SQLite (3.35+), as in 0016.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_COLUMNS = (("call_syncs", "reason_code"), ("webhook_deliveries", "ignored_code"))


def upgrade() -> None:
    """Add ``call_syncs.reason_code`` and ``webhook_deliveries.ignored_code``."""
    for table, column in _COLUMNS:
        with op.batch_alter_table(table, recreate="never") as batch_op:
            batch_op.add_column(sa.Column(column, sa.JSON(), nullable=True))


def downgrade() -> None:
    """Drop the two columns."""
    for table, column in _COLUMNS:
        with op.batch_alter_table(table, recreate="never") as batch_op:
            batch_op.drop_column(column)
