"""Why a call's log went where it did, in en/fr/es: the call's page and the agent's "My calls".

Every code of ``callbridge.rules.match_reason.Why`` (with and without who chose, and every
fallback after records the CRM lacks) is stored on a synced call's sync, and both screens must
say it in the page's language; a sync stored before the codes shows its stored text.
"""

from __future__ import annotations

import gettext

import pytest
from hypothesis import given, settings
from markupsafe import escape
from sqlalchemy import Connection

from callbridge.rules.match_reason import BY_NUMBER, BY_SOMEONE, NOT_IN_CRM, MatchReason, Why
from callbridge.runtime import Runtime
from callbridge.storage import call_history, sql
from callbridge.ui.i18n import translations
from callbridge.ui.match_reasons import MESSAGES, said
from tests.rules.test_match_reason import reasons
from tests.ui.test_calls_ui import synced_call
from tests.ui.test_dialer_ui import NUMBER, _agent_with_email, _record, _sign_in
from tests.ui.ui_client import UiTenant

TRANSLATED = ("fr", "es")
WHO = "Zoé <b>&</b>"  # a name the page must escape


def every_reason() -> list[MatchReason]:
    """Return one reason of each shape the sync stores: each code, by someone or not, each then."""
    found: list[MatchReason] = []
    for code in Why:
        if code in NOT_IN_CRM:
            found += [MatchReason(code, records=("gone-1", "gone-2"), then=t) for t in BY_NUMBER]
        elif code in BY_SOMEONE:
            found += [MatchReason(code), MatchReason(code, who=WHO)]
        else:
            found.append(MatchReason(code))
    return found


ALL = every_reason()


def test_the_reasons_cover_every_code_and_each_has_its_messages() -> None:
    assert {reason.code for reason in ALL} == set(Why)
    assert set(MESSAGES) == set(Why)


@settings(max_examples=200)
@given(reasons())
def test_in_english_the_screens_say_what_the_api_says(reason: MatchReason) -> None:
    assert said(reason, gettext.NullTranslations().gettext) == reason.text


@pytest.mark.parametrize("language", TRANSLATED)
@settings(max_examples=100)
@given(reason=reasons())
def test_in_french_and_spanish_every_reason_is_translated(
    language: str, reason: MatchReason
) -> None:
    shown = said(reason, translations(language).gettext)
    assert shown != reason.text
    for message in MESSAGES[reason.code]:
        assert message is None or message not in shown, "an English message left untranslated"
    if reason.who and reason.code in BY_SOMEONE:
        assert reason.who in shown
    for record in reason.records:
        assert record in shown


async def _store(
    runtime: Runtime, tenant: UiTenant, call_id: str, reason: MatchReason | None
) -> None:
    """Write ``reason`` on the call's sync (None: an English text only, as stored before codes)."""
    text = reason.text if reason else "pre-call: chosen by Ann before dialling"
    company, stored = tenant.company, reason.stored() if reason else None

    def write(db: Connection) -> None:
        call_history.save_sync(
            db, company.company_id, call_id, company.integration_id, runtime.clock(),
            new_run=False, match_rule=text, match_reason=stored,
        )  # fmt: skip

    async with runtime.sessions.begin() as session:
        await sql.run(session, write)


async def _pages(tenant: UiTenant, call_id: str) -> list[str]:
    """Return the call's admin page and the agent's "My calls", as the client reads them now."""
    call = await tenant.client.get(f"/ui/calls/{call_id}")
    mine = await tenant.client.get("/ui/dialer/my-calls")
    assert call.status_code == mine.status_code == 200
    return [call.text, mine.text]


async def _synced_to_ann(runtime: Runtime, tenant: UiTenant) -> str:
    """A call of the agent Ann, synced; Ann and the admin signed in on the tenant's client."""
    token = await _agent_with_email(tenant, "Ann")
    await _record(tenant, "Ann Contact", "contact")
    call_id = await synced_call(runtime, tenant, "c-why", NUMBER, "ann@example.com")
    await tenant.sign_in()
    await _sign_in(tenant, token)
    return call_id


async def test_every_reason_is_said_in_the_pages_language_on_both_screens(
    ui_runtime: Runtime, acme: UiTenant
) -> None:
    call_id = await _synced_to_ann(ui_runtime, acme)
    for reason in ALL:
        await _store(ui_runtime, acme, call_id, reason)
        for language in ("en", *TRANSLATED):
            await acme.client.get(f"/ui/language/{language}")
            shown = str(escape(said(reason, translations(language).gettext)))
            for text in await _pages(acme, call_id):
                assert f'<html lang="{language}">' in text
                assert shown in text, (language, reason)
                if language != "en":
                    assert str(escape(reason.text)) not in text, (language, reason)


async def test_a_sync_stored_before_the_codes_shows_its_text(
    ui_runtime: Runtime, acme: UiTenant
) -> None:
    call_id = await _synced_to_ann(ui_runtime, acme)
    await _store(ui_runtime, acme, call_id, None)
    await acme.client.get("/ui/language/fr")
    for text in await _pages(acme, call_id):
        assert '<html lang="fr">' in text
        assert "pre-call: chosen by Ann before dialling" in text
