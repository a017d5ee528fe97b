"""Map Callbridge's drafts to BottleCRM request bodies, and BottleCRM objects back to domain values.

BottleCRM drops ``external_id`` on interactions, so Callbridge writes a marker, ``[<external id>]``
(``[callbridge:<call uuid>]``), as the last line of every body or description it writes, and
finds its own writes again by that marker.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from callbridge.connectors.numbers import reading_of
from callbridge.domain.activity import ActivityDraft
from callbridge.domain.crm_user import CrmUser
from callbridge.domain.deal import Deal, DealDraft
from callbridge.domain.phone import PhoneNumber, normalize
from callbridge.domain.record import ContactDraft, CrmRecord, ObjectType
from callbridge.domain.task import TaskDraft

DIRECTIONS = {"incoming": "inbound", "outgoing": "outbound"}
OUTCOMES = {
    "answered": "connected",
    "missed": "no_answer",
    "voicemail": "voicemail",
    "no_answer": "no_answer",
}
SUBJECT_MAX = 200
BODY_MAX = 10_000
_FIELDS = (("Agent", "agent"), ("Recording", "recording_url"), ("Disposition", "disposition"))
CLOSED_STAGE_KINDS = frozenset({"won", "lost"})


def marker(external_id: str) -> str:
    """Return the marker that identifies a write of Callbridge's in a text field."""
    return f"[{external_id}]"


def carries(text: str | None, external_id: str) -> bool:
    """Tell whether ``text`` ends with the marker of ``external_id``."""
    return bool(text) and str(text).rstrip().endswith(marker(external_id))


def record_from_hit(hit: dict[str, Any], object_type: ObjectType) -> CrmRecord:
    """Build a record from one hit of a ``…/duplicates/`` answer."""
    phone = hit.get("phone") or ""
    return CrmRecord(
        id=str(hit["id"]),
        object_type=object_type,
        name=hit.get("name") or "",
        phones=(phone,) if phone else (),
    )


def record_from_detail(obj: dict[str, Any], record_id: str, object_type: ObjectType) -> CrmRecord:
    """Build a record from the ``contact_obj`` or ``lead_obj`` of a detail answer."""
    name = " ".join(str(obj[key]) for key in ("first_name", "last_name") if obj.get(key))
    phone = obj.get("phone") or ""
    return CrmRecord(
        id=record_id, object_type=object_type, name=name, phones=(phone,) if phone else ()
    )


def is_record_id(record_id: str) -> bool:
    """Tell whether an id has the shape of BottleCRM's record ids (UUIDs)."""
    try:
        uuid.UUID(record_id)
    except ValueError:
        return False
    return True


def same_number(raw: str, e164: str, region: str) -> bool:
    """Tell whether a stored number is ``e164`` (unreadable numbers are given the benefit).

    BottleCRM's lookup also matches on the last ten digits alone, which pairs numbers of
    different countries; re-reading the stored number with the integration's region drops those.
    Every reading counts: ``33612345607`` stored in a German org is +33 6 12 34 56 07 too.
    """
    if not isinstance(normalize(raw, region), PhoneNumber):
        return True
    return reading_of(raw, e164, region) is not None


def split_name(name: str) -> tuple[str, str]:
    """Split a display name into BottleCRM's required first and last names."""
    words = name.split()
    if len(words) < 2:
        return (name.strip() or "Unknown", "-")
    return (" ".join(words[:-1]), words[-1])


def contact_values(draft: ContactDraft, owner: str | None) -> dict[str, Any]:
    """Return the body of ``POST /api/contacts/`` for a caller nobody knows yet."""
    first, last = split_name(draft.name)
    values: dict[str, Any] = {"first_name": first, "last_name": last, "phone": draft.phone_e164}
    if owner:
        values["assigned_to"] = [owner]
    return values


def interaction_body(activity: ActivityDraft) -> str:
    """Write the call's details, its notes, then the marker, within BottleCRM's 10,000 chars."""
    lines = [
        f"{label}: {_one_line(value)}"
        for label, name in _FIELDS
        if (value := getattr(activity, name))
    ]
    if activity.tags:
        lines.append(f"Tags: {_one_line(', '.join(activity.tags))}")
    head, tail = "\n".join(lines), marker(activity.external_id)
    room = BODY_MAX - len(head) - len(tail) - 4
    notes = (activity.notes or "").strip()[: max(room, 0)]
    return f"{head}\n\n{notes}\n\n{tail}"


