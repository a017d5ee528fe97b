"""What the call history says about matching: the record found by number, and where the log went.

The record found automatically is the one the automatic rule picks among the records the number
matched (object type priority, then the most recently updated). The history keeps it even when
the log went elsewhere (an agent's choice, click-to-dial), so an admin sees both side by side.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from callbridge.domain.record import CrmRecord, ObjectType
from callbridge.rules.automatic_pick import pick
from callbridge.rules.match_reason import Why, loaded


class RecordSeen(BaseModel):
    """A CRM record as the call history names it."""

    id: str
    object_type: str
    name: str | None = None
    matched_reading: str | None = Field(
        default=None,
        description="The stored number that matched only when read as international digits "
        'whose "+" was dropped (it also reads as a national number of the region); None for a '
        "usual match",
    )


class MatchReasonShown(BaseModel):
    """Why the log went where it did, as a stable code and its parameters (for translation)."""

    code: str = Field(
        description="One of: " + ", ".join(why.value for why in Why) + " (docs/api.md)"
    )
    who: str | None = Field(default=None, description="The agent who chose, when one did")
    records: list[str] = Field(
        default_factory=list, description="The record ids given that the CRM does not have"
    )
    then: str | None = Field(
        default=None, description="What chose instead of them: no_match, only_match, automatic"
    )


def match_reason(stored: object) -> MatchReasonShown | None:
    """Return a sync's stored reason as answered; None before migration 0017 or if unknown."""
    reason = loaded(stored)
    return None if reason is None else MatchReasonShown.model_validate(reason.stored())


class CallMatch(BaseModel):
    """One integration's match of a call: found automatically by number, and logged on."""

    integration_id: str
    status: str = Field(description="Where the call's sync stands in this integration")
    automatic_match: RecordSeen | None = Field(
        description="The record found automatically by the number (the automatic rule's pick), "
        "kept even when the log went elsewhere"
    )
    logged_on: list[RecordSeen] = Field(description="The record(s) the call was logged on")
    why: str | None = Field(description="Why the log went there: the rule, choice or click")
    match_reason: MatchReasonShown | None = Field(
        default=None,
        description="The same reason as a code and its parameters (None for syncs stored "
        "before it was kept): what a client translates",
    )


def automatic_match(matched: Sequence[Mapping[str, Any]] | None) -> RecordSeen | None:
    """Return the record the automatic rule picks among those the number matched, if any."""
    records = [_record(found) for found in matched or ()]
    chosen = pick([r for r in records if r is not None]).records
    return _seen(chosen[0]) if chosen else None


def logged_on(
    links: Iterable[Mapping[str, Any]], matched: Sequence[Mapping[str, Any]] | None
) -> list[RecordSeen]:
    """Return the records the call's activities are on (named when the number matched them)."""
    found = {str(record.get("id")): record for record in matched or ()}
    return [
        RecordSeen(
            id=link["record_id"],
            object_type=link["object_type"],
            name=found.get(link["record_id"], {}).get("name"),
            matched_reading=found.get(link["record_id"], {}).get("matched_reading"),
        )
        for link in links
    ]


def call_matches(
    syncs: Iterable[Mapping[str, Any]], links: Iterable[Mapping[str, Any]]
) -> list[CallMatch]:
    """Return, for each integration a call was synced to, its automatic match and its log."""
    by_integration: dict[str, list[Mapping[str, Any]]] = {}
    for link in links:
        by_integration.setdefault(link["integration_id"], []).append(link)
    return [
        CallMatch(
            integration_id=sync["integration_id"],
            status=sync["status"],
            automatic_match=automatic_match(sync.get("matched")),
            logged_on=logged_on(
                by_integration.get(sync["integration_id"], []), sync.get("matched")
            ),
            why=sync.get("match_rule"),
            match_reason=match_reason(sync.get("match_reason")),
        )
        for sync in syncs
    ]


def _record(found: Mapping[str, Any]) -> CrmRecord | None:
    """Rebuild a matched record from its summary in the sync row (None if unreadable)."""
    try:
        updated = found.get("updated_at")
        return CrmRecord(
            id=str(found["id"]),
            object_type=ObjectType(found["object_type"]),
            name=str(found.get("name") or ""),
            owner=found.get("owner"),
            updated_at=datetime.fromisoformat(updated) if updated else None,
            matched_reading=found.get("matched_reading"),
        )
    except (KeyError, ValueError, TypeError):
        return None


def _seen(record: CrmRecord) -> RecordSeen:
    return RecordSeen(
        id=record.id,
        object_type=record.object_type.value,
        name=record.name,
        matched_reading=record.matched_reading,
    )
