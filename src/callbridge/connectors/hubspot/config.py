"""Settings and credentials of a HubSpot integration."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from callbridge.connectors.egress import check_base_url


class HubSpotConfig(BaseModel):
    """Per-integration settings; the limits default below HubSpot's Free/Starter plan limits."""

    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(
        default="https://api.hubapi.com",
        description="The API root; https and a public address unless the operator allowed the host",
    )
    requests_per_10s: int = Field(
        default=90, ge=5, description="Most requests in any 10 s window (HubSpot: 100 to 250)"
    )
    searches_per_second: int = Field(
        default=4, ge=2, description="Most search requests in any rolling second (HubSpot: 5)"
    )
    create_custom_properties: bool = Field(
        default=False,
        description="Consent to create Callbridge's custom properties (external id, UTM) "
        "in the HubSpot account when they are missing",
    )
    deal_pipeline: str = "default"
    deal_stage: str = "appointmentscheduled"
    company_search: Literal["always", "when_no_contact", "never"] = Field(
        default="when_no_contact",
        description="When to also search companies by phone: on every lookup (one more search "
        "request), only when no contact has the number, or never",
    )
    account_timezone: str = Field(
        default="UTC",
        description="Time zone of the HubSpot account; its daily limit resets at midnight there",
    )
    cache_seconds: float = Field(default=300, ge=0, description="Phone lookup cache lifetime")
    search_settle_seconds: float = Field(
        default=60,
        ge=0,
        description="Only where the unique callbridge_key property cannot be used: how long "
        "after a create whose answer was lost HubSpot's search is believed when it shows nothing",
    )

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        return check_base_url(value)

    @model_validator(mode="before")
    @classmethod
    def _read_search_companies(cls, data: Any) -> Any:
        """Read settings saved before ``company_search`` (``search_companies: true/false``)."""
        if isinstance(data, dict) and "search_companies" in data:
            data = dict(data)
            data.setdefault("company_search", "always" if data["search_companies"] else "never")
            del data["search_companies"]
        return data


class HubSpotCredentials(BaseModel):
    """A private app token alone, or an OAuth token with what refreshes it."""

    model_config = ConfigDict(extra="forbid")

    access_token: SecretStr
    refresh_token: SecretStr | None = None
    expires_at: datetime | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None

    @property
    def is_oauth(self) -> bool:
        """Return whether the token is refreshed through OAuth."""
        return self.refresh_token is not None
