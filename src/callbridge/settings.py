"""The one settings object of the process, read from ``CALLBRIDGE_*`` environment variables."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
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
    public_url: str | None = Field(
        default=None,
        description="The URL people and platforms reach Callbridge at (scheme, host, port, path "
        "prefix): printed for people to open, and the base of the webhook URL that Twilio signs "
        "(docs/telephony/twilio.md). Unset: the URL of each request, as received.",
    )
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses or networks (CIDR) of the reverse proxies whose "
        "X-Forwarded-Proto and X-Forwarded-Host are believed when public_url is unset (the URL "
        "a webhook was signed for). Empty: no proxy is trusted, those headers are ignored.",
    )
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

    retry_horizon_seconds: float = Field(
        default=86400.0,
        gt=0,
        description="How long a job that keeps failing for a transient reason (CRM down, "
        "timeouts) is retried, from its first failure, before it is dead-lettered.",
    )
    retry_base_seconds: float = Field(
        default=2.0, gt=0, description="First retry delay; it doubles with each failure."
    )
    retry_cap_seconds: float = Field(
        default=1800.0, gt=0, description="Longest delay between two retries of a job."
    )
    sync_timeout_seconds: float = Field(
        default=300.0,
        gt=0,
        description="Longest one run of a sync may take before it is stopped and retried with "
        "backoff: a CRM or a bug that never answers costs a retry, never a lost call.",
    )
    breaker_failures: int = Field(
        default=5,
        ge=1,
        description="Transient failures in a row that open an integration's circuit breaker.",
    )
    breaker_open_seconds: float = Field(
        default=30.0,
        gt=0,
        description="How long an open breaker waits before its first probe; doubled after "
        "each failed probe, up to breaker_max_open_seconds.",
    )
    breaker_max_open_seconds: float = Field(
        default=900.0, gt=0, description="Longest wait of an open breaker between two probes."
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        """Refuse, at start-up, an entry of trusted_proxies that is no address or network."""
        for item in filter(None, (part.strip() for part in value.split(","))):
            ipaddress.ip_network(item, strict=False)  # its ValueError names the entry
        return value

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
