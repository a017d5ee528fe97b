"""columns sized for every value a webhook may carry; lone surrogates cleaned from stored JSON

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 15:00:00

Ingest now enforces the limits of ``callbridge.telephony.limits`` before it answers 2xx: ids of
up to 255 characters (the generic schema always documented 255; the columns held 200), agent
labels of up to 320 (an e-mail address), task titles and deal names rendered from templates of
any length. PostgreSQL enforces ``VARCHAR(n)``, so its columns are widened here. SQLite does not
(every ``VARCHAR(n)`` has TEXT affinity and holds any length), and rebuilding its tables with
``batch_alter_table`` would have to drop tables other rows point to while ``foreign_keys`` is on:
on SQLite the column sizes change only in the Table definitions, which is what new databases
are created from.

Before this revision a lone surrogate (``"\\ud800"``, valid JSON) reached the JSON columns of
both databases, and every read of the row then failed (``GET /calls`` answered 500 for the whole
company). Such strings are rewritten with U+FFFD, as ingest now does.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# (table, column, old type, new type) for PostgreSQL.
_WIDENED: list[tuple[str, str, sa.types.TypeEngine[Any], sa.types.TypeEngine[Any]]] = [
    ("webhook_deliveries", "delivery_id", sa.String(200), sa.String(255)),
    ("call_events", "event_id", sa.String(200), sa.String(255)),
    ("call_events", "provider_call_id", sa.String(200), sa.String(255)),
    ("calls", "provider_call_id", sa.String(200), sa.String(255)),
    ("calls", "crm_record_id", sa.String(200), sa.String(255)),
    ("call_actions", "target", sa.String(200), sa.String(255)),
    ("call_actions", "result_id", sa.String(200), sa.String(255)),
    ("contact_claims", "record_id", sa.String(200), sa.String(255)),
    ("activity_links", "record_id", sa.String(200), sa.String(255)),
    ("activity_links", "activity_id", sa.String(200), sa.String(255)),
    ("dial_intents", "provider_call_id", sa.String(200), sa.String(255)),
    ("call_selections", "record_id", sa.String(200), sa.String(255)),
    ("crm_activities", "agent", sa.String(200), sa.String(320)),
    ("crm_deals", "name", sa.String(300), sa.Text()),
    ("crm_tasks", "title", sa.String(300), sa.Text()),
]

# (table, primary key, JSON column) that may hold text from a webhook.
_JSON_COLUMNS = [
    ("call_events", "id", "data"),
    ("calls", "id", "agent"),
    ("calls", "id", "tags"),
    ("calls", "id", "utm"),
    ("crm_activities", "id", "tags"),
    ("crm_deals", "id", "utm"),
]
_SURROGATE = re.compile("[\ud800-\udfff]")


def upgrade() -> None:
    """Widen PostgreSQL's columns; replace lone surrogates in stored JSON on both databases."""
    if op.get_bind().dialect.name == "postgresql":
        for table, column, old, new in _WIDENED:
            op.alter_column(table, column, type_=new, existing_type=old)
    for table, key, column in _JSON_COLUMNS:
        _clean_column(table, key, column)


def downgrade() -> None:
    """Narrow PostgreSQL's columns back (fails if longer values were stored meanwhile)."""
    if op.get_bind().dialect.name == "postgresql":
        for table, column, old, new in reversed(_WIDENED):
            op.alter_column(table, column, type_=old, existing_type=new)


def _clean_column(table: str, key: str, column: str) -> None:
    """Rewrite the rows of one JSON column whose text holds a surrogate escape."""
    bind = op.get_bind()
    rows = sa.table(table, sa.column(key), sa.column(column, sa.JSON))
    # Stored JSON escapes non-ASCII (json.dumps): a surrogate shows as \udXXX; emoji pairs match
    # too and come back unchanged, so only broken rows are written.
    text = sa.func.lower(sa.cast(rows.c[column], sa.Text))
    found = bind.execute(
        sa.select(rows.c[key], rows.c[column]).where(text.contains("\\ud", autoescape=True))
    )
    for row_key, value in found.all():
        fixed = _fixed(value)
        if fixed != value:
            bind.execute(rows.update().where(rows.c[key] == row_key).values({column: fixed}))


def _fixed(value: Any) -> Any:
    """Return ``value`` with every lone surrogate of its strings replaced by U+FFFD."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_fixed(item) for item in value]
    if isinstance(value, dict):
        return {_fixed(name): _fixed(item) for name, item in value.items()}
    return value
