"""The automatic rule: object-type priority, then most recently updated; click-to-dial wins."""

from __future__ import annotations

from datetime import UTC, datetime

from callbridge.domain.record import CrmRecord, ObjectType
from callbridge.rules.automatic_pick import AUTOMATIC_RULE, pick


def rec(record_id: str, kind: ObjectType, day: int) -> CrmRecord:
    """Build a record updated on November ``day``."""
    return CrmRecord(record_id, kind, record_id, updated_at=datetime(2026, 11, day, tzinfo=UTC))


def test_no_candidates() -> None:
    assert pick([]).records == ()


def test_single_candidate() -> None:
    only = rec("a", ObjectType.LEAD, 1)
    assert pick([only]).records == (only,)


def test_contact_beats_a_more_recent_lead() -> None:
    contact, lead = rec("c", ObjectType.CONTACT, 1), rec("l", ObjectType.LEAD, 20)
    selection = pick([lead, contact])
    assert selection.records == (contact,)
    assert selection.rule == AUTOMATIC_RULE


def test_most_recently_updated_among_the_same_type() -> None:
    old, new = rec("old", ObjectType.CONTACT, 1), rec("new", ObjectType.CONTACT, 9)
    assert pick([old, new]).records == (new,)


def test_click_to_dial_record_wins() -> None:
    contact, lead = rec("c", ObjectType.CONTACT, 1), rec("l", ObjectType.LEAD, 2)
    selection = pick([contact, lead], crm_record_id="l")
    assert selection.records == (lead,)
    assert selection.rule.startswith("click-to-dial")
