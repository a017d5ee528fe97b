"""Every screen in French and Spanish shows none of the English messages the app knows.

The screens are read from the app (every GET route under /ui, its ids filled with the company's
own rows: a synced call, a dead sync, a team, an agent and a token), so a screen added tomorrow is
walked too. The English messages are those of the catalogs whose translation differs from the
English; a message rendered without gettext, or a code's English text that reached a page,
fails with the page and the message.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from starlette.routing import Route

from callbridge.api.app import create_app
from callbridge.runtime import Runtime
from callbridge.ui import i18n
from callbridge.ui.mount import mount
from tests.ui.test_calls_ui import synced_call
from tests.ui.test_dialer_ui import _sign_in
from tests.ui.test_ui_tenancy import PARAM, _ids, _leaves
from tests.ui.ui_client import UiTenant

LOCALES = Path(i18n.__file__).parent / "locales"
#: Screens that answer no page of their own (a redirect, a stream, a file).
NOT_PAGES = ("/ui/language/", "/ui/sign-out", "/ui/dialer/sign-out", "/ui/static")
#: The dialer's event stream never ends: its events are checked by the dialer's own tests.
STREAMS = ("/ui/dialer/events",)
#: A message shorter than this many words may be the same in another language ("Email", "OK").
MIN_WORDS = 3
_HIDDEN = re.compile(r"<(script|style)\b.*?</\1>", re.S | re.I)
_SHOWN_ATTRIBUTE = re.compile(r'\b(?:title|placeholder|aria-label|alt)="([^"]*)"')
_TAG = re.compile(r"<[^>]+>")
_PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}")


@cache
def english_messages(language: str) -> frozenset[str]:
    """Return the English pieces of every message translated otherwise in ``language``.

    A message with parameters gives its literal pieces between them, each of MIN_WORDS words
    or more; a message without any gives itself.
    """
    with (LOCALES / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po)
    pieces = set()
    for message in catalog:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not ids[0] or not strings[0] or ids[0] == strings[0]:
            continue
        for english in map(str, ids):
            pieces |= {
                piece.strip(" .:,;")
                for piece in _PLACEHOLDER.split(english)
                if len(piece.split()) >= MIN_WORDS
            }
    return frozenset(pieces)


def shown_text(page: str) -> str:
    """Return what a reader sees or hears of a page: its text and its labelling attributes."""
    page = _HIDDEN.sub(" ", page)
    labels = " ".join(_SHOWN_ATTRIBUTE.findall(page))
    return " ".join(html.unescape(_TAG.sub(" ", page) + " " + labels).split())


def screen_pages(runtime: Runtime) -> list[str]:
    """Return the path of every GET route under /ui that answers a page."""
    app = mount(create_app(runtime))
    paths = {
        route.path
        for route in _leaves(app.routes)
        if isinstance(route, Route) and "GET" in (route.methods or ())
    }
    pages = (p for p in paths if p.startswith("/ui") and not p.startswith(NOT_PAGES))
    return sorted(p for p in pages if p not in STREAMS)


def filled(path: str, ids: dict[str, str]) -> Iterator[str]:
    """Yield ``path`` with its ids the company's own (nothing when a kind of id is missing)."""
    names = PARAM.findall(path)
    if all(name in ids for name in names):
        for name in names:
            path = path.replace("{" + name + "}", ids[name])
        yield path


@pytest.mark.parametrize("language", ["fr", "es"])
async def test_no_screen_shows_a_known_english_message(
    ui_runtime: Runtime, acme: UiTenant, language: str
) -> None:
    ids = await _ids(ui_runtime, acme, await synced_call(ui_runtime, acme, "c-translated"))
    english = english_messages(language)
    assert len(english) > 100, len(english)  # the catalog was read, not an empty file
    await acme.sign_in()
    await acme.client.get(f"/ui/language/{language}")
    await _sign_in(acme, ids.agent_token)  # the agent's session beside the admin's
    shown_english: dict[str, list[str]] = {}
    for path in screen_pages(ui_runtime):
        for url in filled(path, ids.by_param):
            answer = await acme.client.get(url)
            assert answer.status_code < 500, f"{url}: {answer.status_code}"
            if answer.status_code != 200 or "text/html" not in answer.headers["content-type"]:
                continue
            text = shown_text(answer.text)
            shown_english[url] = sorted(message for message in english if message in text)
    assert len(shown_english) >= 20, shown_english  # the screens were walked, not skipped
    left = {url: messages for url, messages in shown_english.items() if messages}
    assert not left, f"pages in {language} showing English: {left}"
