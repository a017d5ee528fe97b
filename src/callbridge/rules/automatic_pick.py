"""The automatic rule that picks the record a call is logged on when several match.

See docs/behaviour.md#multi-crm-contact-selection.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from callbridge.domain.record import CrmRecord, ObjectType

TYPE_PRIORITY = (
    ObjectType.CONTACT,
    ObjectType.LEAD,
    ObjectType.ACCOUNT,
    ObjectType.CANDIDATE,
    ObjectType.DEAL,
)
_OLDEST = datetime.min.replace(tzinfo=UTC)

AUTOMATIC_RULE = (
    "automatic: object type priority (contact > lead > account > candidate > deal), "
    "then most recently updated"
)


@dataclass(frozen=True)
class Selection:
    """The record(s) a call is logged on, and the rule that chose them."""

    records: tuple[CrmRecord, ...]
    rule: str


def pick(candidates: Sequence[CrmRecord], crm_record_id: str | None = None) -> Selection:
    """Choose the record(s) for a call: the click-to-dial record, else the automatic rule."""
    if crm_record_id is not None:
        chosen = [record for record in candidates if record.id == crm_record_id]
        if chosen:
            return Selection(tuple(chosen), "click-to-dial: the record the call was placed from")
    if not candidates:
        return Selection((), "no record matches the number")
    best = min(candidates, key=_rank)
    if len(candidates) == 1:
        return Selection((best,), "the only record matching the number")
    return Selection((best,), AUTOMATIC_RULE)


def _rank(record: CrmRecord) -> tuple[int, float, str]:
    updated = record.updated_at or _OLDEST
    if updated.tzinfo is None:
        updated = updated.replace(tzinfo=UTC)
    return (TYPE_PRIORITY.index(record.object_type), -updated.timestamp(), record.id)
