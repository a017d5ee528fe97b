"""Telephony sources with their decrypted secrets, kept a few seconds for the ingest hot path."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callbridge.crypto import SecretBox
from callbridge.errors import SecretUnreadable
from callbridge.storage import accounts, sql

log = logging.getLogger(__name__)

TTL_SECONDS = 5.0
MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class Source:
    """A telephony source as ingest needs it."""

    id: str
    company_id: str
    provider: str
    secrets: tuple[str, ...]


@dataclass
class SourceCache:
    """Source lookups for webhooks: one query and one decryption per source every few seconds.

    A rotated secret reaches other processes within ``TTL_SECONDS``; this process forgets at once.
    """

    clock: Callable[[], float] = time.monotonic
    _entries: dict[str, tuple[float, Source | None]] = field(default_factory=dict)
    #: Sources whose secret could not be decrypted, logged once each (not again every delivery).
    _unreadable: set[str] = field(default_factory=set)

    async def get(
        self, reads: async_sessionmaker[AsyncSession], box: SecretBox, source_id: str
    ) -> Source | None:
        """Return the source, from the cache when fresh.

        Raise ``SecretUnreadable`` when its secret was sealed with a key the box lacks.
        """
        now = self.clock()
        cached = self._entries.get(source_id)
        if cached is not None and now - cached[0] < TTL_SECONDS:
            return cached[1]
        async with reads() as session:
            row = await sql.run(session, accounts.get_source, source_id)
        source = self._opened(row, box) if row else None
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[source_id] = (now, source)
        return source

    def forget(self, source_id: str) -> None:
        """Drop a source after its secrets changed."""
        self._entries.pop(source_id, None)
        self._unreadable.discard(source_id)

    def _opened(self, row: dict[str, Any], box: SecretBox) -> Source:
        try:
            return _source(row, box)
        except ValueError as err:
            if row["id"] not in self._unreadable and len(self._unreadable) < MAX_ENTRIES:
                self._unreadable.add(row["id"])
                log.error(
                    "source %s: %s; its webhooks are answered 503 until the operator restores "
                    "that key in CALLBRIDGE_SECRET_KEY or rotates the source's secret",
                    row["id"],
                    err,
                )
            raise SecretUnreadable(row["id"]) from err


def _source(row: dict[str, Any], box: SecretBox) -> Source:
    secrets = box.open(row["secrets_encrypted"])
    assert isinstance(secrets, list)
    return Source(row["id"], row["company_id"], row["provider"], tuple(secrets))
