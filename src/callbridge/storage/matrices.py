"""Versions of each integration's matrix: every change is a new version, none is overwritten."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select

from callbridge.rules.default_matrix import DEFAULT_MATRIX_JSON
from callbridge.storage import driver
from callbridge.storage.tables import api_keys, matrix_versions

DEFAULT_VERSION = 0


def current(db: Connection, company_id: str, integration_id: str) -> tuple[int, dict[str, Any]]:
    """Return the integration's newest matrix version and JSON (version 0: the default)."""
    scope = {"company_id": company_id, "integration_id": integration_id}
    row = driver.execute(db, _NEWEST, scope).first()
    return (row.version, row.matrix) if row else (DEFAULT_VERSION, DEFAULT_MATRIX_JSON)


_NEWEST = (
    select(matrix_versions.c.version, matrix_versions.c.matrix)
    .where(
        matrix_versions.c.company_id == bindparam("company_id"),
        matrix_versions.c.integration_id == bindparam("integration_id"),
    )
    .order_by(matrix_versions.c.version.desc())
    .limit(1)
)


def version(
    db: Connection, company_id: str, integration_id: str, number: int
) -> dict[str, Any] | None:
    """Return one version's JSON (0 is the default matrix): a retried sync's decided version."""
    if number == DEFAULT_VERSION:
        return DEFAULT_MATRIX_JSON
    scope = {"company_id": company_id, "integration_id": integration_id, "version": number}
    found: dict[str, Any] | None = driver.execute(db, _VERSION, scope).scalar_one_or_none()
    return found


_VERSION = select(matrix_versions.c.matrix).where(
    matrix_versions.c.company_id == bindparam("company_id"),
    matrix_versions.c.integration_id == bindparam("integration_id"),
    matrix_versions.c.version == bindparam("version"),
)


def save(
    db: Connection,
    company_id: str,
    integration_id: str,
    matrix: dict[str, Any],
    now: datetime,
    key_id: str | None = None,
) -> int:
    """Store a new version of the matrix, saved with the API key ``key_id``; return its number."""
    newest = db.execute(
        select(func.max(matrix_versions.c.version)).where(
            matrix_versions.c.company_id == company_id,
            matrix_versions.c.integration_id == integration_id,
        )
    )
    number = int(newest.scalar() or DEFAULT_VERSION) + 1
    key_name = (
        select(api_keys.c.name)
        .where(api_keys.c.company_id == company_id, api_keys.c.id == key_id)
        .scalar_subquery()
    )
    db.execute(
        insert(matrix_versions).values(
            company_id=company_id,
            integration_id=integration_id,
            version=number,
            matrix=matrix,
            created_at=now,
            saved_by_key_id=key_id,
            saved_by=key_name,
        )
    )
    return number


def history(
    db: Connection, company_id: str, integration_id: str, limit: int, before: int | None = None
) -> list[dict[str, Any]]:
    """Return a page of stored versions, newest first, with who saved each and its JSON.

    Keyset paging: the ``limit`` newest versions below ``before`` (all when None), and the one
    just older than the page when there is one, so each version of the page can be compared with
    its predecessor: ``limit + 1`` rows at most, however many versions there are.
    """
    query = (
        select(
            matrix_versions.c.version,
            matrix_versions.c.created_at,
            matrix_versions.c.saved_by_key_id,
            matrix_versions.c.saved_by,
            matrix_versions.c.matrix,
        )
        .where(
            matrix_versions.c.company_id == company_id,
            matrix_versions.c.integration_id == integration_id,
        )
        .order_by(matrix_versions.c.version.desc())
        .limit(limit + 1)
    )
    if before is not None:
        query = query.where(matrix_versions.c.version < before)
    return [dict(row._mapping) for row in db.execute(query)]
