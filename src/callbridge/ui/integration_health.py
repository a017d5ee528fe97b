"""An integration's health on the integrations screen, said in the page's language.

Built from codes and times, never from the API's English text: the status, the code of its
reason (``status_reason_code``, see :data:`callbridge.storage.integrations.REASON_CODES`), the
CRM's state as its circuit breaker sees it with the outage's start, and the end of a daily API
limit. Times are written by Babel for the page's locale, in the company's time zone when it
has one, else in UTC, the zone named after the time. A reason stored without a code (before
migration 0018, or a code this version does not know) is shown as stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from callbridge.api.integration_models import IntegrationShown
from callbridge.ui.times import DEFAULT_ZONE, written


def N_(text: str) -> str:
    """Mark ``text`` for the catalogs (``pybabel extract``); it is translated when shown."""
    return text


#: Each status's name on the screen.
STATUSES = {"active": N_("Active"), "paused": N_("Paused"), "disabled": N_("Disabled")}
#: Why it is paused or disabled, by ``status_reason_code``.
REASONS = {
    "credentials_refused": N_("The CRM refused the credentials."),
    "no_credentials": N_("No credentials are entered for this CRM."),
    "token_refresh_refused": N_("The CRM refused to renew the access token (OAuth)."),
    "disabled_by_admin": N_("Disabled by an admin: no call is synced to this CRM."),
}
#: The CRM's state while its circuit breaker is open (``unreachable``) or probing.
UNREACHABLE = {
    "unreachable": N_("CRM unreachable since %(since)s; next try at %(next)s."),
    "probing": N_("CRM unreachable since %(since)s; a sync is trying it again now."),
}
LIMITED = N_("The CRM's daily API limit is used up: its calls wait until %(until)s.")


@dataclass(frozen=True)
class Health:
    """What the health cell shows: the status, its reason, the CRM's state (all translated)."""

    status: str
    label: str
    reason: str | None
    crm: tuple[str, ...]


def when(moment: datetime, language: str, zone: str | None) -> str:
    """Return ``moment`` as the page's locale writes it, in ``zone`` (else UTC), zone named."""
    return f"{written(moment, language, zone or DEFAULT_ZONE)} {zone or DEFAULT_ZONE}"


def outage(
    state: str | None,
    since: datetime | None,
    next_probe_at: datetime | None,
    gettext: Callable[[str], str],
    language: str,
    now: datetime,
    zone: str | None = None,
) -> str | None:
    """Return the CRM's outage (its breaker's ``state``) as ``language`` says it; None if none."""
    if state not in UNREACHABLE or since is None:
        return None
    at = {"since": when(since, language, zone), "next": when(next_probe_at or now, language, zone)}
    return gettext(UNREACHABLE[state]) % at


def health(
    integration: IntegrationShown,
    gettext: Callable[[str], str],
    language: str,
    now: datetime,
    zone: str | None = None,
) -> Health:
    """Return the integration's health as the page in ``language`` (``gettext``) says it."""
    status = integration.status
    label = gettext(STATUSES[status]) if status in STATUSES else status
    code = integration.status_reason_code
    reason = gettext(REASONS[code]) if code in REASONS else integration.status_reason
    state = integration.crm_status
    said = outage(state.state, state.since, state.next_probe_at, gettext, language, now, zone)
    crm = [said] if said else []
    limited = integration.limited_until
    if limited is not None and limited > now:
        crm.append(gettext(LIMITED) % {"until": when(limited, language, zone)})
    return Health(status, label, reason if status != "active" else None, tuple(crm))
