"""The dialer's bodies and answers: choices sent, candidates and confirmations answered."""

from __future__ import annotations

from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from callbridge.api.models import ChoiceShown
from callbridge.web.fields import Id, Phone, Reference

#: One Server-Sent Event as the stream sends it: its type and its JSON data.
SSE_EVENT = {
    "type": "object",
    "properties": {"event": {"type": "string"}, "data": {"type": "string"}},
}


class EventStream(StreamingResponse):
    """A stream of Server-Sent Events (documented as such, not as JSON)."""

    media_type = "text/event-stream"


class ChoiceIn(BaseModel):
    """One record picked in the dialer."""

    integration_id: Id
    record_id: Reference


class SelectionIn(BaseModel):
    """The record(s) the call is to be logged on: at most one per object type."""

    choices: list[ChoiceIn] = Field(min_length=1, max_length=10)


class IntentIn(BaseModel):
    """A choice made before dialling, bound to the agent's next call to ``number``."""

    number: Phone
    choices: list[ChoiceIn] = Field(default_factory=list, max_length=10)
    crm_record_id: Reference | None = Field(
        default=None, description="Click-to-dial from a CRM page: that record."
    )
    integration_id: Id | None = Field(default=None, description="The CRM of crm_record_id.")
    provider_call_id: Reference | None = Field(
        default=None, description="The telephony call id, when known."
    )
    window_seconds: int = Field(default=120, ge=1, le=3600)
    user_id: Id | None = Field(default=None, description="Admins only: the agent dialling.")


class Candidate(BaseModel):
    """A record matching the number, in one integration."""

    integration_id: str
    record_id: str
    object_type: str
    name: str
    owner: str | None
    updated_at: str | None = Field(description="When the CRM last changed it (ISO 8601)")


class Candidates(BaseModel):
    """Every record matching a number, grouped by object type (automatic rule's order)."""

    number: str = Field(description="The number in E.164")
    count: int
    groups: dict[str, list[Candidate]] = Field(description="By object type: contact, lead, …")


class CallCandidates(BaseModel):
    """The records matching a call's number, and the records chosen for it so far."""

    call_id: str
    state: str
    count: int
    groups: dict[str, list[Candidate]] = Field(description="By object type: contact, lead, …")
    chosen: list[ChoiceShown] = Field(description="The choices in force, one per integration")


class Confirmed(BaseModel):
    """A record the call will be logged on."""

    integration_id: str
    record_id: str
    object_type: str
    name: str
    check: bool = Field(description="Always true: the dialer ticks it")


class IntentMade(BaseModel):
    """A choice made before dialling, and the call it binds to."""

    id: str
    number: str = Field(description="The number in E.164")
    how: str = Field(description="pre-call or click-to-dial")
    binds_to: str = Field(description="Which call the choice applies to")
    confirmed: list[Confirmed]


class SelectionMade(BaseModel):
    """A choice made for a call, and when it applies."""

    call_id: str
    confirmed: list[Confirmed]
    applies: str = Field(description="now (the call is synced again) or at the end of the call")
