"""A call activity: what is written on a CRM record for one call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ActivityDraft:
    """The call as logged on a CRM record (and its deal); ``external_id`` makes it idempotent."""

    external_id: str
    record_id: str
    direction: str
    status: str
    subject: str
    started_at: datetime | None
    duration: int | None
    agent: str | None
    recording_url: str | None
    notes: str | None
    tags: tuple[str, ...]
    disposition: str | None
    deal_id: str | None = None
    agent_crm_id: str | None = None  # the agent's user in this CRM, when the employee is mapped
