"""Settings of a local CRM integration (it needs no credentials)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class LocalConfig(BaseModel):
    """The local CRM has nothing to configure beyond the integration's common settings."""

    model_config = ConfigDict(extra="forbid")
