"""What a CRM connector can do: the capability names the rules plan by (pure)."""

from __future__ import annotations

from enum import StrEnum


class Capability(StrEnum):
    """What a connector can do; the pipeline skips, with a reason, what it cannot.

    Each capability is carried out by one protocol of :mod:`callbridge.connectors.base`
    (``PROTOCOLS``). There is no recordings capability: a recording travels on the call activity
    (``ActivityDraft.recording_url``), which every connector writes with ``log_call`` and
    ``update_call``; the matrix's ``attach_recording`` therefore needs ``log_call``.
    """

    FIND_BY_PHONE = "find_by_phone"
    CREATE_CONTACT = "create_contact"
    LOG_CALL = "log_call"
    UPDATE_CALL = "update_call"
    DEALS = "deals"
    TASKS = "tasks"
    NOTES = "notes"
    OWNERS = "owners"
    RECORD_LOOKUP = "record_lookup"
    ACTIVITY_REMOVAL = "activity_removal"
