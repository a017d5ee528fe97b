"""call_syncs.match_reason: why the log went where it did, as a code the screens translate

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 03:45:00

``match_rule`` keeps the English text the API answers; ``match_reason`` (JSON: ``code`` and its
parameters ``who``, ``records``, ``then``; see ``callbridge.rules.match_reason``) says the same
as a stable code, so the call's page and the agent's "My calls" say it in the reader's
language. Syncs written before this revision have none: the screens show their stored text.
``recreate="never"``: the column is added and dropped in place on SQLite (3.35+), as in 0016.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``call_syncs.match_reason``."""
    with op.batch_alter_table("call_syncs", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("match_reason", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Drop ``call_syncs.match_reason``."""
    with op.batch_alter_table("call_syncs", recreate="never") as batch_op:
        batch_op.drop_column("match_reason")
