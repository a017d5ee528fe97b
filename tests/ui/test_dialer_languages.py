"""The agent's dialer speaks the company's language: the agent's pick, the company's, the browser's.

The same order as the admin's screens (``callbridge.ui.i18n.language_of``); no browser header is
sent unless a test says so (httpx sends no Accept-Language).
"""

from __future__ import annotations

import uuid

import pytest

from callbridge.refusal_codes import CODES
from callbridge.runtime import Runtime
from callbridge.ui.i18n import translations
from tests.ui.test_calls_ui import synced_call
from tests.ui.test_dialer_ui import NUMBER, _agent_with_email, _sign_in
from tests.ui.ui_client import UiTenant

OFF = "Choosing is off, the automatic match applies:"
MINE = "My calls"


async def _set_language(tenant: UiTenant, language: str | None) -> None:
    headers = {"Authorization": f"Bearer {tenant.company.api_key}"}
    answer = await tenant.client.patch("/company", json={"language": language}, headers=headers)
    assert answer.status_code == 200, answer.text


async def _dialer_pages(tenant: UiTenant, call_id: str, browser: str | None = None) -> list[str]:
    """Return every dialer page and fragment an agent reads, asked with ``browser``'s header."""
    headers = {"Accept-Language": browser} if browser else {}
    paths = [
        "/ui/dialer",
        f"/ui/dialer?number={NUMBER}",
        "/ui/dialer/my-calls",
        f"/ui/dialer/candidates?number={NUMBER}",
        f"/ui/dialer/calls/{call_id}",
    ]
    answers = [await tenant.client.get(path, headers=headers) for path in paths]
    assert [a.status_code for a in answers] == [200] * len(paths), [a.text for a in answers]
    return [a.text for a in answers]


def _in(language: str, pages: list[str]) -> None:
    """Check every page says the dialer's words in ``language`` (and the full pages declare it)."""
    said = translations(language).gettext
    full, fragments = pages[:3], pages[3:]
    for text in full:
        assert f'<html lang="{language}">' in text
    assert said(MINE) in pages[0] and said(MINE) in pages[2]
    for text in (pages[1], *fragments):
        assert said(OFF) in text, text[:300]
        assert language == "en" or OFF not in text


async def _agents_call(runtime: Runtime, tenant: UiTenant) -> str:
    """Sign in an agent who may not choose (the fragments say why, translated); their call."""
    token = await _agent_with_email(tenant, "Ann")
    call_id = await synced_call(runtime, tenant, "c-lang", NUMBER, "ann@example.com")
    await _sign_in(tenant, token)
    return call_id


@pytest.mark.parametrize("language", ["fr", "es"])
async def test_the_dialer_follows_the_companys_language_without_a_browser_header(
    ui_runtime: Runtime, acme: UiTenant, globex: UiTenant, language: str
) -> None:
    call_id = await _agents_call(ui_runtime, acme)
    _in("en", await _dialer_pages(acme, call_id))
    await _set_language(acme, language)
    _in(language, await _dialer_pages(acme, call_id))
    _in(language, await _dialer_pages(acme, call_id, browser="en"))  # the company's over it
    await _set_language(globex, "es" if language == "fr" else "fr")  # another company's
    _in(language, await _dialer_pages(acme, call_id))


async def test_the_agents_pick_wins_and_none_goes_back_to_the_browser(
    ui_runtime: Runtime, acme: UiTenant
) -> None:
    call_id = await _agents_call(ui_runtime, acme)
    await _set_language(acme, "fr")
    await acme.client.get("/ui/language/es")
    _in("es", await _dialer_pages(acme, call_id))
    acme.client.cookies.delete("cb_lang")
    await _set_language(acme, None)
    _in("es", await _dialer_pages(acme, call_id, browser="es-ES"))
    _in("en", await _dialer_pages(acme, call_id))


@pytest.mark.parametrize("language", ["fr", "es"])
async def test_a_call_nobody_has_is_said_in_the_company_language(
    ui_runtime: Runtime, acme: UiTenant, language: str
) -> None:
    """The records of a call nobody has: a 404 whose refusal is in words, not the API's English."""
    await _agents_call(ui_runtime, acme)
    await _set_language(acme, language)
    call_id = str(uuid.uuid4())
    page = await acme.client.get(f"/ui/dialer/calls/{call_id}")
    assert page.status_code == 404
    english = CODES["no_call_of_yours"].format(call_id=call_id)
    said = translations(language).gettext("no call %(call_id)s of yours") % {"call_id": call_id}
    assert english not in page.text and said in page.text
    assert translations(language).gettext(OFF) not in page.text  # a missing call, not "off"
