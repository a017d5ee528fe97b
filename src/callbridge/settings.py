"""The one settings object of the process, read from ``CALLBRIDGE_*`` environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Process settings; per-integration settings live in the database instead."""

    model_config = SettingsConfigDict(env_prefix="CALLBRIDGE_", env_file=None)

    data_dir: Path = Field(default=Path("data"), description="Where the SQLite file and key live.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; unset means SQLite in data_dir."
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Comma-separated Fernet keys, newest first; generated in data_dir when unset.",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = Field(default=None, description="URL printed for people to open.")
    embedded_worker: bool = Field(
        default=True,
        description="Run the job worker inside `serve`; off, `callbridge worker` runs the jobs.",
    )
    worker_concurrency: int = 4
    worker_metrics_port: int | None = Field(
        default=None,
        description="`callbridge worker` serves its /metrics on this port (docs/operations.md).",
    )
    max_body_bytes: int = 1024 * 1024
    log_level: str = "info"
    access_log: bool = Field(
        default=False,
        description="Log every HTTP request. Off: only refused requests are logged, with why "
        "(at 150 webhooks/s the access log cost more CPU than storing them).",
    )

    allowed_private_hosts: str = Field(
        default="",
        description="Comma-separated host names, addresses or networks (CIDR) a connector's "
        "base_url may reach although they are not public (loopback, private, link-local), http "
        "included: for self-hosted CRMs and tests. Empty: public https targets only.",
    )

    def resolved_database_url(self) -> str:
        """Return the async SQLAlchemy URL to use, defaulting to SQLite in the data directory."""
        if self.database_url is None:
            return f"sqlite+aiosqlite:///{(self.data_dir / 'callbridge.db').resolve()}"
        url = self.database_url
        for prefix in ("postgresql://", "postgres://", "postgresql+psycopg2://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        if url.startswith("sqlite:///"):
            return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
        return url

    @property
    def is_postgres(self) -> bool:
        """Tell whether the database is PostgreSQL (and so the queue is Procrastinate)."""
        return self.resolved_database_url().startswith("postgresql")
