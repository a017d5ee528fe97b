"""An explanation the API answers in English that keeps a stable code and its parameters.

A :class:`Said` *is* the English text (a ``str``: the API, the logs and the stored text columns
take it as before) and carries its :class:`Code` and parameters beside, which the API answers
next to the text (``{"code": ..., "params": {...}}``) and the screens say in the reader's
language (``callbridge.ui.said``). Pure: values in, values out.

>>> Said(Code.NO_MANAGER_YET)
'a new client has no responsible manager yet'
>>> Said(Code.NO_CAPABILITY, capability="deals").stored()
{'code': 'no_capability', 'params': {'capability': 'deals'}}
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any


class Code(StrEnum):
    """What an explanation says; the value is stored and answered, never renamed."""

    # Whether a call no record matches creates a contact (rules/policy.py, rules/plan.py).
    INTERNAL_NEVER_CREATES = "internal_never_creates"
    CREATION_OFF = "creation_off"
    POLICY_ALL = "policy_all"
    POLICY_MATCHES = "policy_matches"
    POLICY_EXCLUDES = "policy_excludes"
    MATRIX_ALWAYS = "matrix_always"
    MATRIX_NEVER = "matrix_never"
    NO_CONTACT_CREATED = "no_contact_created"
    CRM_CANNOT_CREATE = "crm_cannot_create"
    # Why a planned step is skipped (rules/plan.py).
    NO_CAPABILITY = "no_capability"
    NO_MANAGER_YET = "no_manager_yet"
    # Why explain plans nothing, and which run classified the call (api/explain.py).
    NO_EXTERNAL_NUMBER = "no_external_number"
    INTERNAL_CALL = "internal_call"
    FIRST_RUN = "first_run"
    THIS_RUN = "this_run"
    # Which scenario each side of a dry run used (api/matrix_dry_run.py).
    NO_SCENARIO = "no_scenario"
    SAME_NEVER = "same_never_classified"
    SAME_FIRST_SAME = "same_first_same"
    SAME_FIRST_OTHER = "same_first_other"
    DIFFER_NEVER = "differ_never_classified"
    DIFFER_FIRST_SAME = "differ_first_same"
    DIFFER_FIRST_OTHER = "differ_first_other"
    # Where a call's sync stands (sync/run.py, sync/executors/contact.py).
    SYNC_NO_NUMBER = "sync_no_number"
    SYNC_PAUSED = "sync_paused"
    SYNC_CRM_WAITING = "sync_crm_waiting"
    SYNC_CRM_FAILED = "sync_crm_failed"
    SYNC_INTERRUPTED = "sync_interrupted"
    SYNC_INTERNAL_ERROR = "sync_internal_error"
    SYNC_TIMED_OUT = "sync_timed_out"
    SYNC_DISABLED = "sync_disabled"
    SYNC_DISABLED_AFTER_DONE = "sync_disabled_after_done"
    SYNC_INTERNAL_CALL = "sync_internal_call"
    SYNC_WAITING_CHOICE = "sync_waiting_choice"
    # Why a delivery was answered 2xx without storing an event (telephony/, api/).
    NOT_A_CALL_EVENT = "not_a_call_event"
    EVENT_TYPE_SKIPPED = "event_type_skipped"
    EVENT_TYPES_SKIPPED = "event_types_skipped"
    RINGOVER_LOOKUP_ELSEWHERE = "ringover_lookup_elsewhere"
    RINGOVER_SEARCH = "ringover_search"
    DUPLICATE_DELIVERY = "duplicate_delivery"
    # Why a CRM action was skipped, waits, or went otherwise than asked (sync/executors/).
    CONTACT_NO_OWNER = "contact_no_owner"
    DEAL_NO_OWNER = "deal_no_owner"
    CRM_CANNOT_DO = "crm_cannot_do"
    NO_DEAL_OR_OWNER = "no_deal_or_owner"
    TASK_TO_TOP_MANAGER = "task_to_top_manager"
    TASK_UNASSIGNED = "task_unassigned"
    RESPONSIBLE_ANSWERED = "responsible_answered"
    NOBODY_TO_COMPARE = "nobody_to_compare"
    NO_RECORDING_YET = "no_recording_yet"
    CREATED_EARLIER_NOT_FOUND = "created_earlier_not_found"
    RESUMED_LOG = "resumed_log"


_SAME = "{saved}: the call as it stands, classified now by both matrices"
_DIFFER = (
    "{saved} by the saved matrix, {draft} by the draft: the call as it stands, classified now "
    "by each (their voicemail_is_missed differ)"
)
_NEVER = "; no sync classified it before"
_FIRST_SAME = "; its first sync classified it so too"
_FIRST_OTHER = "; its first sync classified it as {first}, which its own re-runs keep"

#: Each code's English text, its parameters in braces: exactly what the API answered before.
ENGLISH: dict[Code, str] = {
    Code.INTERNAL_NEVER_CREATES: "internal calls never create contacts",
    Code.CREATION_OFF: "contact creation is off (policy 'none')",
    Code.POLICY_ALL: "policy 'all' creates for every call ({kinds})",
    Code.POLICY_MATCHES: "policy '{policy}' matches this {kinds} call",
    Code.POLICY_EXCLUDES: "policy '{policy}' does not cover this call ({kinds})",
    Code.MATRIX_ALWAYS: "the matrix says always for this scenario",
    Code.MATRIX_NEVER: "the matrix says never for this scenario",
    Code.NO_CONTACT_CREATED: "no contact was created",
    Code.CRM_CANNOT_CREATE: "the CRM cannot create contacts",
    Code.NO_CAPABILITY: "the CRM cannot do this (no '{capability}' capability)",
    Code.NO_MANAGER_YET: "a new client has no responsible manager yet",
    Code.NO_EXTERNAL_NUMBER: "no external number to match ({why})",
    Code.INTERNAL_CALL: "internal call",
    Code.FIRST_RUN: "the call's first run",
    Code.THIS_RUN: "this run",
    Code.NO_SCENARIO: "no scenario: no external number to match ({why})",
    Code.SAME_NEVER: _SAME + _NEVER,
    Code.SAME_FIRST_SAME: _SAME + _FIRST_SAME,
    Code.SAME_FIRST_OTHER: _SAME + _FIRST_OTHER,
    Code.DIFFER_NEVER: _DIFFER + _NEVER,
    Code.DIFFER_FIRST_SAME: _DIFFER + _FIRST_SAME,
    Code.DIFFER_FIRST_OTHER: _DIFFER + _FIRST_OTHER,
    Code.SYNC_NO_NUMBER: "no external number to match ({why}: {raw})",
    Code.SYNC_PAUSED: "integration is paused: {why}",
    Code.SYNC_CRM_WAITING: "{error_type}: {error}",
    Code.SYNC_CRM_FAILED: "{error_type}: {error}",
    Code.SYNC_INTERRUPTED: "interrupted; retrying",
    Code.SYNC_INTERNAL_ERROR: "internal error ({error_type}); retrying",
    Code.SYNC_TIMED_OUT: "stopped after {seconds} s without finishing; retrying",
    Code.SYNC_DISABLED: "integration disabled",
    Code.SYNC_DISABLED_AFTER_DONE: (
        "integration disabled: the call's later changes were not written to this CRM"
    ),
    Code.SYNC_INTERNAL_CALL: "internal calls are not synced",
    Code.SYNC_WAITING_CHOICE: (
        "waiting for the agent's choice: {matches} records match the number; "
        "the automatic rule decides at {until} unless they choose"
    ),
    Code.NOT_A_CALL_EVENT: "{what} is not a call event Callbridge logs",
    Code.EVENT_TYPE_SKIPPED: "event type {types} is not a call event",
    Code.EVENT_TYPES_SKIPPED: "event types {types} are not call events",
    Code.RINGOVER_LOOKUP_ELSEWHERE: (
        "Ringover's call/contact lookup is answered at /lookups/ringover/{{source_id}}, not at the "
        "webhook URL: point the contact webhook there (docs/telephony/ringover.md#caller-lookup)"
    ),
    Code.RINGOVER_SEARCH: "Ringover's search/contact lookup is not answered by Callbridge",
    Code.DUPLICATE_DELIVERY: "every event of it was already stored from an earlier delivery",
    # ``reason`` (and ``inner``, its code, with its parameters beside): why the contact is made.
    Code.CONTACT_NO_OWNER: (
        "{reason}; no CRM user mapped for its owner ({owner}); the CRM's default applies"
    ),
    Code.DEAL_NO_OWNER: "no CRM user mapped for the deal's owner; the CRM's default applies",
    Code.CRM_CANNOT_DO: "the CRM cannot do {action}",
    Code.NO_DEAL_OR_OWNER: "no deal or no mapped owner to set",
    Code.TASK_TO_TOP_MANAGER: "no responsible manager: TOP manager",
    Code.TASK_UNASSIGNED: "no CRM user mapped for {assignee}; the task is unassigned",
    Code.RESPONSIBLE_ANSWERED: "the responsible manager answered",
    Code.NOBODY_TO_COMPARE: (
        "nobody to compare: the agent or the responsible manager is not known"
    ),
    Code.NO_RECORDING_YET: "no recording yet; it is attached when it arrives",
    Code.CREATED_EARLIER_NOT_FOUND: (
        "Callbridge created this number's contact for an earlier call; the CRM's search does not "
        "show it yet"
    ),
    Code.RESUMED_LOG: (
        "logged by an earlier run of this sync, which stopped before recording it; found by the "
        "call's external id and brought up to date"
    ),
}


class Said(str):
    """An English explanation (the string itself) with its code and parameters."""

    code: Code
    params: dict[str, str]

    def __new__(cls, code: Code, **params: object) -> Said:
        """Say ``code`` with ``params`` (each as ``str``) in English."""
        values = {name: str(value) for name, value in params.items()}
        said = super().__new__(cls, ENGLISH[code].format(**values))
        said.code, said.params = code, values
        return said

    def __reduce__(self) -> tuple[Any, ...]:
        """Copy and pickle by code and parameters (``str``'s own would pass the text)."""
        return (_remade, (self.code.value, self.params))

    def stored(self) -> dict[str, Any]:
        """Return the code and parameters as stored and answered (JSON)."""
        return {"code": self.code.value, "params": dict(self.params)}


def without_owner(reason: str, owner: str) -> Said:
    """Say ``reason`` (why a contact is made) and that no CRM user is mapped for its owner."""
    code, params = (reason.code.value, reason.params) if isinstance(reason, Said) else ("", {})
    return Said(Code.CONTACT_NO_OWNER, **params, reason=reason, inner=code, owner=owner)


def _remade(code: str, params: dict[str, str]) -> Said:
    """Rebuild a pickled or copied :class:`Said`."""
    return Said(Code(code), **params)


def code_of(text: str | None) -> dict[str, Any] | None:
    """Return the code and parameters of ``text`` if it is a :class:`Said`, else None."""
    return text.stored() if isinstance(text, Said) else None


def loaded(stored: object) -> Said | None:
    """Read a stored code back; None for none, or for a code or parameters this version lacks."""
    if not isinstance(stored, Mapping) or not isinstance(stored.get("params", {}), Mapping):
        return None
    try:
        return Said(Code(str(stored.get("code"))), **dict(stored.get("params") or {}))
    except (ValueError, KeyError, IndexError):
        return None
