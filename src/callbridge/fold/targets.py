"""What a final call's fold reads of its company, in one statement: its data and integrations.

A final call's fold read its company, its users' extensions and its integrations one statement
each (three runs through the driver's Python, the same rows every time). :func:`read` joins the
company to its integrations, oldest first, with the extensions aggregated into one JSON array,
every table scoped by the company given, and splits the rows again. A company without an
integration reads as nothing: its final calls have no sync to ask for.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import JSON, BindParameter, Connection, Select, and_, bindparam, func, select

from callbridge.storage import accounts, driver
from callbridge.storage.integrations import IntegrationRow
from callbridge.storage.tables import companies, integrations, users


@dataclass(frozen=True)
class Targets:
    """The company, its users' extensions and its integrations (oldest first)."""

    company: accounts.Company
    extensions: list[str]
    integrations: list[IntegrationRow]


def read(db: Connection, company_id: str) -> Targets | None:
    """Return what a final call's fold reads of the company; None without an integration."""
    rows = driver.execute(db, _statement(db.dialect.name), {"company_id": company_id}).rows
    if not rows:
        return None
    first = rows[0]
    company = cast(accounts.Company, dict(zip(_COMPANY_KEYS, first[:_SPLIT], strict=True)))
    extensions = [str(extension) for extension in first[-1] or ()]
    found = [
        cast(IntegrationRow, dict(zip(_INTEGRATION_KEYS, row[_SPLIT:-1], strict=True)))
        for row in rows
    ]
    return Targets(company, extensions, found)


_COMPANY_KEYS = tuple(accounts.Company.__annotations__)
_INTEGRATION_KEYS = tuple(column.key for column in integrations.c)
_SPLIT = len(_COMPANY_KEYS)
_SCOPE: BindParameter[str] = bindparam("company_id")


@functools.cache
def _statement(dialect: str) -> Select[Any]:
    """Build the read once per dialect: SQLite and PostgreSQL aggregate JSON differently."""
    aggregate = func.json_agg if dialect == "postgresql" else func.json_group_array
    extensions = (
        select(aggregate(users.c.extension, type_=JSON))
        .where(users.c.company_id == _SCOPE, users.c.extension.is_not(None))
        .scalar_subquery()
    )
    return (
        select(
            *(companies.c[key].label(f"company_{key}") for key in _COMPANY_KEYS),
            *(column.label(f"integration_{column.key}") for column in integrations.c),
            extensions.label("extensions"),
        )
        .select_from(
            companies.join(
                integrations,
                and_(
                    integrations.c.company_id == _SCOPE, integrations.c.company_id == companies.c.id
                ),
            )
        )
        .where(companies.c.id == _SCOPE, integrations.c.company_id == _SCOPE)
        .order_by(integrations.c.created_at, integrations.c.id)
    )
