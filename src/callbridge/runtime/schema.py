"""The whole database schema: every room's tables on one metadata, every room's migrations.

Storage, the queues and the connectors each define their own tables on
:data:`callbridge.storage.metadata.metadata`; this module, above all three, imports them all (each
connector's through the spec the registry finds) so that the metadata is complete, and hands
Alembic the core's revisions with every registered connector's migration folder. Storage itself
never imports the queues or a connector.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from callbridge.connectors.registry import specs
from callbridge.queue import breaker_table, sqlite_table
from callbridge.storage import migrate, tables
from callbridge.storage.metadata import metadata

if TYPE_CHECKING:
    from alembic.config import Config

#: Each registered connector's tables module by registry key (importing it added its tables).
connector_tables: dict[str, ModuleType] = {
    key: spec.tables for key, spec in specs().items() if spec.tables is not None
}

__all__ = [
    "alembic_config",
    "breaker_table",
    "connector_tables",
    "metadata",
    "migration_folders",
    "sqlite_table",
    "tables",
    "upgrade",
]


def migration_folders() -> list[Path]:
    """Return the migration folder of every registered connector that has one, by registry key."""
    found = specs()
    return [folder for key in sorted(found) if (folder := found[key].migrations) is not None]


def alembic_config(url: str) -> Config:
    """Return the Alembic config of ``url`` with the core's and every connector's revisions."""
    return migrate.alembic_config(url, version_locations=migration_folders())


async def upgrade(url: str, revision: str = "heads") -> None:
    """Bring the database at ``url`` up to ``revision`` (by default every branch's head)."""
    await migrate.upgrade(url, revision, version_locations=migration_folders())
