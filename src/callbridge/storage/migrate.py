"""Apply Alembic migrations programmatically: the core's revisions and those it is handed.

The core's revisions live in ``migrations/versions/``; a connector's in a folder of its own,
which storage never looks for (it imports no connector): the caller hands every folder to search,
as ``callbridge.runtime.schema`` does with those the connector registry declares.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from callbridge.storage.engine import create_private_file

if TYPE_CHECKING:  # Alembic is imported by what migrates, not by every process that stores
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
#: The core's own revisions (tables of storage and the queues, and the oldest connector tables).
CORE_VERSIONS = MIGRATIONS / "versions"


def _escaped(value: str) -> str:
    return value.replace("%", "%%")  # Alembic's options are interpolated like ConfigParser's


def alembic_config(url: str, *, version_locations: Iterable[Path]) -> Config:
    """Return an Alembic config for ``url`` searching the core's and the given revision folders."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", _escaped(str(MIGRATIONS)))
    config.set_main_option("path_separator", "os")
    folders = [CORE_VERSIONS, *version_locations]
    config.set_main_option("version_locations", _escaped(os.pathsep.join(map(str, folders))))
    config.set_main_option("sqlalchemy.url", _escaped(url))
    return config


async def upgrade(url: str, revision: str, *, version_locations: Iterable[Path]) -> None:
    """Bring the database at ``url`` up to ``revision`` (``"heads"``: every branch's head)."""
    from alembic import command

    create_private_file(url)  # before Alembic's engine creates it with the umask's permissions
    config = alembic_config(url, version_locations=version_locations)
    # Alembic's env.py drives its own event loop; keep it off ours.
    await asyncio.to_thread(command.upgrade, config, revision)
