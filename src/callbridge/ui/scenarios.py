"""A matrix scenario's key, and the codes the explanations name, in the page's language.

The API answers a scenario as its key (``incoming.new.answered.known``: direction, client,
outcome, employee; docs/matrix.md#scenarios); a page shows it as the words of its four parts.
The tables come from the enums, so ``tests/ui/test_said_ui.py`` fails when one gains a value
without its words. A key or a value this version does not know shows as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from callbridge.domain.call import CallType
from callbridge.domain.event import Direction
from callbridge.domain.phone import NoNumberReason
from callbridge.rules.policy import CreationPolicy
from callbridge.rules.scenario import Client, Employee, Outcome, Scenario


def N_(text: str) -> str:
    """Mark ``text`` for the catalogs (``pybabel extract``); it is translated when shown."""
    return text


#: The words of each part of a scenario's key, in the key's order.
PARTS: tuple[Mapping[str, str], ...] = (
    {
        Direction.INCOMING: N_("incoming"),
        Direction.OUTGOING: N_("outgoing"),
        Direction.INTERNAL: N_("internal"),
    },
    {Client.NEW: N_("new client"), Client.EXISTING: N_("existing client")},
    {Outcome.ANSWERED: N_("answered"), Outcome.MISSED: N_("missed")},
    {
        Employee.KNOWN: N_("employee mapped to a CRM user"),
        Employee.UNKNOWN: N_("employee not mapped"),
        Employee.NONE: N_("no employee named"),
    },
)
#: What a dry run names instead of a scenario when a side has none.
INTERNAL = "internal"

#: Why a call has no external number (``domain/phone.py``).
NO_NUMBER: dict[str, str] = {
    NoNumberReason.MISSING: N_("the call names no number"),
    NoNumberReason.ANONYMOUS: N_("an anonymous caller"),
    NoNumberReason.WITHHELD: N_("a withheld number"),
    NoNumberReason.UNKNOWN: N_("an unknown number"),
    NoNumberReason.CLIENT_IDENTIFIER: N_("a client identifier, not a number"),
    NoNumberReason.SHORT_CODE: N_("a short code"),
    NoNumberReason.EMERGENCY: N_("an emergency number"),
    NoNumberReason.INTERNAL_EXTENSION: N_("an internal extension"),
    NoNumberReason.OWN_NUMBER: N_("one of the company's own numbers"),
    NoNumberReason.INVALID: N_("an invalid number"),
}
#: The call types the creation policy speaks of (``domain/call.py``).
CALL_TYPES: dict[str, str] = {
    CallType.INCOMING: N_("incoming"),
    CallType.OUTGOING: N_("outgoing"),
    CallType.MISSED: N_("missed"),
    CallType.ANSWERED: N_("answered"),
}
#: Each creation policy, as the integration's settings name it.
POLICIES: dict[str, str] = {
    CreationPolicy.ALL: N_("All calls"),
    CreationPolicy.INCOMING: N_("Incoming calls"),
    CreationPolicy.OUTGOING: N_("Outgoing calls"),
    CreationPolicy.MISSED: N_("Missed calls"),
    CreationPolicy.ANSWERED: N_("Hung-up calls"),
    CreationPolicy.NONE: N_("None"),
}


def scenario(key: str | None, gettext: Callable[[str], str]) -> str:
    """Return a scenario's key in words (``gettext``'s language), else the key as it is."""
    if not key:
        return ""
    if key == INTERNAL:
        return gettext(PARTS[0][Direction.INTERNAL])
    try:
        found = Scenario.from_key(key)
    except ValueError:
        return key
    parts = (found.direction, found.client, found.outcome, found.employee)
    return ", ".join(gettext(words[part]) for words, part in zip(PARTS, parts, strict=True))


def listed(values: str, table: Mapping[str, str], gettext: Callable[[str], str]) -> str:
    """Return comma-separated codes of ``table`` in words, each unknown one as it is."""
    words = [gettext(table[v]) if v in table else v for v in values.split(", ") if v]
    return ", ".join(words)
