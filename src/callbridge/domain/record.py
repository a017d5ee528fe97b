"""A CRM record as Callbridge sees it: something a phone number can belong to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ObjectType(StrEnum):
    """The kinds of CRM record a call can be logged on."""

    CONTACT = "contact"
    LEAD = "lead"
    ACCOUNT = "account"
    CANDIDATE = "candidate"
    DEAL = "deal"


@dataclass(frozen=True)
class CrmRecord:
    """A record found in, or created in, one integration's CRM."""

    id: str
    object_type: ObjectType
    name: str
    phones: tuple[str, ...] = ()
    owner: str | None = None
    updated_at: datetime | None = None
    # The stored number (as written, e.g. ``33612345607``) that matched the caller only when
    # read as international digits whose "+" was dropped, though it also reads as a national
    # number of the integration's region; None when the record matched by its usual reading.
    matched_reading: str | None = None


@dataclass(frozen=True)
class ContactDraft:
    """What Callbridge asks a CRM to create when no record matches a caller."""

    name: str
    phone_e164: str
    owner: str | None = None
    # The same for every retry of one creation: a connector that can makes the create
    # idempotent with it (HubSpot: a unique property), so a lost answer never makes two.
    external_id: str | None = None
