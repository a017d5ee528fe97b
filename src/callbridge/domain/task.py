"""Follow-ups written for a call: a task for someone to do, or a note on a record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class TaskDraft:
    """A task to create; creating it twice with one ``external_id`` gives one task."""

    external_id: str
    title: str
    body: str
    record_id: str
    deal_id: str | None = None
    assignee: str | None = None
    due_at: datetime | None = None


@dataclass(frozen=True)
class NoteDraft:
    """A note to add on a record (and its deal); idempotent on ``external_id``."""

    external_id: str
    body: str
    record_id: str
    deal_id: str | None = None
