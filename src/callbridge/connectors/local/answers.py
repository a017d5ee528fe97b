"""What the local CRM's routes answer: records, their activities, and deals, tasks and notes.

The row answers (:class:`ActivityShown`, :class:`DealRow`, :class:`TaskRow`, :class:`NoteRow`)
declare every column of their table in its order (tests/connectors/local/test_local_answers.py
keeps them in step), so a column added to a table shows up in the API, not silently dropped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from callbridge.domain.record import CrmRecord, ObjectType


class RecordShown(BaseModel):
    """A local CRM record: its phones as typed, most recently changed ``updated_at``."""

    id: str
    object_type: ObjectType
    name: str
    phones: list[str]
    owner: str | None
    updated_at: datetime | None

    @classmethod
    def of(cls, record: CrmRecord) -> RecordShown:
        """Return the answer showing ``record``."""
        return cls(
            id=record.id,
            object_type=record.object_type,
            name=record.name,
            phones=list(record.phones),
            owner=record.owner,
            updated_at=record.updated_at,
        )


class RecordPage(BaseModel):
    """A page of records, most recently updated first, with the number of records in all."""

    total: int
    records: list[RecordShown]


class SearchAnswer(BaseModel):
    """The records matching a number, with the number's E.164 form they were searched by."""

    e164: str
    records: list[RecordShown]


class ActivityShown(BaseModel):
    """A call activity logged on a record (a row of ``crm_activities``)."""

    id: str
    company_id: str
    integration_id: str
    record_id: str
    external_id: str = Field(description="The call's id in Callbridge's writes (one per call)")
    deal_id: str | None
    direction: str
    status: str
    subject: str
    started_at: datetime | None
    duration: int | None = Field(description="Seconds")
    agent: str | None
    recording_url: str | None
    notes: str | None
    tags: list[Any]
    disposition: str | None
    created_at: datetime
    updated_at: datetime


class RecordWithActivities(RecordShown):
    """A record with its call activities, oldest first."""

    activities: list[ActivityShown]


class DealMade(BaseModel):
    """A deal created by hand."""

    id: str
    name: str
    owner: str | None
    stage: str


class DealRow(BaseModel):
    """A deal of the local CRM (a row of ``crm_deals``)."""

    id: str
    company_id: str
    integration_id: str
    record_id: str | None
    name: str
    stage: str
    owner: str | None
    utm: dict[str, Any] | None = Field(description="The call's UTM tags, for a deal of a call")
    external_id: str | None
    created_at: datetime
    updated_at: datetime


class TaskRow(BaseModel):
    """A task of the local CRM (a row of ``crm_tasks``)."""

    id: str
    company_id: str
    integration_id: str
    record_id: str | None
    deal_id: str | None
    title: str
    assignee: str | None
    due_at: datetime | None
    external_id: str | None
    created_at: datetime


class NoteRow(BaseModel):
    """A note of the local CRM (a row of ``crm_notes``)."""

    id: str
    company_id: str
    integration_id: str
    record_id: str | None
    deal_id: str | None
    body: str
    external_id: str | None
    created_at: datetime
