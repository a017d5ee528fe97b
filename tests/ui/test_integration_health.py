"""The health cell's words for any time, zone, state and language (ui/integration_health.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from hypothesis import given, settings
from hypothesis import strategies as st

from callbridge.api.integration_models import CrmStatus, IntegrationShown
from callbridge.storage.integrations import REASON_CODES
from callbridge.ui.i18n import LANGUAGES, translations
from callbridge.ui.integration_health import LIMITED, REASONS, UNREACHABLE, health

NOW = datetime(2026, 12, 7, 4, 0, tzinfo=UTC)
ZONES = [None, "Europe/Paris", "America/Mexico_City", "Asia/Kolkata"]
moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2099, 1, 1), timezones=st.just(UTC)
)


def _integration(**values: Any) -> IntegrationShown:
    reachable = CrmStatus(state="reachable", since=None, next_probe_at=None, message=None)
    fields: dict[str, Any] = {
        "status": "active",
        "status_reason": None,
        "status_reason_code": None,
        "limited_until": None,
        "crm_status": reachable,
    }
    return IntegrationShown.model_construct(**(fields | values))


def _written(moment: datetime, language: str, zone: str | None) -> str:
    local = ZoneInfo(zone or "UTC")
    return f"{format_datetime(moment, 'medium', tzinfo=local, locale=language)} {zone or 'UTC'}"


@settings(max_examples=150)
@given(
    since=moments,
    ahead=st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=400)),
    state=st.sampled_from(sorted(UNREACHABLE)),
    language=st.sampled_from(LANGUAGES),
    zone=st.sampled_from(ZONES),
)
def test_the_crms_state_is_said_with_its_times_in_the_pages_locale_and_zone(
    since: datetime, ahead: timedelta, state: str, language: str, zone: str | None
) -> None:
    outage = CrmStatus.model_validate(
        {"state": state, "since": since, "next_probe_at": NOW + ahead, "message": None}
    )
    shown = _integration(crm_status=outage, limited_until=NOW + ahead)
    said = health(shown, translations(language).gettext, language, NOW, zone)
    gettext = translations(language).gettext
    times = {
        "since": _written(since, language, zone),
        "next": _written(NOW + ahead, language, zone),
    }
    assert said.crm == (
        gettext(UNREACHABLE[state]) % times,
        gettext(LIMITED) % {"until": times["next"]},
    )
    if language != "en":
        for english in (UNREACHABLE[state], LIMITED):
            assert english.split("%(")[0] not in " ".join(said.crm)


@settings(max_examples=60)
@given(
    until=moments.filter(lambda moment: moment <= NOW),
    language=st.sampled_from(LANGUAGES),
)
def test_a_daily_limit_that_ended_is_not_shown(until: datetime, language: str) -> None:
    shown = _integration(limited_until=until)
    assert health(shown, translations(language).gettext, language, NOW).crm == ()


@settings(max_examples=60)
@given(
    status=st.sampled_from(["paused", "disabled"]),
    code=st.sampled_from([*REASON_CODES, "a_code_from_a_later_version", None]),
    stored=st.text(min_size=1, max_size=40),
    language=st.sampled_from(LANGUAGES),
)
def test_a_reason_is_said_from_its_code_else_as_stored(
    status: str, code: str | None, stored: str, language: str
) -> None:
    shown = _integration(status=status, status_reason=stored, status_reason_code=code)
    said = health(shown, translations(language).gettext, language, NOW)
    if code in REASONS:
        assert said.reason == translations(language).gettext(REASONS[code])
        assert language == "en" or said.reason != REASONS[code]
    else:
        assert said.reason == stored
