"""The words the screens show for the API's codes (a call's state, an event's kind, a status…).

The API answers codes in English (``call.ringing``, ``create_contact``, ``skipped``); a page shows
each through its label here, marked for the catalogs and translated when the page renders. The
values come from the enums and status sets the code writes, so ``tests/ui/test_labels.py`` fails
when one gains a value without a label. A value not listed (a newer version's, a connector's own
object type) shows as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from callbridge.api.source_deliveries import OUTCOMES, REFUSAL_KINDS
from callbridge.connectors.spec import N_
from callbridge.domain.call import CallState
from callbridge.domain.event import Direction, EventKind
from callbridge.domain.record import ObjectType
from callbridge.rules.agent_choice import GATE_REASONS
from callbridge.rules.matrix import ActionType
from callbridge.rules.scenario import Outcome
from callbridge.storage.call_pages import SYNC_STATUSES
from callbridge.ui.problems import Problem, said

#: A sync the creation policy stops (no record matches and none is created): ``sync/executors``.
NO_MATCH = "no_match"
#: The actions a sync notes besides the matrix's (``sync/writes.py``, ``sync/run.py``).
SYNC_ACTIONS = ("log_call", "update_call", "move_call")
#: What an action's outcome can be (``sync/executors/base.py`` ``Outcome``, ``sync/run.py``).
ACTION_STATUSES = ("done", "skipped", "waiting", "noted")

_STATUS: dict[str, str] = {
    "running": N_("running"),
    "waiting": N_("waiting"),
    "failed": N_("failed"),
    "done": N_("done"),
    "skipped": N_("skipped"),
    "noted": N_("noted"),
    NO_MATCH: N_("no record found"),
}

_DELIVERY: dict[str, str] = {
    "accepted": N_("accepted"),
    "ignored": N_("ignored"),
    "duplicate": N_("duplicate"),
    "refused": N_("refused"),
}

#: Why a delivery was refused, and what to do about it.
_REFUSAL: dict[str, str] = {
    "invalid_signature": N_(
        "the signature does not match: give the phone system this source's current secret"
    ),
    "invalid_payload": N_(
        "the body is not an event this provider sends, or one of its fields is wrong"
    ),
    "unknown_source": N_("the webhook URL names no source: copy it again from this page"),
    "too_large": N_("the body is larger than the limit"),
}

#: Each kind of code a page shows, and the message of each of its values.
LABELS: dict[str, Mapping[str, str]] = {
    "event": {
        EventKind.RINGING: N_("call ringing"),
        EventKind.ANSWERED: N_("call answered"),
        EventKind.ENDED: N_("call ended"),
        EventKind.MISSED: N_("call missed"),
        EventKind.VOICEMAIL: N_("voicemail left"),
        EventKind.RECORDING: N_("recording available"),
        EventKind.UPDATED: N_("call updated"),
    },
    "state": {
        CallState.RINGING: N_("ringing"),
        CallState.ANSWERED: N_("answered"),
        CallState.ENDED: N_("ended"),
        CallState.MISSED: N_("missed"),
        CallState.VOICEMAIL: N_("voicemail"),
    },
    "direction": {
        Direction.INCOMING: N_("incoming"),
        Direction.OUTGOING: N_("outgoing"),
        Direction.INTERNAL: N_("internal"),
    },
    "object_type": {
        ObjectType.CONTACT: N_("contact"),
        ObjectType.LEAD: N_("lead"),
        ObjectType.ACCOUNT: N_("account"),
        ObjectType.CANDIDATE: N_("candidate"),
        ObjectType.DEAL: N_("deal"),
    },
    "sync_status": {status: _STATUS[status] for status in SYNC_STATUSES},
    "action": {
        ActionType.CREATE_CONTACT: N_("create the contact"),
        ActionType.CREATE_DEAL: N_("create a deal"),
        ActionType.ATTACH_RECORDING: N_("attach the recording"),
        ActionType.SET_DEAL_OWNER: N_("set the deal's owner"),
        ActionType.CREATE_TASK: N_("create a task"),
        ActionType.NOTE_WHO_ANSWERED: N_("note who answered"),
        "log_call": N_("log the call"),
        "update_call": N_("update the logged call"),
        "move_call": N_("move the logged call"),
    },
    "action_status": {status: _STATUS[status] for status in ACTION_STATUSES},
    # A matrix scenario's outcome (the matrix screen's contact creation per scenario).
    "outcome": {Outcome.ANSWERED: N_("answered"), Outcome.MISSED: N_("missed")},
    # What became of a delivery to a source (``api/source_deliveries.py`` ``OUTCOMES``).
    "delivery": {outcome: _DELIVERY[outcome] for outcome in OUTCOMES},
    # Why a delivery was refused (``api/source_deliveries.py`` ``REFUSAL_KINDS``).
    "refusal": {kind: _REFUSAL[kind] for kind in REFUSAL_KINDS},
    # Why an agent cannot choose the contact (``rules/agent_choice.py`` ``GATE_REASONS``).
    "choosing_off": {
        "no_permission": N_("your team lacks the permission 'is_multicrm_sync' to choose"),
        "option_off": N_("no integration has its option 'select_contact_manually' on"),
    },
}


#: The dialer API's 403 codes (``api/dialer.py``), by why choosing is off (``GATE_REASONS``).
CHOOSING_OFF = {f"selection_{gate}": gate for gate in GATE_REASONS}


def choosing_off(messages: list[str]) -> str:
    """Return the code of why choosing is off (the API's refusal ``messages``), else the refusal.

    Another refusal (a call that is not the company's) comes back as itself, so the page says it
    by its code (:func:`label` of a ``Problem``).
    """
    for message in messages:
        if isinstance(message, Problem) and message.kind in CHOOSING_OFF:
            return CHOOSING_OFF[message.kind]
    return messages[0] if len(messages) == 1 else "; ".join(messages)


def label(kind: str, value: object, gettext: Callable[[str], str]) -> str:
    """Return the label of ``value`` (a code of ``kind``) in ``gettext``'s language, else as is."""
    if value is None:
        return ""
    if isinstance(value, Problem):  # a refusal in place of a code: said by its own code
        return said(value, gettext)
    message = LABELS[kind].get(str(value))
    return gettext(message) if message else str(value)
