"""The API routes' own refusals said in the page's language, by their code and values.

Every code a route can refuse with (``refusal_codes.CODES``) has words in ``ui/refusal_words``
translated in French and Spanish, each naming the values the refusal carries; real routes'
refusals (a field's, a matrix problem's, a conflict's) reach the pages translated.
"""

from __future__ import annotations

import asyncio
import html
import json
import string
import uuid
from typing import Any

import phonenumbers
import pytest
from fastapi import HTTPException
from hypothesis import given, settings
from hypothesis import strategies as st

from callbridge.refusal_codes import CODES, Refusal, refusal
from callbridge.ui.forms import Refused, through_api
from callbridge.ui.i18n import translations
from callbridge.ui.labels import choosing_off
from callbridge.ui.problems import coded, problem, said
from callbridge.ui.refusal_words import WORDS
from callbridge.web.refusals import refuse
from tests.ui.ui_client import UiTenant, csrf_of

LANGUAGES = ("fr", "es")


def _names(code: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(CODES[code]) if name}


#: A parameter's value: an id, a name, a number (never empty, so it can be found in the text).
VALUES = st.text(string.ascii_letters + string.digits + "-_+", min_size=3, max_size=16) | (
    st.integers(min_value=100, max_value=10**9)
)


@st.composite
def refusals(draw: st.DrawFn) -> Refusal:
    """Draw a refusal of any code, its parameters filled with drawn values."""
    code = draw(st.sampled_from(sorted(CODES)))
    return refusal(code, **{name: draw(VALUES) for name in _names(code)})


def test_every_code_has_words_naming_its_values() -> None:
    assert set(WORDS) == set(CODES)
    for code, words in WORDS.items():
        named = _names(code)
        assert all(f"%({name})s" in words for name in named), code
        assert words.count("%(") == sum(CODES[code].count("{" + n + "}") for n in named), code


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_code_is_translated(language: str) -> None:
    catalog = translations(language)
    untranslated = [code for code, words in WORDS.items() if catalog.gettext(words) == words]
    assert untranslated == []


@settings(max_examples=400)
@given(refusals(), st.sampled_from(["", "default_region", "rules.0.actions.1.type"]))
def test_every_refusal_is_said_in_french_and_spanish_with_its_values(
    said_by_api: Refusal, where: str
) -> None:
    shown_by = {"": coded(said_by_api, where)}
    detail: Any = refuse(("body", *where.split(".")) if where else ("body",), said_by_api).detail
    entry = detail[0]
    assert entry["type"] == said_by_api.code and entry["msg"] == str(said_by_api)
    shown_by["422"] = problem(entry)
    for message in shown_by.values():
        english = said(message, translations("en").gettext)
        assert english == (f"{where}: {said_by_api}" if where else str(said_by_api))
        for language in LANGUAGES:
            shown = said(message, translations(language).gettext)
            assert shown != english, (language, shown)
            assert shown.startswith(f"{where}: " if where else "")
            for value in said_by_api.params.values():
                assert str(value) in shown, (language, value, shown)


@given(refusals())
@settings(max_examples=100)
def test_a_route_refusal_reaches_a_form_with_its_code(said_by_api: Refusal) -> None:
    async def route() -> None:
        raise HTTPException(409, said_by_api)

    with pytest.raises(Refused) as refused:
        asyncio.run(through_api(route()))
    [message] = refused.value.messages
    assert message == str(said_by_api)
    spanish = said(message, translations("es").gettext)
    assert spanish == translations("es").gettext(WORDS[said_by_api.code]) % {
        k: str(v) for k, v in said_by_api.params.items()
    }


def test_choosing_off_reads_the_code() -> None:
    for gate in ("no_permission", "option_off"):
        message = coded(refusal(f"selection_{gate}"))
        assert choosing_off([message]) == gate
    assert choosing_off(["no call c1 of yours"]) == "no call c1 of yours"


def _unknown_regions() -> list[str]:
    letters = string.ascii_uppercase
    pairs = (a + b for a in letters for b in letters)
    return [r for r in pairs if r not in phonenumbers.SUPPORTED_REGIONS][::97][:3]


