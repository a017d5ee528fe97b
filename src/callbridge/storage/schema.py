"""Import every table module so the shared metadata knows the whole schema (for Alembic)."""

from __future__ import annotations

from callbridge.connectors.hubspot import tables as hubspot_tables  # noqa: F401
from callbridge.connectors.local import tables as local_tables
from callbridge.queue import breaker_table, sqlite_table
from callbridge.storage import tables
from callbridge.storage.metadata import metadata

__all__ = ["breaker_table", "local_tables", "metadata", "sqlite_table", "tables"]
