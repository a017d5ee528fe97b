"""The API's explanations (a :class:`~callbridge.domain.said.Code` and its parameters), in words.

The API answers an English reason and beside it its code (``reason_code``, ``skip_code``…); each
code has its message here, marked for the catalogs and translated when a page renders. The
parameters that are codes themselves (a scenario's key, why a number is missing, a policy, the
call's types, why an integration is paused) are said in words too. A reason without a code
(stored before codes existed, or free text) shows as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from callbridge.domain.said import Code, loaded
from callbridge.ui.integration_health import REASONS
from callbridge.ui.labels import LABELS
from callbridge.ui.scenarios import CALL_TYPES, NO_NUMBER, POLICIES, listed, scenario


def N_(text: str) -> str:
    """Mark ``text`` for the catalogs (``pybabel extract``); it is translated when shown."""
    return text


_SAME = N_("%(saved)s: the call as it stands, classified now by both matrices")
_DIFFER = N_(
    "%(saved)s by the saved matrix, %(draft)s by the draft: the call as it stands, "
    "classified now by each (their voicemail_is_missed differ)"
)
_FIRST = {
    "never": N_("no sync classified it before"),
    "same": N_("its first sync classified it so too"),
    "other": N_("its first sync classified it as %(first)s, which its own re-runs keep"),
}
#: A dry run's scenario line: the sides' message and how the first sync classified the call.
DRY_RUN: dict[Code, tuple[str, str]] = {
    Code.SAME_NEVER: (_SAME, "never"),
    Code.SAME_FIRST_SAME: (_SAME, "same"),
    Code.SAME_FIRST_OTHER: (_SAME, "other"),
    Code.DIFFER_NEVER: (_DIFFER, "never"),
    Code.DIFFER_FIRST_SAME: (_DIFFER, "same"),
    Code.DIFFER_FIRST_OTHER: (_DIFFER, "other"),
}
#: Each other code's message (``%(name)s``: its parameters).
MESSAGES: dict[Code, str] = {
    Code.INTERNAL_NEVER_CREATES: N_("internal calls never create contacts"),
    Code.CREATION_OFF: N_("contact creation is off (policy 'none')"),
    Code.POLICY_ALL: N_("policy 'all' creates for every call (%(kinds)s)"),
    Code.POLICY_MATCHES: N_("policy '%(policy)s' matches this %(kinds)s call"),
    Code.POLICY_EXCLUDES: N_("policy '%(policy)s' does not cover this call (%(kinds)s)"),
    Code.MATRIX_ALWAYS: N_("the matrix says always for this scenario"),
    Code.MATRIX_NEVER: N_("the matrix says never for this scenario"),
    Code.NO_CONTACT_CREATED: N_("no contact was created"),
    Code.CRM_CANNOT_CREATE: N_("the CRM cannot create contacts"),
    Code.NO_CAPABILITY: N_("the CRM cannot do this (no '%(capability)s' capability)"),
    Code.NO_MANAGER_YET: N_("a new client has no responsible manager yet"),
    Code.NO_EXTERNAL_NUMBER: N_("no external number to match (%(why)s)"),
    Code.INTERNAL_CALL: N_("internal call"),
    Code.FIRST_RUN: N_("the call's first run"),
    Code.THIS_RUN: N_("this run"),
    Code.NO_SCENARIO: N_("no scenario: no external number to match (%(why)s)"),
    Code.SYNC_NO_NUMBER: N_("no external number to match (%(why)s: %(raw)s)"),
    Code.SYNC_PAUSED: N_("integration is paused: %(why)s"),
    Code.SYNC_CRM_WAITING: N_("waiting for the CRM (%(error_type)s): %(error)s"),
    Code.SYNC_CRM_FAILED: N_("the CRM failed (%(error_type)s): %(error)s"),
    Code.SYNC_INTERRUPTED: N_("interrupted; retrying"),
    Code.SYNC_INTERNAL_ERROR: N_("internal error (%(error_type)s); retrying"),
    Code.SYNC_TIMED_OUT: N_("stopped after %(seconds)s s without finishing; retrying"),
    Code.SYNC_DISABLED: N_("integration disabled"),
    Code.SYNC_DISABLED_AFTER_DONE: N_(
        "integration disabled: the call's later changes were not written to this CRM"
    ),
    Code.SYNC_INTERNAL_CALL: N_("internal calls are not synced"),
    Code.SYNC_WAITING_CHOICE: N_(
        "waiting for the agent's choice: %(matches)s records match the number; "
        "the automatic rule decides at %(until)s unless they choose"
    ),
    Code.NOT_A_CALL_EVENT: N_("%(what)s is not a call event Callbridge logs"),
    Code.EVENT_TYPE_SKIPPED: N_("event type %(types)s is not a call event"),
    Code.EVENT_TYPES_SKIPPED: N_("event types %(types)s are not call events"),
    Code.RINGOVER_LOOKUP_ELSEWHERE: N_(
        "Ringover's call/contact lookup is answered at /lookups/ringover/{source_id}, not at the "
        "webhook URL: point the contact webhook there (docs/telephony/ringover.md#caller-lookup)"
    ),
    Code.RINGOVER_SEARCH: N_("Ringover's search/contact lookup is not answered by Callbridge"),
    Code.DUPLICATE_DELIVERY: N_("every event of it was already stored from an earlier delivery"),
    Code.CONTACT_NO_OWNER: N_(
        "%(reason)s; no CRM user mapped for its owner (%(owner)s); the CRM's default applies"
    ),
    Code.DEAL_NO_OWNER: N_("no CRM user mapped for the deal's owner; the CRM's default applies"),
    Code.CRM_CANNOT_DO: N_("the CRM cannot do this: %(action)s"),
    Code.NO_DEAL_OR_OWNER: N_("no deal or no mapped owner to set"),
    Code.TASK_TO_TOP_MANAGER: N_("no responsible manager: the task goes to the TOP manager"),
    Code.TASK_UNASSIGNED: N_("no CRM user mapped for %(assignee)s; the task is unassigned"),
    Code.RESPONSIBLE_ANSWERED: N_("the responsible manager answered"),
    Code.NOBODY_TO_COMPARE: N_(
        "nobody to compare: the agent or the responsible manager is not known"
    ),
    Code.NO_RECORDING_YET: N_("no recording yet; it is attached when it arrives"),
    Code.CREATED_EARLIER_NOT_FOUND: N_(
        "Callbridge created this number's contact for an earlier call; the CRM's search does not "
        "show it yet"
    ),
    Code.RESUMED_LOG: N_(
        "logged by an earlier run of this sync, which stopped before recording it; found by the "
        "call's external id and brought up to date"
    ),
}
#: The matrix's actions in words (``action``).
ACTIONS = LABELS["action"]
#: Who a task or a deal goes to (``owner``, ``assignee``), in words.
ROLES = {
    "responsible": N_("the responsible manager"),
    "top_manager": N_("the TOP manager"),
    "agent": N_("the agent"),
}


def _words(code: Code, params: Mapping[str, str], gettext: Callable[[str], str]) -> dict[str, str]:
    """Return ``params`` with those that are codes in words."""
    said = dict(params)
    for side in ("saved", "draft", "first"):
        if side in said:
            said[side] = scenario(said[side], gettext)
    paused = params.get("why_code", "") if code is Code.SYNC_PAUSED else None
    if paused is None and "why" in said:
        said["why"] = listed(said["why"], NO_NUMBER, gettext)
    elif paused in REASONS:
        said["why"] = gettext(REASONS[paused])
    if "kinds" in said:
        said["kinds"] = listed(said["kinds"], CALL_TYPES, gettext)
    if "policy" in said:
        said["policy"] = listed(said["policy"], POLICIES, gettext)
    for role in ("owner", "assignee"):
        if role in said:
            said[role] = listed(said[role], ROLES, gettext)
    if "action" in said:
        said["action"] = listed(said["action"], ACTIONS, gettext)
    return said


def _inner(params: Mapping[str, str], gettext: Callable[[str], str]) -> str:
    """Say the reason a reason wraps (``inner``: its code; its parameters beside), else its text."""
    own = {name: value for name, value in params.items() if name not in _WRAPPING}
    return said({"code": params.get("inner"), "params": own}, params.get("reason"), gettext)


_WRAPPING = ("reason", "inner", "owner")


def said(stored: Any, text: str | None, gettext: Callable[[str], str]) -> str:
    """Return what a page shows of a reason: its code (``stored``) in words, else ``text``."""
    if hasattr(stored, "model_dump"):
        stored = stored.model_dump()
    reason = loaded(stored)
    if reason is None:
        return text or ""
    params = _words(reason.code, reason.params, gettext)
    if reason.code is Code.CONTACT_NO_OWNER:
        params["reason"] = _inner(reason.params, gettext)
    if reason.code in DRY_RUN:
        sides, first = DRY_RUN[reason.code]
        return f"{gettext(sides) % params}; {gettext(_FIRST[first]) % params}"
    return gettext(MESSAGES[reason.code]) % params
