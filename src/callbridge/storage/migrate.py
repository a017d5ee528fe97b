"""Apply Alembic migrations programmatically (``callbridge db upgrade`` and ``serve`` on start)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

from callbridge.storage.engine import create_private_file

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    """Return an Alembic config pointing at our migrations and ``url``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` up to ``revision``."""
    create_private_file(url)  # before Alembic's engine creates it with the umask's permissions
    # Alembic's env.py drives its own event loop; keep it off ours.
    await asyncio.to_thread(command.upgrade, alembic_config(url), revision)
