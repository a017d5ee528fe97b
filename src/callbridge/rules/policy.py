"""The "Contact creation for calls" setting of an integration (docs/behaviour.md)."""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass
from enum import StrEnum

from callbridge.domain.call import CallType
from callbridge.domain.said import Code, Said


class CreationPolicy(StrEnum):
    """Contact creation for calls: which calls create a contact when no record matches.

    - ``all``: every incoming or outgoing call.
    - ``incoming``: calls from an external party to the company, answered or not.
    - ``outgoing``: calls an agent dials out, answered or not.
    - ``missed``: calls received and not answered, or dropped before the connection (voicemail
      included).
    - ``answered`` (the "hung-up calls" option): the connection was established, a conversation
      took place, then either side hung up; incoming or outgoing.
    - ``none``: never.

    Internal calls and calls without an external number never create a contact.
    """

    ALL = "all"
    INCOMING = "incoming"
    OUTGOING = "outgoing"
    MISSED = "missed"
    ANSWERED = "answered"
    NONE = "none"


_REQUIRED: dict[CreationPolicy, CallType | None] = {
    CreationPolicy.INCOMING: CallType.INCOMING,
    CreationPolicy.OUTGOING: CallType.OUTGOING,
    CreationPolicy.MISSED: CallType.MISSED,
    CreationPolicy.ANSWERED: CallType.ANSWERED,
}

DEFAULT_NAMES = {
    "en": "New Callbridge Contact",
    "fr": "Nouveau contact Callbridge",
    "es": "Nuevo contacto Callbridge",
}
LANGUAGES = frozenset(DEFAULT_NAMES)


@dataclass(frozen=True)
class CreationDecision:
    """Whether to create a contact, and the reason shown in the call's history (a code's)."""

    create: bool
    reason: str


def decide_creation(policy: CreationPolicy, call_types: Set[CallType]) -> CreationDecision:
    """Decide whether an unmatched call creates a contact under ``policy``."""
    if not call_types:
        return CreationDecision(False, Said(Code.INTERNAL_NEVER_CREATES))
    kinds = ", ".join(sorted(call_types))
    if policy is CreationPolicy.NONE:
        return CreationDecision(False, Said(Code.CREATION_OFF))
    if policy is CreationPolicy.ALL:
        return CreationDecision(True, Said(Code.POLICY_ALL, kinds=kinds))
    required = _REQUIRED[policy]
    if required in call_types:
        return CreationDecision(True, Said(Code.POLICY_MATCHES, policy=policy, kinds=kinds))
    return CreationDecision(False, Said(Code.POLICY_EXCLUDES, policy=policy, kinds=kinds))


def contact_name(language: str, template: str | None, phone: str) -> str:
    """Return the name of a contact created for a call, from the template or the language."""
    default = DEFAULT_NAMES.get(language, DEFAULT_NAMES["en"])
    if not template:
        return default
    return template.replace("{default}", default).replace("{phone}", phone)
