"""Why a call's log went where it did, said in the page's language (call's page, "My calls").

The sync stores the reason as a code (:mod:`callbridge.rules.match_reason`); each code has its
messages here, marked for the catalogs and translated when a page renders (in English they say
exactly the API's ``match_rule``). A sync stored before the codes existed, or with a code this
version does not know, shows its stored English text.
"""

from __future__ import annotations

from collections.abc import Callable

from callbridge.api.call_matches import MatchReasonShown
from callbridge.rules.match_reason import NOT_IN_CRM, MatchReason, Why, loaded


def N_(text: str) -> str:
    """Mark ``text`` for the catalogs (``pybabel extract``); it is translated when shown."""
    return text


#: Each code's message, and the one naming who chose (``%(who)s``) where there is one.
MESSAGES: dict[Why, tuple[str, str | None]] = {
    Why.NO_MATCH: (N_("no record matches the number"), None),
    Why.ONLY_MATCH: (N_("the only record matching the number"), None),
    Why.AUTOMATIC: (
        N_(
            "automatic: object type priority (contact > lead > account > candidate > deal), "
            "then most recently updated"
        ),
        None,
    ),
    Why.KEPT: (N_("kept: the records this call was already logged on"), None),
    Why.CREATED: (N_("created a contact for the unknown caller"), None),
    Why.CREATED_EARLIER: (
        N_("the contact Callbridge created for an earlier call from this number"),
        None,
    ),
    Why.CLICK_TO_DIAL: (
        N_("click-to-dial: the record the call was placed from"),
        N_("click-to-dial: the record the call was placed from by %(who)s"),
    ),
    Why.PRE_CALL: (
        N_("pre-call: chosen before dialling"),
        N_("pre-call: chosen by %(who)s before dialling"),
    ),
    Why.IN_CALL: (
        N_("in-call: chosen during or after the call"),
        N_("in-call: chosen by %(who)s during or after the call"),
    ),
    Why.CHOSEN: (N_("chosen"), N_("chosen by %(who)s")),
    Why.CHOSEN_NOT_IN_CRM: (
        N_(
            "chosen record %(records)s is not in this CRM (deleted, or never one of its "
            "records): %(then)s"
        ),
        None,
    ),
    Why.CLICKED_NOT_IN_CRM: (
        N_(
            "click-to-dial record %(records)s is not in this CRM (deleted, or never one of its "
            "records): %(then)s"
        ),
        None,
    ),
}


def said(reason: MatchReason, gettext: Callable[[str], str]) -> str:
    """Return ``reason`` in the language of ``gettext`` (a catalog's)."""
    plain, by_someone = MESSAGES[reason.code]
    if reason.code in NOT_IN_CRM:
        then = said(MatchReason(reason.then or Why.NO_MATCH), gettext)
        return gettext(plain) % {"records": ", ".join(reason.records), "then": then}
    if reason.who and by_someone is not None:
        return gettext(by_someone) % {"who": reason.who}
    return gettext(plain)


def why(text: str | None, stored: MatchReasonShown | None, gettext: Callable[[str], str]) -> str:
    """Return what a page shows of a sync's reason: its code translated, else its stored text."""
    reason = loaded(stored.model_dump()) if stored is not None else None
    return said(reason, gettext) if reason is not None else text or ""
