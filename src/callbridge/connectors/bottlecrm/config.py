"""Settings and credentials of a BottleCRM integration."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from callbridge.connectors.egress import check_base_url


class BottleCrmConfig(BaseModel):
    """Where the BottleCRM server is, and who owns what Callbridge creates there."""

    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(
        description="The server's root, e.g. https://crm.example.com; https and a public "
        "address unless the operator allowed the host"
    )
    default_owner: str | None = Field(
        default=None,
        description="Profile id assigned to created contacts, deals and tasks without an owner",
    )
    pipeline: str | None = Field(
        default=None, description="Pipeline id of created deals; the org's default when unset"
    )
    search_leads: bool = Field(default=True, description="Also match callers against leads")

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        return check_base_url(value)


class BottleCrmCredentials(BaseModel):
    """A personal access token (``bcrm_pat_…``); it acts as its profile in its org."""

    model_config = ConfigDict(extra="ignore")

    token: SecretStr

    @classmethod
    def from_mapping(cls, credentials: Mapping[str, str]) -> BottleCrmCredentials:
        """Read the credentials stored for an integration."""
        return cls.model_validate(dict(credentials))
