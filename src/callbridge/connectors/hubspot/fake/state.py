"""The HubSpot fake's state: its objects, properties, owners, limits and scripted faults.

Tests script the fake through :class:`HubSpotState`; the routes (``routes``) and the front door
(``gate``) read and change it; ``server`` serves it.
"""

from __future__ import annotations

import fnmatch
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import phonenumbers

ALIASES = {"contact": "contacts", "0-1": "contacts", "company": "companies", "0-2": "companies"}
ALIASES |= {"deal": "deals", "0-3": "deals", "call": "calls", "0-48": "calls"}
ALIASES |= {"task": "tasks", "0-27": "tasks", "note": "notes", "0-46": "notes"}
TYPE_IDS = {"contacts": "0-1", "companies": "0-2", "deals": "0-3", "calls": "0-48"}
TYPE_IDS |= {"tasks": "0-27", "notes": "0-46"}
_COMMON = {"hs_object_id", "createdate", "hs_createdate", "lastmodifieddate"}
_COMMON |= {"hs_lastmodifieddate", "hubspot_owner_id", "hs_timestamp"}
STANDARD: dict[str, set[str]] = {
    "contacts": {"email", "firstname", "lastname", "phone", "mobilephone", "company"},
    "companies": {"name", "domain", "phone"},
    "deals": {"dealname", "dealstage", "pipeline", "amount", "closedate", "description"},
    "calls": {"hs_call_body", "hs_call_callee_object_id", "hs_call_callee_object_type"},
    "tasks": {"hs_task_body", "hs_task_subject", "hs_task_status", "hs_task_priority"},
    "notes": {"hs_note_body", "hs_attachment_ids"},
}
STANDARD["calls"] |= {"hs_call_direction", "hs_call_disposition", "hs_call_duration"}
STANDARD["calls"] |= {"hs_call_from_number", "hs_call_to_number", "hs_call_recording_url"}
STANDARD["calls"] |= {"hs_call_status", "hs_call_title", "hs_call_source", "hs_activity_type"}
STANDARD["calls"] |= {"hs_attachment_ids", "hs_call_has_voicemail"}
STANDARD["tasks"] |= {"hs_task_type", "hs_task_reminders"}
_SEARCHABLE = {"phone": "hs_searchable_calculated_phone_number"}
_SEARCHABLE |= {"mobilephone": "hs_searchable_calculated_mobile_number"}
DEFAULT_RETURNED = {
    "contacts": [
        "createdate",
        "email",
        "firstname",
        "hs_object_id",
        "lastmodifieddate",
        "lastname",
    ],
    "companies": ["createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"],
    "deals": ["dealname", "amount", "closedate", "pipeline", "dealstage", "createdate"],
}
# (from, to) → association type ids HubSpot defines [its v4 associations API].
ASSOCIATION_TYPES = {
    ("calls", "contacts"): {194}, ("contacts", "calls"): {193}, ("calls", "companies"): {182},
    ("companies", "calls"): {181}, ("calls", "deals"): {206}, ("deals", "calls"): {205},
    ("deals", "contacts"): {3}, ("contacts", "deals"): {4}, ("deals", "companies"): {5, 341},
    ("companies", "deals"): {6}, ("tasks", "contacts"): {204}, ("contacts", "tasks"): {203},
    ("tasks", "deals"): {216}, ("deals", "tasks"): {215}, ("tasks", "companies"): {192},
    ("companies", "tasks"): {191}, ("notes", "contacts"): {202}, ("notes", "deals"): {214},
    ("notes", "companies"): {190}, ("contacts", "companies"): {1, 279},
    ("companies", "contacts"): {2, 280},
}  # fmt: skip
MAX_GROUPS, MAX_FILTERS_PER_GROUP, MAX_FILTERS = 5, 6, 18
# "Number of associated deals", calculated by HubSpot on contacts and companies (read only).
DEAL_COUNT = "num_associated_deals"
CALCULATED_DEAL_COUNT = ("contacts", "companies")


# HubSpot allows this many unique value properties per object type [UNVERIFIED, HubSpot's
# knowledge base: "up to 10 unique value properties for each object"].
UNIQUE_LIMIT = 10


class ManualClock:
    """A clock for the fake's search index that moves only when a test says so."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds``."""
        self.now += seconds


@dataclass(frozen=True)
class CommitFault:
    """What happens to the answer of a create that was stored: a status, or no answer in time."""

    object_type: str
    status: int | None  # None: the answer is held ``hold`` seconds (the client times out)
    hold: float


