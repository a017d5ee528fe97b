"""agent tokens, dial intents and call selections (multi CRM contact selection)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 09:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "agent_tokens",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("company_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_agent_tokens_company_id_companies")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_agent_tokens_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_agent_tokens_token_hash")),
    )
    with op.batch_alter_table("agent_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agent_tokens_company_id"), ["company_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_agent_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "call_selections",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("company_id", sa.String(length=36), nullable=False),
        sa.Column("call_id", sa.String(length=36), nullable=False),
        sa.Column("integration_id", sa.String(length=36), nullable=False),
        sa.Column("record_id", sa.String(length=200), nullable=False),
        sa.Column("object_type", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("how", sa.String(length=20), nullable=False),
        sa.Column("chosen_by", sa.String(length=36), nullable=True),
        sa.Column("chosen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_call_selections_call_id_calls")
        ),
        sa.ForeignKeyConstraint(
            ["chosen_by"], ["users.id"], name=op.f("fk_call_selections_chosen_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_call_selections_company_id_companies")
        ),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_call_selections_integration_id_integrations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_selections")),
    )
    with op.batch_alter_table("call_selections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_call_selections_call_id"), ["call_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_call_selections_company_id"), ["company_id"], unique=False
        )

    op.create_table(
        "dial_intents",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("company_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("phone_e164", sa.String(length=20), nullable=False),
        sa.Column("provider_call_id", sa.String(length=200), nullable=True),
        sa.Column("how", sa.String(length=20), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("window_seconds", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_dial_intents_call_id_calls")
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_dial_intents_company_id_companies")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_dial_intents_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dial_intents")),
    )
    with op.batch_alter_table("dial_intents", schema=None) as batch_op:
        batch_op.create_index(
            "ix_dial_intents_agent_number", ["user_id", "phone_e164"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_dial_intents_company_id"), ["company_id"], unique=False
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("dial_intents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dial_intents_company_id"))
        batch_op.drop_index("ix_dial_intents_agent_number")

    op.drop_table("dial_intents")
    with op.batch_alter_table("call_selections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_call_selections_company_id"))
        batch_op.drop_index(batch_op.f("ix_call_selections_call_id"))

    op.drop_table("call_selections")
    with op.batch_alter_table("agent_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agent_tokens_user_id"))
        batch_op.drop_index(batch_op.f("ix_agent_tokens_company_id"))

    op.drop_table("agent_tokens")