@pytest.mark.parametrize("language", LANGUAGES)
async def test_an_unknown_region_is_refused_in_the_pages_language(
    acme: UiTenant, language: str
) -> None:
    csrf = await acme.sign_in()
    await acme.client.get(f"/ui/language/{language}")
    expected = {"fr": "région inconnue '{}'", "es": "región desconocida '{}'"}[language]
    for region in _unknown_regions():
        answer = await acme.client.post(
            "/ui/integrations/new",
            data={"csrf": csrf, "connector": "local", "name": "CRM", "default_region": region},
        )
        assert answer.status_code == 422, answer.text[:2000]
        page = html.unescape(answer.text)
        assert expected.format(region) in page, page[:4000]
        assert "unknown region" not in page


def _bad_matrix(kind: str) -> dict[str, Any]:
    actions = [{"type": kind}, {"type": "create_task", "due_in_minutes": -5}]
    return {"rules": [{"name": "r", "actions": actions}], "voicemail_is_missed": "yes"}


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("fr", ("type inconnu 'fly'", "doit valoir vrai ou faux", "nombre entier de minutes")),
        ("es", ("type desconocido 'fly'", "debe ser verdadero o falso", "número entero")),
    ],
)
async def test_a_matrix_problem_is_said_in_the_pages_language(
    acme: UiTenant, language: str, words: tuple[str, ...]
) -> None:
    csrf = await acme.sign_in()
    await acme.client.get(f"/ui/language/{language}")
    url = f"/ui/integrations/{acme.company.integration_id}/matrix"
    answer = await acme.client.post(
        url, data={"csrf": csrf, "matrix": json.dumps(_bad_matrix("fly"))}
    )
    page = html.unescape(answer.text)
    for said_here in words:
        assert said_here in page, (said_here, page[:6000])
    assert "must be true or false" not in page and "unknown type" not in page
    too_long = await acme.client.post(url, data={"csrf": csrf, "matrix": " " * 200_001})
    limit = {"fr": "la matrice dépasse", "es": "la matriz supera"}[language]
    assert limit in html.unescape(too_long.text)


@pytest.mark.parametrize(
    ("language", "words"),
    [("fr", "a des membres : déplacez-les"), ("es", "tiene miembros: muévalos")],
)
async def test_a_conflict_is_said_in_the_pages_language(
    acme: UiTenant, language: str, words: str
) -> None:
    csrf = await acme.sign_in()
    await acme.client.get(f"/ui/language/{language}")
    await acme.client.post("/ui/teams", data={"csrf": csrf, "name": "Sales"})
    again = await acme.client.post("/ui/teams", data={"csrf": csrf, "name": "Sales"})
    assert again.status_code == 409
    exists = {"fr": "une équipe nommée 'Sales' existe déjà", "es": "ya existe un equipo llamado"}
    assert exists[language] in html.unescape(again.text)
    key = {"Authorization": f"Bearer {acme.company.api_key}"}
    teams = await acme.client.get("/teams", headers=key)
    team = teams.json()[0]["id"]
    await acme.client.post("/ui/users", data={"csrf": csrf, "name": "Bo", "team_id": team})
    busy = await acme.client.post(f"/ui/teams/{team}/delete", data={"csrf": csrf})
    assert busy.status_code == 409
    page = html.unescape(busy.text)
    assert words in page and team in page
    assert "has members" not in page


@pytest.mark.parametrize(
    ("language", "words"),
    [("fr", "aucune intégration {} dans cette entreprise"), ("es", "ninguna integración {} en")],
)
async def test_a_404_is_said_in_the_pages_language(
    acme: UiTenant, language: str, words: str
) -> None:
    await acme.sign_in()
    await acme.client.get(f"/ui/language/{language}")
    unknown = str(uuid.uuid4())
    answer = await acme.client.get(f"/ui/integrations/{unknown}")
    assert answer.status_code == 404
    page = html.unescape(answer.text)
    assert words.format(unknown) in page, page[:3000]
    assert "in this company" not in page


@pytest.mark.parametrize(
    ("language", "words"),
    [("fr", "jeton inconnu ou révoqué"), ("es", "token desconocido o revocado")],
)
async def test_an_unknown_agent_token_is_said_in_the_pages_language(
    acme: UiTenant, language: str, words: str
) -> None:
    await acme.client.get(f"/ui/language/{language}")
    form = await acme.client.get("/ui/dialer/sign-in")
    token = "cba_" + uuid.uuid4().hex
    answer = await acme.client.post(
        "/ui/dialer/sign-in", data={"csrf": csrf_of(form.text), "token": token}
    )
    assert answer.status_code == 401, answer.text[:2000]
    page = html.unescape(answer.text)
    assert words in page, page[:3000]
    assert "unknown or revoked token" not in page
