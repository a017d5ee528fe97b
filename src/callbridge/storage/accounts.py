"""Companies, API keys and telephony sources; every query scoped by company.

Users and teams are ``storage/users.py``'s.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import Connection, insert, select, update

from callbridge.storage.sql import select_where
from callbridge.storage.tables import (
    agent_tokens,
    api_keys,
    companies,
    telephony_sources,
)

KEY_PREFIX = "cb_"
#: The start of every agent token (an admin API key starts with ``KEY_PREFIX``).
AGENT_TOKEN_PREFIX = "cba_"


@dataclass(frozen=True)
class Principal:
    """Who an API key belongs to."""

    company_id: str
    key_id: str


class Company(TypedDict):
    """A company as stored: its name, its own numbers, its screens' language and time zone."""

    id: str
    name: str
    own_numbers: list[str]
    created_at: datetime
    language: str | None
    time_zone: str


def hash_key(raw: str) -> str:
    """Return the stored form of an API key (SHA-256; keys are long random strings)."""
    return hashlib.sha256(raw.encode()).hexdigest()


def create_company(db: Connection, name: str, now: datetime) -> str:
    """Create a company (tenant) and return its id."""
    company_id = str(uuid.uuid4())
    db.execute(insert(companies).values(id=company_id, name=name, own_numbers=[], created_at=now))
    return company_id


@dataclass(frozen=True)
class IssuedKey:
    """A new API key: ``key`` is known only in this value; the database keeps its hash."""

    id: str
    name: str
    prefix: str
    key: str
    created_at: datetime


def issue_api_key(db: Connection, company_id: str, name: str, now: datetime) -> IssuedKey:
    """Create an admin API key for the company; only its hash and prefix are stored."""
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    issued = IssuedKey(str(uuid.uuid4()), name, raw[:10], raw, now)
    db.execute(
        insert(api_keys).values(
            id=issued.id,
            company_id=company_id,
            name=name,
            prefix=issued.prefix,
            key_hash=hash_key(raw),
            created_at=now,
        )
    )
    return issued


def create_api_key(db: Connection, company_id: str, name: str, now: datetime) -> str:
    """Create an API key for the company and return it; only its hash is stored."""
    return issue_api_key(db, company_id, name, now).key


def list_api_keys(db: Connection, company_id: str) -> list[dict[str, Any]]:
    """Return the company's API keys, oldest first: id, name, prefix, times; never a hash."""
    columns = (api_keys.c[name] for name in ("id", "name", "prefix", "created_at", "revoked_at"))
    query = (
        select(*columns)
        .where(api_keys.c.company_id == company_id)
        .order_by(api_keys.c.created_at, api_keys.c.id)
    )
    return [dict(row._mapping) for row in db.execute(query)]


