"""companies.language: a company's default language for the screens, on the company's row

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 03:40:00

0015 kept the language in a table of its own (``company_languages``), one row a company that set
one, replaced by a delete and an insert. It is one value of a company: a nullable column of
``companies`` read with the company's row and set with one UPDATE. The values move over and the
table goes. ``batch_alter_table`` adds and drops the column in place (``recreate="never"``):
rebuilding ``companies`` on SQLite would drop a table every other table points to while
``foreign_keys`` is on (see 0007); SQLite has had ``ALTER TABLE … DROP COLUMN`` since 3.35.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``companies.language``, copy each company's language into it, drop the old table."""
    with op.batch_alter_table("companies", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=5), nullable=True))
    op.execute(
        "UPDATE companies SET language = (SELECT company_languages.language"
        " FROM company_languages WHERE company_languages.company_id = companies.id)"
    )
    op.drop_table("company_languages")


def downgrade() -> None:
    """Bring back ``company_languages`` with the companies' languages, drop the column."""
    op.create_table(
        "company_languages",
        sa.Column("company_id", sa.String(36), sa.ForeignKey("companies.id"), primary_key=True),
        sa.Column("language", sa.String(5), nullable=False),
    )
    op.execute(
        "INSERT INTO company_languages (company_id, language)"
        " SELECT id, language FROM companies WHERE language IS NOT NULL"
    )
    with op.batch_alter_table("companies", recreate="never") as batch_op:
        batch_op.drop_column("language")
