"""The UI's languages: every message translated in French and Spanish, catalogs compiled, chosen."""

from __future__ import annotations

import gettext
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from callbridge.api.app import create_app
from callbridge.runtime import Runtime
from callbridge.settings import Settings
from callbridge.ui import i18n
from callbridge.ui.mount import mount

UI = Path(i18n.__file__).parent
TRANSLATED = ("fr", "es")


def _extracted() -> set[str]:
    """Return every message the templates and the UI's code ask to translate, read afresh."""
    with (UI / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)  # type: ignore[no-untyped-call]
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(UI, method_map, options_map):
        found.add(message if isinstance(message, str) else message[0])
    return found


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated(language: str) -> None:
    with (UI / "locales" / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = {m.id: m.string for m in read_po(po) if m.id}
    messages = _extracted()
    assert len(messages) > 50, "the extraction no longer reads the templates"
    untranslated = sorted(m for m in messages if not catalog.get(m))
    assert not untranslated, f"translate in {language}: {untranslated}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_compiled_catalog_is_the_po_file(language: str) -> None:
    """The .mo shipped is compiled from the .po (`pybabel compile -d locales`, docs/ui.md)."""
    folder = UI / "locales" / language / "LC_MESSAGES"
    with (folder / "messages.po").open("rb") as po:
        source = {m.id: m.string for m in read_po(po) if m.id}
    assert len(source) > 50, "the catalog no longer reads: the loop below would check nothing"
    compiled = gettext.GNUTranslations((folder / "messages.mo").open("rb"))
    for message, translation in source.items():
        assert compiled.gettext(str(message)) == translation


@given(st.text(max_size=200))
def test_any_accept_language_header_reads_without_error(header: str) -> None:
    assert all(isinstance(tag, str) and tag for tag in i18n.accepted(header))


def test_accept_language_is_ranked_by_quality() -> None:
    assert i18n.accepted("fr-CA;q=0.8, es;q=0.9, *;q=0.1, de;q=0") == ["es", "fr_CA"]


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    runtime = Runtime.create(Settings(data_dir=tmp_path, database_url=None))
    return TestClient(mount(create_app(runtime)))


@pytest.mark.parametrize(
    ("header", "expected"),
    [("fr-FR,fr;q=0.9", "Se connecter"), ("es", "Iniciar sesión"), ("de", "Sign in")],
)
def test_the_browser_language_is_followed(client: TestClient, header: str, expected: str) -> None:
    answer = client.get("/ui/sign-in", headers={"Accept-Language": header})
    assert f"<h1>{expected}</h1>" in answer.text


def test_a_picked_language_wins_over_the_browsers(client: TestClient) -> None:
    picked = client.get("/ui/language/es?back=/ui/sign-in", follow_redirects=False)
    assert picked.status_code == 303
    assert picked.headers["location"] == "/ui/sign-in"
    answer = client.get("/ui/sign-in", headers={"Accept-Language": "fr"})
    assert '<html lang="es">' in answer.text
    assert "Iniciar sesión" in answer.text


def test_the_language_switch_goes_back_only_inside_the_ui(client: TestClient) -> None:
    for back in ("https://evil.example/", "//evil.example/ui/", "/docs"):
        answer = client.get("/ui/language/fr", params={"back": back}, follow_redirects=False)
        assert answer.headers["location"] == "/ui/integrations"
    assert client.get("/ui/language/de", follow_redirects=False).status_code == 404
