"""Map HubSpot objects to domain values, and Callbridge's drafts to HubSpot properties."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from callbridge.connectors.numbers import reading_of
from callbridge.domain.activity import ActivityDraft
from callbridge.domain.crm_user import CrmUser
from callbridge.domain.deal import Deal, DealDraft
from callbridge.domain.phone import PhoneNumber
from callbridge.domain.record import CrmRecord, ObjectType
from callbridge.domain.task import NoteDraft, TaskDraft

# Companies and contacts have separate id spaces in HubSpot; company record ids carry a prefix.
COMPANY_PREFIX = "company:"
EXTERNAL_ID = "callbridge_external_id"
RECORD_ID = "callbridge_record_id"
# A property defined with ``hasUniqueValue: true``: HubSpot refuses a second object with the same
# value (409) and reads an object by it at once, without the search index's lag.
UNIQUE_KEY = "callbridge_key"
# HubSpot's count of a record's deals, a calculated property of contacts and companies.
DEAL_COUNT = "num_associated_deals"
CONTACT_PROPERTIES = ["firstname", "lastname", "phone", "mobilephone", "hubspot_owner_id"]
CONTACT_PROPERTIES += ["lastmodifieddate", DEAL_COUNT]
COMPANY_PROPERTIES = ["name", "phone", "hubspot_owner_id", "hs_lastmodifieddate", DEAL_COUNT]
DEAL_PROPERTIES = ["dealname", "dealstage", "hubspot_owner_id", "hs_lastmodifieddate"]
DEAL_PROPERTIES += ["hs_is_closed"]
UTM_FIELDS = ("source", "medium", "campaign", "term", "content")
# Association type ids from an engagement (or deal) to a record kind [v4 associations API].
ASSOCIATION = {
    "calls": {"contacts": 194, "companies": 182, "deals": 206},
    "tasks": {"contacts": 204, "companies": 192, "deals": 216},
    "notes": {"contacts": 202, "companies": 190, "deals": 214},
    "deals": {"contacts": 3, "companies": 5},
}
DISPOSITIONS = {
    "busy": "9d9162e7-6cf3-4944-bf63-4dff82258764",
    "connected": "f240bbac-87c9-4f6e-bf70-924b57d47db7",
    "left live message": "a4c4c377-d246-4b32-a13b-75a56a4cd0ff",
    "left voicemail": "b2cf5968-551e-4856-9783-52b3da59a7d0",
    "no answer": "73a0d17f-1163-4015-bdd5-ec830791da20",
    "wrong number": "17b47fee-58de-441e-a44c-c6300d46f273",
}
STATUS = {"answered": "COMPLETED", "voicemail": "NO_ANSWER", "missed": "NO_ANSWER"}


# HubSpot object ids are positive 64-bit integers.
MAX_ID_DIGITS = 19


def target(record_id: str) -> tuple[str, str]:
    """Return (HubSpot object type, HubSpot id) of a Callbridge record id."""
    if record_id.startswith(COMPANY_PREFIX):
        return "companies", record_id.removeprefix(COMPANY_PREFIX)
    return "contacts", record_id


def object_key(kind: str, external_id: str, record_id: str) -> str:
    """Return the unique key of one object Callbridge creates (the same for every retry).

    Hashed so that it is short and safe in a URL path whatever the ids hold.
    """
    digest = hashlib.sha256(f"{kind}\n{external_id}\n{record_id}".encode()).hexdigest()
    return f"{kind}-{digest[:40]}"


def hs_time(value: datetime | None) -> str:
    """Return a HubSpot timestamp (ISO 8601 UTC with milliseconds)."""
    moment = (value or datetime.now(UTC)).astimezone(UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(value: str | None) -> datetime | None:
    """Read a HubSpot timestamp."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def record_from(kind: str, found: dict[str, Any]) -> CrmRecord:
    """Build a CrmRecord from a searched contact or company."""
    props = found["properties"]
    phones = tuple(p for p in (props.get("phone"), props.get("mobilephone")) if p)
    if kind == "companies":
        name, object_type = props.get("name") or "", ObjectType.ACCOUNT
        record_id = COMPANY_PREFIX + str(found["id"])
    else:
        name = " ".join(p for p in (props.get("firstname"), props.get("lastname")) if p)
        object_type, record_id = ObjectType.CONTACT, str(found["id"])
    updated = props.get("lastmodifieddate") or props.get("hs_lastmodifieddate")
    return CrmRecord(
        record_id,
        object_type,
        name,
        phones,
        props.get("hubspot_owner_id") or None,
        parse_time(updated or found.get("updatedAt")),
    )


def has_deals(found: dict[str, Any]) -> bool:
    """Return whether HubSpot counts deals on a searched contact or company (empty: none)."""
    count = (found.get("properties") or {}).get(DEAL_COUNT) or "0"
    try:
        return float(count) > 0
    except ValueError:  # not a count: assume there may be deals
        return True


def has_number(record: CrmRecord, phone: PhoneNumber, region: str) -> bool:
    """Return whether one of the record's stored numbers, under any reading, is ``phone``."""
    return any(reading_of(raw, phone.e164, region) is not None for raw in record.phones)


def phone_groups(
    phone: PhoneNumber, calculated: list[str], raw: list[str], region: str
) -> list[Any]:
    """Return the filter groups matching ``phone`` on HubSpot's searchable national digits.

    HubSpot standardizes phones into ``hs_searchable_calculated_*`` (area code and local number,
    no country code), so the national digits are searched there; the raw E.164 is searched too.
    One group per property keeps us far below the 5 groups / 18 filters limit. A number typed
    without its "+" that also reads as a national number of the portal's region (``33612345607``
    in Germany) is standardized as that national number: its digits are one more value of the
    same filter, so finding it costs no request.
    """
    digits = phone.national_digits()
    values = sorted({digits, digits.lstrip("0"), *bare_digits(phone, region)})
    groups = [[{"propertyName": n, "operator": "IN", "values": values}] for n in calculated]
    groups += [[{"propertyName": n, "operator": "EQ", "value": phone.e164}] for n in raw]
    return [{"filters": filters} for filters in groups]