def now_iso() -> str:
    """Return the current time as HubSpot writes it (ISO 8601, milliseconds, Z)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class HubSpotState:
    """The fake account: objects, properties, associations, owners, tokens and scripted faults."""

    tokens: set[str] = field(default_factory=lambda: {"pat-na1-test"})
    region: str = "US"
    objects: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    properties: dict[str, set[str]] = field(
        default_factory=lambda: {k: v | _COMMON for k, v in STANDARD.items()}
    )
    associations: set[tuple[str, str, str, str, int]] = field(default_factory=set)
    owners: list[dict[str, Any]] = field(default_factory=list)
    oauth_clients: dict[str, str] = field(default_factory=dict)  # client id → secret
    refresh_tokens: set[str] = field(default_factory=set)
    budget_per_10s: int | None = None
    forced: deque[tuple[int, str]] = field(default_factory=deque)  # (status, policy or "")
    hits: deque[float] = field(default_factory=deque)
    # HubSpot's search limit (5 per rolling second per account; None: not enforced) and the
    # times of the searches let through.
    searches_per_second: int | None = None
    searched_at: list[float] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    rejected_429: int = 0
    rejected_by: dict[str, int] = field(default_factory=dict)  # 429s by policyName
    next_id: int = 100
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Search sees a write only ``search_delay`` seconds (on ``clock``) after it was made.
    search_delay: float = 0.0
    clock: Callable[[], float] = time.monotonic
    indexed_at: dict[tuple[str, str], float] = field(default_factory=dict)
    unique: dict[str, set[str]] = field(default_factory=dict)  # object type → unique names
    unique_limit: int = UNIQUE_LIMIT
    definitions: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    faults: deque[CommitFault] = field(default_factory=deque)
    # Seconds every request waits before it is handled: a CRM's round trip (benchmarks).
    latency: float = 0.0

    def fail_after_commit(
        self, object_type: str, status: int | None = 502, times: int = 1, hold: float = 30.0
    ) -> None:
        """Store the next ``times`` creates of ``object_type``, then lose their answers.

        ``status`` is answered instead of the 201 (502: what a gateway timeout after the commit
        looks like); with None the answer is held ``hold`` seconds, so the client times out.
        """
        self.faults.extend([CommitFault(object_type, status, hold)] * times)

    def take_fault(self, object_type: str) -> CommitFault | None:
        """Return (and use up) the fault scripted for the next create of ``object_type``."""
        with self.lock:
            for fault in self.faults:
                if fault.object_type == object_type:
                    self.faults.remove(fault)
                    return fault
        return None

    def searchable(self, object_type: str, object_id: str) -> bool:
        """Return whether the search index shows the object yet (unknown objects: yes)."""
        return self.indexed_at.get((object_type, object_id), float("-inf")) <= self.clock()

    def holder(self, object_type: str, properties: dict[str, Any], but: str = "") -> str | None:
        """Return the id of another object already holding one of these unique values."""
        for name in self.unique.get(object_type, set()) & set(properties):
            value = properties[name]
            if value in (None, ""):
                continue
            for object_id, stored in self.objects.get(object_type, {}).items():
                held = stored["properties"].get(name)
                if object_id != but and not stored.get("archived") and held == str(value):
                    return object_id
        return None

    def create(self, object_type: str, properties: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Store an object unless a unique value is taken: (object, True) or (holder, False)."""
        with self.lock:
            taken = self.holder(object_type, properties)
            if taken is not None:
                return self.objects[object_type][taken], False
            return self._insert(object_type, properties), True

    def force(self, status: int, times: int = 1, policy: str = "TEN_SECONDLY_ROLLING") -> None:
        """Answer the next ``times`` requests with ``status`` (429 uses ``policy``)."""
        self.forced.extend([(status, policy)] * times)

    def add(self, object_type: str, properties: dict[str, str]) -> dict[str, Any]:
        """Store an object as the HubSpot UI would (no validation); return it."""
        with self.lock:
            return self._insert(object_type, properties)

    def _insert(self, object_type: str, properties: dict[str, Any]) -> dict[str, Any]:
        self.next_id += 1
        object_id, stamp = str(self.next_id), now_iso()
        props = {k: str(v) for k, v in properties.items()}
        props |= {"hs_object_id": object_id, "createdate": stamp, "lastmodifieddate": stamp}
        props |= {"hs_createdate": stamp, "hs_lastmodifieddate": stamp}
        stored: dict[str, Any] = {"id": object_id, "properties": props, "createdAt": stamp}
        stored |= {"updatedAt": stamp, "archived": False}
        self.objects.setdefault(object_type, {})[object_id] = stored
        self._index(object_type, object_id, props)
        return stored

    def _index(self, object_type: str, object_id: str, props: dict[str, Any]) -> None:
        """Compute the searchable phones; the search index shows the write after the delay."""
        if self.search_delay > 0:
            self.indexed_at[(object_type, object_id)] = self.clock() + self.search_delay
        for raw, calculated in _SEARCHABLE.items():
            if props.get(raw):
                props[calculated] = self.national_digits(props[raw])

    def national_digits(self, raw: str) -> str:
        """Return the digits HubSpot searches phones on: no country code, no trunk prefix."""
        try:
            parsed = phonenumbers.parse(raw, self.region)
            return str(parsed.national_number)
        except phonenumbers.NumberParseException:
            return re.sub(r"\D", "", raw).lstrip("0")

    def update(self, object_type: str, object_id: str, properties: dict[str, str]) -> None:
        """Change an object's properties (no validation)."""
        with self.lock:
            stored = self.objects[object_type][object_id]
            stamp = now_iso()
            stored["properties"] |= {k: str(v) for k, v in properties.items()}
            stored["properties"] |= {"lastmodifieddate": stamp, "hs_lastmodifieddate": stamp}
            stored["updatedAt"] = stamp
            self._index(object_type, object_id, stored["properties"])

    def deal_count(self, object_type: str, object_id: str) -> str | None:
        """Return ``num_associated_deals`` as HubSpot shows it: the count, empty without deals.

        HubSpot computes it a few seconds after an association changes; the fake at once.
        """
        count = len(self.associated(object_type, object_id, "deals"))
        return str(count) if count else None

    def associated(self, from_type: str, from_id: str, to_type: str) -> list[str]:
        """Return the ids of ``to_type`` objects associated with one object."""
        found = {a[3] for a in self.associations if a[:3] == (from_type, from_id, to_type)}
        return sorted(found, key=int)


def object_type(raw: str) -> str | None:
    """Return the canonical plural object type for a path segment, or None if unknown."""
    name = ALIASES.get(raw, raw)
    return name if name in STANDARD else None


def token_matches(value: str, pattern: str) -> bool:
    """Return whether a whole token of ``value`` matches ``pattern`` (``*`` wildcards)."""
    tokens = re.split(r"[\s,;]+", value.lower())
    return any(fnmatch.fnmatchcase(token, pattern.lower()) for token in tokens if token)
