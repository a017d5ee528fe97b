"""call_actions.reason_code: an action's reason as a code the screens say

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 07:45:00

``call_actions.reason`` keeps the English text the API answers (why a contact was created or
not, why a step was skipped); the new column (JSON: ``code`` and ``params``, see
``callbridge.domain.said``) says the same as a stable code, so a call's page says it in the
reader's language. Rows written before this revision, and a CRM's own words, have none: the
screens show their stored text. ``recreate="never"``: added and dropped in place, as in 0020.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``call_actions.reason_code``."""
    with op.batch_alter_table("call_actions", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("reason_code", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Drop ``call_actions.reason_code``."""
    with op.batch_alter_table("call_actions", recreate="never") as batch_op:
        batch_op.drop_column("reason_code")
