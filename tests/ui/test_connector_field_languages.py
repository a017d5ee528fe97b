"""A connector's field labels and hints in the screens' language (connectors/spec.py's N_)."""

from __future__ import annotations

import pytest
from babel.messages.pofile import read_po
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import escape

from callbridge.connectors.registry import specs
from callbridge.ui import connector_fields as fields
from callbridge.ui.i18n import LOCALES, environment, translations

TRANSLATED = ("fr", "es")


def _texts(connector: str) -> set[str]:
    """Return the labels and hints the connector's form shows, in English."""
    shown = fields.credential_fields(connector) + fields.setting_fields(connector)
    return {f.key.replace("_", " ") for f in shown} | {f.hint for f in shown if f.hint}


def _render(language: str, connector: str, **context: object) -> str:
    template = environment(language).get_template("connector_fields.html")
    values = {
        "connector": connector,
        "editing": False,
        "credential_fields": fields.credential_fields(connector),
        "setting_fields": fields.setting_fields(connector),
        "setting_values": {},
    }
    return template.render(**(values | context))


@pytest.mark.parametrize("language", TRANSLATED)
@pytest.mark.parametrize("connector", sorted(specs()))
def test_every_built_in_field_is_translated(language: str, connector: str) -> None:
    """A model's label or description changed without its spec's N_ mark and catalogs fails."""
    with (LOCALES / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = {m.id: m.string for m in read_po(po) if m.id}
    untranslated = sorted(t for t in _texts(connector) if not catalog.get(t))
    assert not untranslated, f"{connector}: mark in its spec.py and translate: {untranslated}"


@pytest.mark.parametrize(
    ("language", "label", "hint"),
    [
        ("fr", "jeton d\u2019accès", "Durée de vie du cache des recherches par téléphone"),
        ("es", "token de acceso", "Duración de la caché de búsquedas por teléfono"),
        ("en", "access token", "Phone lookup cache lifetime"),
    ],
)
def test_the_form_shows_them_translated(language: str, label: str, hint: str) -> None:
    html = _render(language, "hubspot")
    assert label in html
    assert hint in html


@given(
    key=st.from_regex(r"[a-z]{1,8}(_[a-z]{1,8}){0,2}", fullmatch=True), hint=st.text(max_size=80)
)
def test_a_third_party_field_shows_its_english(key: str, hint: str) -> None:
    """Unknown to the catalogs: shown as declared, escaped, never %-formatted."""
    field = fields.Field(key=key, kind="text", required=False, hint=hint or None)
    html = _render("fr", "acme", credential_fields=[], setting_fields=[field])
    label = key.replace("_", " ")
    if translations("fr").gettext(label) == label:
        assert f">{label}<" in html
    if hint and translations("fr").gettext(hint) == hint:
        assert str(escape(hint)) in html
