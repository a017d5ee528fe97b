"""A company's language: the screens' default when the user picked none (en, fr or es).

Kept in its own table, one row a company that set one; a company without a row has none (the
screens then follow the browser).
"""

from __future__ import annotations

from sqlalchemy import Column, Connection, ForeignKey, String, Table, delete, insert, select

from callbridge.storage.metadata import metadata

company_languages = Table(
    "company_languages",
    metadata,
    Column("company_id", String(36), ForeignKey("companies.id"), primary_key=True),
    Column("language", String(5), nullable=False),
)


def get_language(conn: Connection, company_id: str) -> str | None:
    """Return the company's language, or None when it set none."""
    query = select(company_languages.c.language).where(company_languages.c.company_id == company_id)
    return conn.execute(query).scalar_one_or_none()


def set_language(conn: Connection, company_id: str, language: str | None) -> None:
    """Set the company's language (None: back to none)."""
    conn.execute(delete(company_languages).where(company_languages.c.company_id == company_id))
    if language is not None:
        conn.execute(insert(company_languages).values(company_id=company_id, language=language))