def revoke_api_key(db: Connection, company_id: str, key_id: str, now: datetime) -> bool:
    """Revoke one of the company's keys at once; False when it has no such unrevoked key."""
    result = db.execute(
        update(api_keys)
        .where(
            api_keys.c.id == key_id,
            api_keys.c.company_id == company_id,
            api_keys.c.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    return bool(result.rowcount)


def list_companies(db: Connection) -> list[dict[str, Any]]:
    """Return every company's id, name and creation time: for the operator's CLI only."""
    query = select(companies.c.id, companies.c.name, companies.c.created_at).order_by(
        companies.c.created_at, companies.c.id
    )
    return [dict(row._mapping) for row in db.execute(query)]


def authenticate(db: Connection, raw: str) -> Principal | None:
    """Return who owns an API key, or None when it is unknown or revoked."""
    row = db.execute(
        select(api_keys.c.id, api_keys.c.company_id)
        .where(api_keys.c.key_hash == hash_key(raw), api_keys.c.revoked_at.is_(None))
        .execution_options(tenant_entry="the key's hash finds its company")
    ).first()
    return Principal(company_id=row.company_id, key_id=row.id) if row else None


def is_agent_token(db: Connection, raw: str) -> bool:
    """Tell whether ``raw`` is an unrevoked agent token (to refuse it where a key is needed)."""
    if not raw.startswith(AGENT_TOKEN_PREFIX):
        return False
    row = db.execute(
        select(agent_tokens.c.id)
        .where(agent_tokens.c.token_hash == hash_key(raw), agent_tokens.c.revoked_at.is_(None))
        .execution_options(tenant_entry="the token's hash finds its agent")
    ).first()
    return row is not None


def count_companies(db: Connection) -> int:
    """Count the companies (zero means a fresh install)."""
    return len(db.execute(select(companies.c.id).limit(1)).all())


def _company(row: Any) -> Company:
    return Company(
        id=row.id,
        name=row.name,
        own_numbers=row.own_numbers,
        created_at=row.created_at,
        language=row.language,
        time_zone=row.time_zone,
    )


def get_company(db: Connection, company_id: str) -> Company | None:
    """Return a company, None when there is no such company."""
    row = select_where(db, companies, {"id": company_id}).first()
    return None if row is None else _company(row)


def signed_in_company(db: Connection, company_id: str, key_id: str) -> Company | None:
    """Return the company of a live admin key in one query; None once the key is revoked."""
    query = (
        select(companies)
        .join(api_keys, api_keys.c.company_id == companies.c.id)
        .where(
            companies.c.id == company_id,
            api_keys.c.company_id == company_id,
            api_keys.c.id == key_id,
            api_keys.c.revoked_at.is_(None),
        )
    )
    row = db.execute(query).first()
    return None if row is None else _company(row)


def get_company_screens(db: Connection, company_id: str) -> tuple[str | None, str]:
    """Return the company's language (None when it set none) and time zone, for its screens."""
    query = select(companies.c.language, companies.c.time_zone).where(companies.c.id == company_id)
    row = db.execute(query).first()
    return (None, "UTC") if row is None else (row.language, row.time_zone)


def change_company(db: Connection, company_id: str, values: dict[str, Any]) -> None:
    """Change the given columns (name, own numbers, language: None sets none, time zone)."""
    db.execute(update(companies).where(companies.c.id == company_id).values(values))


def get_row(db: Connection, table: Any, company_id: str, row_id: str) -> dict[str, Any] | None:
    """Return one row of a company-scoped table by id, None when the company has no such row."""
    query = select(table).where(table.c.company_id == company_id, table.c.id == row_id)
    row = db.execute(query).first()
    return dict(row._mapping) if row else None


def change_row(
    db: Connection, table: Any, company_id: str, row_id: str, values: dict[str, Any]
) -> bool:
    """Change the given columns of one company-scoped row; False when there is no such row."""
    if not values:
        return get_row(db, table, company_id, row_id) is not None
    result = db.execute(
        update(table).where(table.c.company_id == company_id, table.c.id == row_id).values(values)
    )
    return bool(result.rowcount)


def list_rows(db: Connection, table: Any, company_id: str) -> list[dict[str, Any]]:
    """Return every row of a company-scoped table for ``company_id``."""
    rows = db.execute(select(table).where(table.c.company_id == company_id))
    return [dict(row._mapping) for row in rows]


def create_source(
    db: Connection, company_id: str, provider: str, name: str, sealed: bytes, now: datetime
) -> str:
    """Create a telephony source with its sealed secrets and return its id."""
    source_id = str(uuid.uuid4())
    db.execute(
        insert(telephony_sources).values(
            id=source_id,
            company_id=company_id,
            provider=provider,
            name=name,
            secrets_encrypted=sealed,
            created_at=now,
        )
    )
    return source_id


def get_source(
    db: Connection, source_id: str, company_id: str | None = None
) -> dict[str, Any] | None:
    """Return a telephony source row; scoped by company when ``company_id`` is given.

    Without it (a webhook delivery: the URL names the source, whose secret then verifies the
    signature) the source finds its company.
    """
    query = select(telephony_sources).where(telephony_sources.c.id == source_id)
    if company_id is not None:
        query = query.where(telephony_sources.c.company_id == company_id)
    else:
        query = query.execution_options(tenant_entry="a webhook's source finds its company")
    row = db.execute(query).first()
    return dict(row._mapping) if row else None
