"""Messages built in Python follow the pages' language order: pick, company, browser, en."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from callbridge.storage.accounts import Principal
from callbridge.ui.i18n import LANG_COOKIE
from callbridge.ui.render import gettext_of
from callbridge.ui.session import Admin

MESSAGE = "Choose a past call to try the draft on."
SAID = {
    "en": MESSAGE,
    "fr": "Choisissez un appel passé pour essayer le brouillon.",
    "es": "Elija una llamada pasada para probar el borrador.",
}


def _request(cookie: str | None, browser: str | None) -> Request:
    headers = []
    if cookie is not None:
        headers.append((b"cookie", f"{LANG_COOKIE}={cookie}".encode()))
    if browser is not None:
        headers.append((b"accept-language", browser.encode()))
    return Request({"type": "http", "method": "POST", "path": "/ui", "headers": headers})


def _admin(language: str | None) -> Admin:
    return Admin(principal=Principal(company_id="c", key_id="k"), csrf="t", language=language)


@pytest.mark.parametrize(
    ("cookie", "company", "browser", "expected"),
    [
        ("es", "fr", "fr", "es"),  # the UI's pick wins
        (None, "fr", "es", "fr"),  # then the company's language
        (None, "es", None, "es"),
        (None, None, "fr-FR", "fr"),  # then the browser's
        ("de", None, "es", "es"),  # a pick the UI does not speak is ignored
        (None, None, "de", "en"),  # else English
    ],
)
def test_python_messages_follow_the_pages_order(
    cookie: str | None, company: str | None, browser: str | None, expected: str
) -> None:
    _ = gettext_of(_request(cookie, browser), _admin(company))
    assert _(MESSAGE) == SAID[expected]


def test_without_an_admin_the_browser_decides() -> None:
    assert gettext_of(_request(None, "es"))(MESSAGE) == SAID["es"]
