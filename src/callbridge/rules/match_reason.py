"""Why a call's log went where it did: a stable code with its parameters, and its English text.

The sync stores both (``call_syncs.match_reason`` beside ``match_rule``): the API answers the
English text, the screens say the code in the reader's language (``callbridge.ui.match_reasons``).
Pure: values in, values out.

>>> MatchReason(Why.PRE_CALL, who="Ann").text
'pre-call: chosen by Ann before dialling'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Why(StrEnum):
    """What sent a call's log to its record(s); the value is stored, never renamed."""

    NO_MATCH = "no_match"
    ONLY_MATCH = "only_match"
    AUTOMATIC = "automatic"
    CLICK_TO_DIAL = "click_to_dial"
    PRE_CALL = "pre_call"
    IN_CALL = "in_call"
    CHOSEN = "chosen"
    KEPT = "kept"
    CREATED = "created"
    CREATED_EARLIER = "created_earlier"
    CHOSEN_NOT_IN_CRM = "chosen_not_in_crm"
    CLICKED_NOT_IN_CRM = "clicked_not_in_crm"


#: The codes that name who chose (``who``), and those that name missing records and a fallback.
BY_SOMEONE = frozenset({Why.CLICK_TO_DIAL, Why.PRE_CALL, Why.IN_CALL, Why.CHOSEN})
NOT_IN_CRM = frozenset({Why.CHOSEN_NOT_IN_CRM, Why.CLICKED_NOT_IN_CRM})
#: What the automatic rule says when it chooses (the fallback after records not in the CRM).
BY_NUMBER = (Why.NO_MATCH, Why.ONLY_MATCH, Why.AUTOMATIC)

AUTOMATIC_RULE = (
    "automatic: object type priority (contact > lead > account > candidate > deal), "
    "then most recently updated"
)
_PLAIN = {
    Why.NO_MATCH: "no record matches the number",
    Why.ONLY_MATCH: "the only record matching the number",
    Why.AUTOMATIC: AUTOMATIC_RULE,
    Why.KEPT: "kept: the records this call was already logged on",
    Why.CREATED: "created a contact for the unknown caller",
    Why.CREATED_EARLIER: "the contact Callbridge created for an earlier call from this number",
}
_CHOSEN = {
    Why.CLICK_TO_DIAL: "click-to-dial: the record the call was placed from{by}",
    Why.PRE_CALL: "pre-call: chosen{by} before dialling",
    Why.IN_CALL: "in-call: chosen{by} during or after the call",
    Why.CHOSEN: "chosen{by}",
}
_GIVEN = {Why.CHOSEN_NOT_IN_CRM: "chosen", Why.CLICKED_NOT_IN_CRM: "click-to-dial"}


@dataclass(frozen=True)
class MatchReason:
    """Why a call's log went where it did: a code, who chose, the records the CRM lacks."""

    code: Why
    who: str | None = None  # the agent who chose (the codes of BY_SOMEONE)
    records: tuple[str, ...] = ()  # the record ids given that the CRM lacks (NOT_IN_CRM)
    then: Why | None = None  # what chose instead of them (NOT_IN_CRM): one of BY_NUMBER

    @property
    def text(self) -> str:
        """Return the reason in English, as the API and the logs say it."""
        if self.code in _CHOSEN:
            return _CHOSEN[self.code].format(by=f" by {self.who}" if self.who else "")
        if self.code in _GIVEN:
            then = _PLAIN[self.then or Why.NO_MATCH]
            return (
                f"{_GIVEN[self.code]} record {', '.join(self.records)} is not in this CRM "
                f"(deleted, or never one of its records): {then}"
            )
        return _PLAIN[self.code]

    def stored(self) -> dict[str, Any]:
        """Return the reason as stored (JSON): its code and the parameters it has."""
        values: dict[str, Any] = {"code": self.code.value}
        if self.who:
            values["who"] = self.who
        if self.code in NOT_IN_CRM:
            values |= {"records": list(self.records), "then": (self.then or Why.NO_MATCH).value}
        return values


def loaded(stored: object) -> MatchReason | None:
    """Read a stored reason back; None for none, or for a code this version does not know."""
    if not isinstance(stored, Mapping):
        return None
    try:
        code = Why(str(stored.get("code")))
        then = Why(stored["then"]) if stored.get("then") is not None else None
    except ValueError:
        return None
    who = stored.get("who")
    records = stored.get("records") or ()
    if (then is not None and then not in BY_NUMBER) or not isinstance(records, list | tuple):
        return None
    return MatchReason(
        code, who if isinstance(who, str) and who else None, tuple(map(str, records)), then
    )


def fallback(code: Why, missing: tuple[str, ...], by_number: MatchReason) -> MatchReason:
    """Say that records given by id (``code``: chosen or clicked) are not in the CRM."""
    return MatchReason(code, records=missing, then=by_number.code)
