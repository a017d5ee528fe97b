"""A form's refusal in the page's language: pydantic's problems said in French and Spanish.

The problems come from real models (pydantic builds each kind's ``ctx``), so a kind whose words
need a value pydantic does not give falls back to English and fails here.
"""

from __future__ import annotations

import enum
import html
from typing import Annotated, Any, Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError

from callbridge.ui.i18n import translations
from callbridge.ui.problems import BY_KIND, Problem, problem, said
from callbridge.web.fields import Name
from callbridge.web.refusals import field_errors
from tests.ui.ui_client import UiTenant

LANGUAGES = ("fr", "es")


class Color(enum.Enum):
    """An enum field."""

    RED = "red"
    BLUE = "blue"


class Every(BaseModel):
    """A model with a field for each kind of problem ``BY_KIND`` says."""

    model_config = ConfigDict(extra="forbid")
    required: str
    short: Annotated[str, Field(min_length=3, max_length=5)] = "abc"
    items: Annotated[list[int], Field(min_length=1, max_length=2)] = [1]
    choice: Literal["a", "b"] = "a"
    color: Color = Color.RED
    whole: int = 0
    real: float = 0.0
    flag: bool = False
    text: str = ""
    at_least: Annotated[int, Field(ge=1)] = 1
    above: Annotated[int, Field(gt=1)] = 2
    at_most: Annotated[int, Field(le=9)] = 1
    below: Annotated[int, Field(lt=9)] = 1
    code: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] = "FR"
    url: HttpUrl = HttpUrl("https://example.com")
    name: Name = "A name"  # pydantic says too_long of a "Value": characters, not items


BAD: dict[str, st.SearchStrategy[Any]] = {
    "short": st.text(max_size=2) | st.text(min_size=6, max_size=20),
    "items": st.just([]) | st.lists(st.integers(), min_size=3, max_size=6),
    "choice": st.sampled_from(["c", "A", ""]),
    "color": st.sampled_from(["green", "RED"]),
    "whole": st.sampled_from(["x", "1.5", []]),
    "real": st.sampled_from(["x", "one"]),
    "flag": st.sampled_from(["maybe", "2"]),
    "text": st.integers() | st.just([1]),
    "at_least": st.integers(max_value=0),
    "above": st.integers(max_value=1),
    "at_most": st.integers(min_value=10),
    "below": st.integers(min_value=9),
    "code": st.sampled_from(["fr", "FRA", "1A"]),
    "url": st.sampled_from(["ftp://x.test", "not a url", "mailto:a@b.c"]),
    "extra": st.integers(),
    "name": st.just("") | st.text("abc é", min_size=201, max_size=240),
}


def _problems(values: dict[str, Any]) -> list[Problem]:
    try:
        Every.model_validate(values)
    except ValidationError as err:
        return [problem(e) for e in field_errors(err.errors())]
    raise AssertionError(f"{values} was accepted")


@settings(max_examples=300)
@given(st.sampled_from(sorted(BAD)).flatmap(lambda k: st.tuples(st.just(k), BAD[k])))
def test_every_problem_of_a_real_model_is_said_in_french_and_spanish(
    bad: tuple[str, Any],
) -> None:
    name, value = bad
    for found in _problems({"required": "x", name: value}):
        assert found.kind in BY_KIND, (found.kind, str(found))
        english = said(found, translations("en").gettext)
        assert english.startswith(f"{name}: "), english
        for language in LANGUAGES:
            shown = said(found, translations(language).gettext)
            assert shown != english, (language, shown)
            assert shown.startswith(f"{name}: ")
            for key, needed in found.ctx.items():
                if key in ("field_type", "actual_length", "error"):  # "List", "201", parser English
                    continue
                assert str(needed) in shown  # the limit, the choices, the pattern


def test_a_long_name_counts_characters_and_a_long_list_items() -> None:
    [name] = _problems({"required": "x", "name": "N" * 201})
    [items] = _problems({"required": "x", "items": [1, 2, 3]})
    assert said(name, translations("fr").gettext) == "name: 200 caractères au plus"
    assert said(items, translations("es").gettext) == "items: como máximo 2 elementos"


def test_a_missing_field_is_said_too() -> None:
    [missing] = _problems({})
    assert said(missing, translations("fr").gettext) == "required: ce champ est obligatoire"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_kind_is_in_the_catalogs(language: str) -> None:
    catalog = translations(language)
    assert {k: catalog.gettext(m) == m for k, m in BY_KIND.items()} == dict.fromkeys(BY_KIND, False)


@given(st.text(max_size=40))
@settings(max_examples=100)
def test_a_message_of_no_known_kind_shows_as_written(text: str) -> None:
    plain = Problem("field", "value_error", text, {})
    assert said(plain, translations("fr").gettext) == str(plain)
    assert said(text, translations("es").gettext) == text


async def test_a_french_admin_reads_the_refusal_in_french(acme: UiTenant) -> None:
    csrf = await acme.sign_in()
    await acme.client.get("/ui/language/fr")
    answer = await acme.client.post(
        f"/ui/integrations/{acme.company.integration_id}",
        data={"csrf": csrf, "name": "N" * 201, "default_region": "FR", "language": "fr"},
    )
    assert answer.status_code == 422
    page = html.unescape(answer.text)
    assert "name: 200 caractères au plus" in page, page[:3000]
    assert "String should have" not in page
