"""Map local CRM rows to domain values and call activities to rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from callbridge.domain.activity import ActivityDraft
from callbridge.domain.record import CrmRecord, ObjectType


def record_from_row(row: Mapping[str, Any], phones: Sequence[str]) -> CrmRecord:
    """Build a CrmRecord from a ``crm_records`` row and its raw phone numbers."""
    return CrmRecord(
        id=row["id"],
        object_type=ObjectType(row["object_type"]),
        name=row["name"],
        phones=tuple(phones),
        owner=row["owner"],
        updated_at=row["updated_at"],
    )


def activity_values(activity: ActivityDraft, now: datetime) -> dict[str, Any]:
    """Return the ``crm_activities`` column values for ``activity`` (without ids and scope)."""
    return {
        "direction": activity.direction,
        "status": activity.status,
        "subject": activity.subject,
        "started_at": activity.started_at,
        "duration": activity.duration,
        "agent": activity.agent,
        "recording_url": activity.recording_url,
        "notes": activity.notes,
        "tags": list(activity.tags),
        "disposition": activity.disposition,
        "deal_id": activity.deal_id,
        "updated_at": now,
    }
