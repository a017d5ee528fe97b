"""Migration 0007: JSON stored before the ingest limits, with lone surrogates, reads back clean.

Before 0007 a lone surrogate sent in ``agent.name`` or a tag reached the JSON columns of both
databases, and every later read of the row failed. The migration rewrites such strings with
U+FFFD and leaves every other value (emoji pairs included) exactly as it was.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import command
from hypothesis import given, settings
from hypothesis import strategies as st

from callbridge.runtime.schema import alembic_config, upgrade
from callbridge.storage.engine import create_engine
from callbridge.storage.types import UTCDateTime

NOW = datetime(2026, 1, 1, tzinfo=UTC)
_SURROGATE = re.compile("[\ud800-\udfff]")

companies = sa.table(
    "companies",
    sa.column("id"),
    sa.column("name"),
    sa.column("own_numbers", sa.JSON),
    sa.column("created_at", UTCDateTime()),
)
sources = sa.table(
    "telephony_sources",
    sa.column("id"),
    sa.column("company_id"),
    sa.column("provider"),
    sa.column("name"),
    sa.column("secrets_encrypted", sa.LargeBinary),
    sa.column("created_at", UTCDateTime()),
)
calls = sa.table(
    "calls",
    *(sa.column(name) for name in ("id", "company_id", "source_id", "provider_call_id", "state")),
    sa.column("agent", sa.JSON),
    sa.column("tags", sa.JSON),
    sa.column("event_count", sa.Integer),
    sa.column("created_at", UTCDateTime()),
    sa.column("updated_at", UTCDateTime()),
)

_TEXT = st.text(
    st.one_of(
        st.characters(),
        st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, categories=["Cs"]),
        st.sampled_from(["😀", "\u202e", "é"]),
    ),
    max_size=12,
)
_LONE = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, categories=["Cs"])
_BROKEN = st.builds(lambda head, lone, tail: head + lone + tail, _TEXT, _LONE, _TEXT)
_STORED = st.fixed_dictionaries(
    {"agent": st.dictionaries(st.just("name"), _TEXT), "tags": st.lists(_TEXT, max_size=3)}
)
# Every example holds a row broken in its agent name, one in a tag, and one with an emoji
# (stored as an escaped surrogate pair, which must come back unchanged), among any others.
_ROWS = st.builds(
    lambda name, tag, others: [
        {"agent": {"name": name}, "tags": []},
        {"agent": {}, "tags": ["ok", tag]},
        {"agent": {"name": "😀 Zoë"}, "tags": ["👩\u200d💻"]},
        *others,
    ],
    _BROKEN,
    _BROKEN,
    st.lists(_STORED, max_size=5),
)


def _clean(value: Any) -> Any:
    """What the docs promise: every lone surrogate becomes U+FFFD, nothing else changes."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_clean(item) for item in value]
    return {key: _clean(item) for key, item in value.items()}


async def _store_at_0006(url: str, rows: list[dict[str, Any]]) -> tuple[str, str]:
    """Write a company, a source and one call per row, as ingest did before 0007."""
    engine = create_engine(url)
    company, source = str(uuid.uuid4()), str(uuid.uuid4())
    try:
        async with engine.begin() as conn:
            await conn.execute(
                companies.insert(),
                {"id": company, "name": "Old", "own_numbers": [], "created_at": NOW},
            )
            await conn.execute(
                sources.insert(),
                {
                    "id": source,
                    "company_id": company,
                    "provider": "generic",
                    "name": "g",
                    "secrets_encrypted": b"x",
                    "created_at": NOW,
                },
            )
            await conn.execute(
                calls.insert(),
                [
                    {
                        "id": str(uuid.uuid4()),
                        "company_id": company,
                        "source_id": source,
                        "provider_call_id": f"c{index}",
                        "state": "ended",
                        "event_count": 1,
                        "created_at": NOW,
                        "updated_at": NOW,
                        **row,
                    }
                    for index, row in enumerate(rows)
                ],
            )
    finally:
        await engine.dispose()
    return company, source


async def _read_back(url: str, company: str, source: str) -> list[dict[str, Any]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            query = (
                sa.select(calls.c.agent, calls.c.tags)
                .where(calls.c.company_id == company, calls.c.source_id == source)
                .order_by(calls.c.provider_call_id)
            )
            return [dict(row._mapping) for row in await conn.execute(query)]
    finally:
        await engine.dispose()


@settings(max_examples=4)
@given(rows=_ROWS)
async def test_lone_surrogates_in_stored_json_become_replacement_characters(
    database_url: str, rows: list[dict[str, Any]]
) -> None:
    await upgrade(database_url, "0006")
    company, source = await _store_at_0006(database_url, rows)
    await upgrade(database_url, "0007")
    stored = await _read_back(database_url, company, source)
    assert stored == [_clean(row) for row in rows]
    await asyncio.to_thread(command.downgrade, alembic_config(database_url), "0006")
