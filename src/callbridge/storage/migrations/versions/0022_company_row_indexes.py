"""Indexes led by the company that go on to the row, for the reads every call makes

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 10:50:00

A call's fold reads its events, and its sync its links, whether a record was chosen and the
agent's open dial intent, each by the company and the call (or the agent and the number).
SQLite's planner, without statistics, took the index on ``company_id`` alone for them and read
every row of the company: each call cost more than the one before. Each such single-column
index is replaced by one starting with the company and going on to the row, which serves the
company's other reads as well.
"""

from __future__ import annotations

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

# (table, the company's index replaced, the new index, its columns after company_id)
_INDEXES = (
    ("call_events", "ix_call_events_company_call", ("source_id", "provider_call_id")),
    ("activity_links", "ix_activity_links_company_call", ("call_id", "integration_id")),
    ("call_selections", "ix_call_selections_company_call", ("call_id",)),
    ("dial_intents", "ix_dial_intents_company_agent", ("user_id", "phone_e164")),
)


def upgrade() -> None:
    """Replace each table's ``ix_<table>_company_id`` by an index led by the company."""
    for table, name, columns in _INDEXES:
        op.create_index(name, table, ["company_id", *columns])
        op.drop_index(f"ix_{table}_company_id", table_name=table)


def downgrade() -> None:
    """Put the single-column company indexes back."""
    for table, name, _columns in _INDEXES:
        op.create_index(f"ix_{table}_company_id", table, ["company_id"])
        op.drop_index(name, table_name=table)