def call_from_body(body: str) -> dict[str, Any]:
    """Read back what :func:`interaction_body` wrote: the fields, ``notes`` and ``external_id``."""
    head, _, rest = body.partition("\n\n")
    notes, _, tail = rest.rpartition("\n\n")
    read: dict[str, Any] = {name: None for _, name in _FIELDS}
    read["tags"] = ()
    labels = dict(_FIELDS)
    for line in head.splitlines():
        label, _, value = line.partition(": ")
        if label in labels:
            read[labels[label]] = value
        elif label == "Tags":
            read["tags"] = tuple(value.split(", "))
    read["notes"] = notes or None
    read["external_id"] = tail.strip()[1:-1] or None
    return read


def interaction_values(activity: ActivityDraft, home: str, now: datetime) -> dict[str, Any]:
    """Return the body of ``POST /api/interactions/`` for a call on a ``home`` record."""
    values = interaction_changes(activity, now)
    values.update({"kind": "call", home: activity.record_id})
    return values


def interaction_changes(activity: ActivityDraft, now: datetime) -> dict[str, Any]:
    """Return the fields of an interaction that a later event may change (for PATCH)."""
    # BottleCRM refuses times more than five minutes ahead of its clock; never send one ahead.
    occurred = min(activity.started_at or now, now)
    return {
        "direction": DIRECTIONS.get(activity.direction, "inbound"),
        "occurred_at": occurred.isoformat(),
        "duration_seconds": activity.duration,
        "outcome": OUTCOMES.get(activity.status, "no_answer"),
        "subject": activity.subject[:SUBJECT_MAX],
        "body": interaction_body(activity),
    }


def deal_values(draft: DealDraft, pipeline: str, owner: str | None) -> dict[str, Any]:
    """Return the body of ``POST /api/opportunities/``: linked to the contact, sourced "call"."""
    lines = []
    if draft.utm is not None:
        utm = {k: v for k, v in vars(draft.utm).items() if v}
        lines = [f"utm_{key}: {value}" for key, value in utm.items()]
    return {
        "name": draft.name[:SUBJECT_MAX],
        "pipeline": pipeline,
        "stage": draft.stage or "PROSPECTING",
        "lead_source": "call",
        "assigned_to": [owner] if owner else [],
        "teams": [],
        "contacts": [draft.record_id],
        "description": "\n".join([*lines, marker(draft.external_id)]),
    }


def missing_links(
    found: dict[str, Any], contact_id: str | None, owner: str | None
) -> dict[str, Any]:
    """Return the PATCH that completes a deal or task its create left half-linked ({} if none).

    BottleCRM saves the record, then links its contacts and assignees in further statements,
    outside one transaction: a create that failed after the first leaves the record without
    them, and the retry finds it by its marker. The contact is added to those linked; the owner
    is set only when nobody is assigned (a later reassignment is kept).
    """
    changes: dict[str, Any] = {}
    linked = [str(contact["id"]) for contact in found.get("contacts") or []]
    if contact_id is not None and contact_id not in linked:
        changes["contacts"] = [*linked, contact_id]
    if owner is not None and not found.get("assigned_to"):
        changes["assigned_to"] = [owner]
    return changes


def deal_from(opportunity: dict[str, Any]) -> Deal:
    """Build a deal from an opportunity as the list or a contact's detail shows it."""
    owners = opportunity.get("assigned_to") or []
    owner = owners[0].get("id") if owners and isinstance(owners[0], dict) else None
    return Deal(
        id=str(opportunity["id"]),
        name=opportunity.get("name") or "",
        owner=owner,
        stage=opportunity.get("stage"),
        is_open=opportunity.get("stage_kind") not in CLOSED_STAGE_KINDS,
    )


def task_values(draft: TaskDraft, home: str | None, owner: str | None) -> dict[str, Any]:
    """Return the body of ``POST /api/tasks/``; the marker goes last in the description."""
    values: dict[str, Any] = {
        "title": draft.title[:SUBJECT_MAX],
        "status": "New",
        "priority": "High",
        "description": f"{draft.body.strip()}\n\n{marker(draft.external_id)}",
        "assigned_to": [owner] if owner else [],
        "teams": [],
        "contacts": [draft.record_id] if home == "contact" else [],
    }
    if home == "lead":
        values["lead"] = draft.record_id
    if draft.deal_id:
        values["opportunity"] = draft.deal_id
    if draft.due_at is not None:
        values["due_date"] = draft.due_at.date().isoformat()
    return values


def user_from_profile(profile: dict[str, Any]) -> CrmUser:
    """Build a CRM user from a profile of ``GET /api/users/``."""
    details = profile.get("user_details") or {}
    return CrmUser(id=str(profile["id"]), email=details.get("email"), name=details.get("name"))


def _one_line(value: Any) -> str:
    return " ".join(str(value).split())
