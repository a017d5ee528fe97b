"""The automatic rule that picks the record a call is logged on when several match.

See docs/behaviour.md#multi-crm-contact-selection.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from callbridge.domain.record import CrmRecord, ObjectType
from callbridge.rules.match_reason import AUTOMATIC_RULE, MatchReason, Why

__all__ = ["AUTOMATIC_RULE", "TYPE_PRIORITY", "Selection", "pick"]

TYPE_PRIORITY = (
    ObjectType.CONTACT,
    ObjectType.LEAD,
    ObjectType.ACCOUNT,
    ObjectType.CANDIDATE,
    ObjectType.DEAL,
)
_OLDEST = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Selection:
    """The record(s) a call is logged on, and the rule that chose them."""

    records: tuple[CrmRecord, ...]
    reason: MatchReason

    @property
    def rule(self) -> str:
        """Return the rule in English, as the API says it."""
        return self.reason.text


def pick(candidates: Sequence[CrmRecord], crm_record_id: str | None = None) -> Selection:
    """Choose the record(s) for a call: the click-to-dial record, else the automatic rule."""
    if crm_record_id is not None:
        chosen = [record for record in candidates if record.id == crm_record_id]
        if chosen:
            return Selection(tuple(chosen), MatchReason(Why.CLICK_TO_DIAL))
    if not candidates:
        return Selection((), MatchReason(Why.NO_MATCH))
    best = min(candidates, key=_rank)
    if len(candidates) == 1:
        return Selection((best,), MatchReason(Why.ONLY_MATCH))
    return Selection((best,), MatchReason(Why.AUTOMATIC))


def _rank(record: CrmRecord) -> tuple[int, float, str]:
    updated = record.updated_at or _OLDEST
    if updated.tzinfo is None:
        updated = updated.replace(tzinfo=UTC)
    return (TYPE_PRIORITY.index(record.object_type), -updated.timestamp(), record.id)
