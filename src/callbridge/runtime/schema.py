"""The whole database schema: every room's tables on one metadata (what Alembic compares).

Storage, the queues and the connectors each define their own tables on
:data:`callbridge.storage.metadata.metadata`; this module, above all three, imports them all so
that the metadata is complete. Storage itself never imports the queues or a connector.
"""

from __future__ import annotations

from callbridge.connectors.hubspot import tables as hubspot_tables
from callbridge.connectors.local import tables as local_tables
from callbridge.queue import breaker_table, sqlite_table
from callbridge.storage import tables
from callbridge.storage.metadata import metadata

__all__ = ["breaker_table", "hubspot_tables", "local_tables", "metadata", "sqlite_table", "tables"]
