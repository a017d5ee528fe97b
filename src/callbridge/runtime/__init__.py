"""The process's shared parts: settings, database, queue, secrets, HTTP client and clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from callbridge.connectors import egress, http_client
from callbridge.connectors.base import utc_now
from callbridge.crypto import SecretBox, load_keys
from callbridge.queue import build_queue
from callbridge.queue.base import JobQueue
from callbridge.queue.retry import RetryPolicy
from callbridge.settings import Settings
from callbridge.storage import units
from callbridge.storage.engine import create_engine, create_sessionmaker, read_sessionmaker
from callbridge.storage.source_cache import SourceCache


@dataclass
class Runtime:
    """Everything the pipeline and the API share in one process."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    reads: async_sessionmaker[AsyncSession]
    queue: JobQueue
    box: SecretBox
    http: httpx.AsyncClient
    work_engine: AsyncEngine | None = None
    clock: Callable[[], datetime] = field(default=utc_now)
    sources: SourceCache = field(default_factory=SourceCache)

    @classmethod
    def create(cls, settings: Settings) -> Runtime:
        """Build the runtime for ``settings`` (nothing is connected until first use)."""
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        url = settings.resolved_database_url()
        engine = create_engine(url)
        work_engine = create_engine(url, durable=False) if url.startswith("sqlite") else engine
        secret = settings.secret_key.get_secret_value() if settings.secret_key else None
        return cls(
            settings=settings,
            engine=engine,
            sessions=create_sessionmaker(engine),
            reads=read_sessionmaker(engine),
            queue=build_queue(url, work_engine, RetryPolicy.from_settings(settings)),
            work_engine=work_engine,
            box=SecretBox(load_keys(secret, settings.data_dir)),
            http=http_client.client(
                egress.EgressPolicy.parse(settings.allowed_private_hosts),
                httpx.Timeout(10.0, connect=5.0),
            ),
        )

    def for_worker(self) -> Runtime:
        """Return the runtime jobs run with: the worker's engine, the same queue and secrets."""
        if self.work_engine is None or self.work_engine is self.engine:
            return self
        return replace(
            self,
            engine=self.work_engine,
            sessions=create_sessionmaker(self.work_engine),
            reads=read_sessionmaker(self.work_engine),
        )

    async def close(self) -> None:
        """Release connections."""
        await self.http.aclose()
        units.dispose(self.engine)
        await self.engine.dispose()
        if self.work_engine is not None and self.work_engine is not self.engine:
            units.dispose(self.work_engine)
            await self.work_engine.dispose()