def bare_digits(phone: PhoneNumber, region: str) -> list[str]:
    """Return the caller's digits without "+" if, stored so, they read as a national number too."""
    digits = phone.e164.removeprefix("+")
    reading = reading_of(digits, phone.e164, region)
    return [digits] if reading is not None and reading.ambiguous else []


def record_to_json(record: CrmRecord, deals: bool) -> dict[str, Any]:
    """Serialize a record for the lookup cache, with whether HubSpot counted deals on it."""
    updated = record.updated_at.isoformat() if record.updated_at else None
    return {
        "id": record.id,
        "object_type": record.object_type.value,
        "name": record.name,
        "phones": list(record.phones),
        "owner": record.owner,
        "updated_at": updated,
        "deals": deals,
        "matched_reading": record.matched_reading,
    }


def record_from_json(data: dict[str, Any]) -> CrmRecord:
    """Read a record back from the lookup cache."""
    updated = datetime.fromisoformat(data["updated_at"]) if data["updated_at"] else None
    return CrmRecord(data["id"], ObjectType(data["object_type"]), data["name"],
                     tuple(data["phones"]), data["owner"], updated,
                     data.get("matched_reading"))  # fmt: skip


def call_properties(activity: ActivityDraft) -> dict[str, str]:
    """Return the calls engagement properties for an activity (values as strings)."""
    body = activity.notes or ""
    if activity.tags:
        body += f"\n\nTags: {', '.join(activity.tags)}"
    props = {
        "hs_timestamp": hs_time(activity.started_at),
        "hs_call_title": activity.subject,
        "hs_call_body": body,
        "hs_call_direction": "INBOUND" if activity.direction == "incoming" else "OUTBOUND",
        "hs_call_status": STATUS.get(activity.status, "NO_ANSWER"),
        "hs_call_duration": str((activity.duration or 0) * 1000),
        "hs_call_has_voicemail": "true" if activity.status == "voicemail" else "false",
        EXTERNAL_ID: activity.external_id,
        RECORD_ID: activity.record_id,
    }
    if activity.recording_url and activity.recording_url.startswith("https://"):
        props["hs_call_recording_url"] = activity.recording_url  # HubSpot takes HTTPS only
    if activity.agent_crm_id:  # the call shows under the agent's name in HubSpot
        props["hubspot_owner_id"] = activity.agent_crm_id
    disposition = DISPOSITIONS.get((activity.disposition or "").lower())
    if disposition:
        props["hs_call_disposition"] = disposition
    return props


def associations(kind: str, record_id: str, deal_id: str | None) -> list[dict[str, Any]]:
    """Return the create-time associations of an engagement or deal with its record and deal."""
    to_type, to_id = target(record_id)
    links = [(to_id, ASSOCIATION[kind][to_type])]
    if deal_id and "deals" in ASSOCIATION[kind]:
        links.append((deal_id, ASSOCIATION[kind]["deals"]))
    return [
        {"to": {"id": object_id},
         "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}]}
        for object_id, type_id in links
    ]  # fmt: skip


def deal_properties(draft: DealDraft, pipeline: str, stage: str) -> dict[str, str]:
    """Return a deal's properties, with the UTM custom properties when the call has them."""
    props = {
        "dealname": draft.name,
        "pipeline": draft.pipeline or pipeline,
        "dealstage": draft.stage or stage,
        EXTERNAL_ID: draft.external_id,
    }
    if draft.owner:
        props["hubspot_owner_id"] = draft.owner
    for name in UTM_FIELDS:
        value = getattr(draft.utm, name, None) if draft.utm else None
        if value:
            props[f"utm_{name}"] = value
    return props


def deal_from(found: dict[str, Any]) -> Deal:
    """Build a Deal from a HubSpot deal."""
    props = found["properties"]
    stage = props.get("dealstage")
    closed = props.get("hs_is_closed") == "true" or stage in ("closedwon", "closedlost")
    updated = parse_time(props.get("hs_lastmodifieddate") or found.get("updatedAt"))
    return Deal(str(found["id"]), props.get("dealname") or "", props.get("hubspot_owner_id")
                or None, stage, not closed, updated)  # fmt: skip


def task_properties(draft: TaskDraft) -> dict[str, str]:
    """Return a task's properties: a call-back to do by ``due_at``."""
    props = {
        "hs_timestamp": hs_time(draft.due_at),
        "hs_task_subject": draft.title,
        "hs_task_body": draft.body,
        "hs_task_status": "NOT_STARTED",
        "hs_task_type": "CALL",
        EXTERNAL_ID: draft.external_id,
    }
    if draft.assignee:
        props["hubspot_owner_id"] = draft.assignee
    return props


def note_properties(draft: NoteDraft) -> dict[str, str]:
    """Return a note's properties."""
    return {
        "hs_timestamp": hs_time(None),
        "hs_note_body": draft.body,
        EXTERNAL_ID: draft.external_id,
    }


def user_from(owner: dict[str, Any]) -> CrmUser:
    """Build a CrmUser from a HubSpot owner."""
    name = " ".join(p for p in (owner.get("firstName"), owner.get("lastName")) if p)
    return CrmUser(str(owner["id"]), owner.get("email"), name or None)
