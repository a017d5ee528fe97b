"""Answers more than one router returns: the shapes shared by the call history and the dialer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

#: A JSON object stored as given (a call's agent or UTM tags, a connector's config, ...).
JsonShown = dict[str, Any]


class ChoiceShown(BaseModel):
    """A record picked for a call, in one integration, and who picked it, when and how."""

    model_config = ConfigDict(from_attributes=True)

    call_id: str
    integration_id: str
    record_id: str
    object_type: str
    name: str
    how: str = Field(description="pre-call, click-to-dial or in-call")
    chosen_by: str | None = Field(description="The agent's user id (None: the API key)")
    chosen_at: datetime
    replaced_at: datetime | None = Field(description="When a later choice replaced this one")
    chosen_by_name: str | None
    current: bool = Field(description="This is the call's choice in force (not replaced)")
