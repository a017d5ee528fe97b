"""The UI's languages: gettext catalogs compiled by Babel, chosen per request."""

from __future__ import annotations

import gettext
from functools import cache, partial
from pathlib import Path

from babel.core import negotiate_locale
from fastapi import Request
from jinja2 import Environment, FileSystemLoader, select_autoescape

from callbridge.ui import labels, match_reasons, problems, said, scenarios

LOCALES = Path(__file__).parent / "locales"
TEMPLATES = Path(__file__).parent / "templates"
#: The languages of the screens; English is the source language of the templates.
LANGUAGES = ("en", "fr", "es")
LANGUAGE_NAMES = {"en": "English", "fr": "Français", "es": "Español"}
#: The cookie keeping a language picked with the switcher, over the browser's preference.
LANG_COOKIE = "cb_lang"


def translations(language: str) -> gettext.NullTranslations:
    """Return the compiled catalog of ``language`` (English: the templates' own text)."""
    if language == "en":
        return gettext.NullTranslations()
    return gettext.translation("messages", LOCALES, languages=[language])


@cache
def environment(language: str) -> Environment:
    """Return the Jinja2 environment rendering the templates in ``language``."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    catalog = translations(language)
    env.install_gettext_translations(catalog, newstyle=True)  # type: ignore[attr-defined]
    # A text known only at run time (a connector's field label or hint): its translation if the
    # catalog has one, else as given; escaped like any value, never %-formatted.
    env.globals["translated"] = catalog.gettext
    # Why a call's log went where it did, from its stored code (ui/match_reasons.py).
    env.globals["said_why"] = partial(match_reasons.why, gettext=catalog.gettext)
    # The API's codes (a state, an event's kind, a status…) in words (ui/labels.py).
    env.globals["label"] = partial(labels.label, gettext=catalog.gettext)
    # A form's refusal: the API's validation problems in the page's language (ui/problems.py).
    env.globals["refusal"] = partial(problems.said, gettext=catalog.gettext)
    # An explanation from its code (a reason, a skip, a dry run's scenario line: ui/said.py),
    # and a scenario's key in words (ui/scenarios.py).
    env.globals["said"] = partial(said.said, gettext=catalog.gettext)
    env.globals["scenario"] = partial(scenarios.scenario, gettext=catalog.gettext)
    return env


def accepted(header: str) -> list[str]:
    """Return the languages of an Accept-Language header, preferred first."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and tag != "*" and quality > 0:
            ranked.append((-quality, position, tag.strip().replace("-", "_")))
    return [tag for _, _, tag in sorted(ranked)]


def language_of(request: Request, company: str | None = None) -> str:
    """Return the language to answer in: the UI's pick, the company's, the browser's, or en."""
    picked = request.cookies.get(LANG_COOKIE, "")
    if picked in LANGUAGES:
        return picked
    if company in LANGUAGES:
        return company
    preferred = accepted(request.headers.get("accept-language", "")[:500])
    found = negotiate_locale(preferred, list(LANGUAGES), sep="_")
    return found.split("_")[0] if found else "en"
