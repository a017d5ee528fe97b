"""The Procrastinate queue's connection pool: autocommit connections, checked only after idling."""

from __future__ import annotations

import time
import weakref
from typing import Any

import psycopg
import psycopg_pool
from sqlalchemy.engine import make_url

from callbridge.storage.engine import IDLE_PING_SECONDS


def libpq_url(database_url: str) -> str:
    """Turn a SQLAlchemy URL (``postgresql+psycopg://``) into a libpq one for psycopg_pool."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


# When each pooled connection was last handed out (see check_if_idle).
HANDED_OUT: weakref.WeakKeyDictionary[psycopg.AsyncConnection[Any], float] = (
    weakref.WeakKeyDictionary()
)


async def check_if_idle(conn: psycopg.AsyncConnection[Any]) -> None:
    """Check a pooled connection only if it sat unused: Procrastinate checks it on every use.

    A fetch or a finish would otherwise cost two round trips, the check and the query. A dead
    connection found here is replaced by the pool.
    """
    now = time.monotonic()
    last = HANDED_OUT.get(conn)
    HANDED_OUT[conn] = now
    if last is None or now - last >= IDLE_PING_SECONDS:
        await psycopg_pool.AsyncConnectionPool.check_connection(conn)


async def autocommit(conn: psycopg.AsyncConnection[Any]) -> None:
    """Put a new pooled connection in autocommit mode.

    Each of Procrastinate's queries is one statement (a function call): autocommit spares a
    BEGIN and a COMMIT round trip around every fetch and finish.
    """
    await conn.set_autocommit(True)


def pool_checking_idle_connections(**kwargs: Any) -> psycopg_pool.AsyncConnectionPool[Any]:
    """Build Procrastinate's pool: autocommit connections, checked only after idling."""
    return psycopg_pool.AsyncConnectionPool(
        **{**kwargs, "check": check_if_idle, "configure": autocommit}
    )
