"""Every explanation code, scenario key and the codes they name, in words in en/fr/es.

``callbridge.ui.said`` holds a message for each :class:`~callbridge.domain.said.Code` and
``callbridge.ui.scenarios`` the words of each scenario part and named code; a code without its
message, or a message without its French and Spanish, fails here.
"""

from __future__ import annotations

import gettext
import itertools
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from hypothesis import given, settings
from hypothesis import strategies as st

from callbridge.domain.call import CallType
from callbridge.domain.event import Direction
from callbridge.domain.phone import NoNumberReason
from callbridge.domain.said import Code, Said
from callbridge.rules.default_matrix import DEFAULT_MATRIX_JSON
from callbridge.rules.policy import CreationPolicy
from callbridge.rules.scenario import Client, Employee, Outcome, Scenario
from callbridge.ui import said, scenarios
from callbridge.ui.i18n import LOCALES, translations
from callbridge.ui.integration_health import REASONS
from tests.domain.test_said import params_of

TRANSLATED = ("fr", "es")
NULL = gettext.NullTranslations().gettext
#: Every scenario the matrix speaks of.
KEYS = [
    Scenario(client, direction, outcome, employee).key
    for direction, client, outcome, employee in itertools.product(
        (Direction.INCOMING, Direction.OUTGOING), Client, Outcome, Employee
    )
]


def _messages() -> set[str]:
    """Return every message of the two modules."""
    found = set(said.MESSAGES.values()) | set(said._FIRST.values())
    found |= {sides for sides, _ in said.DRY_RUN.values()}
    for table in (*scenarios.PARTS, scenarios.NO_NUMBER, scenarios.CALL_TYPES):
        found |= set(table.values())
    return found | set(scenarios.POLICIES.values())


def test_every_code_and_every_value_named_has_its_words() -> None:
    assert set(said.MESSAGES) | set(said.DRY_RUN) == set(Code)
    assert not set(said.MESSAGES) & set(said.DRY_RUN)
    assert [set(table) for table in scenarios.PARTS] == [
        set(Direction), set(Client), set(Outcome), set(Employee)
    ]  # fmt: skip
    assert set(scenarios.NO_NUMBER) == set(NoNumberReason)
    assert set(scenarios.CALL_TYPES) == set(CallType)
    assert set(scenarios.POLICIES) == set(CreationPolicy)


@pytest.mark.parametrize("code", sorted(said.MESSAGES))
def test_a_message_names_the_parameters_of_its_english_text(code: Code) -> None:
    assert sorted(re.findall(r"%\((\w+)\)s", said.MESSAGES[code])) == params_of(code)


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_has_its_translation_in_the_catalog(language: str) -> None:
    with (Path(LOCALES) / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = {str(m.id): str(m.string) for m in read_po(po) if m.id}
    for message in _messages():
        assert catalog.get(message), (language, message)
        assert translations(language).gettext(message) == catalog[message]  # compiled too


def test_the_default_matrix_names_only_known_scenario_parts() -> None:
    for rule in DEFAULT_MATRIX_JSON["rules"]:
        for part, value in rule["when"].items():
            table = {"direction": 0, "client": 1, "outcome": 2, "employee": 3}[part]
            assert value in scenarios.PARTS[table], (rule["name"], part)


@pytest.mark.parametrize("language", TRANSLATED)
@pytest.mark.parametrize("key", KEYS)
def test_every_scenario_key_is_said_in_words(language: str, key: str) -> None:
    english = scenarios.scenario(key, NULL)
    shown = scenarios.scenario(key, translations(language).gettext)
    assert key not in shown and english not in shown
    assert len(shown.split(", ")) == 4


def test_a_key_this_version_does_not_know_shows_as_it_is() -> None:
    for key in ("incoming.new.answered", "incoming.old.answered.known", "x"):
        assert scenarios.scenario(key, NULL) == key
    assert scenarios.scenario(None, NULL) == ""


@st.composite
def explanations(draw: st.DrawFn) -> Said:
    """Draw any code with its parameters as the code writes them (codes where they are)."""
    code = draw(st.sampled_from(list(Code)))
    named = {
        "saved": st.sampled_from([*KEYS, "internal"]),
        "draft": st.sampled_from([*KEYS, "internal"]),
        "first": st.sampled_from(KEYS),
        "why": st.sampled_from(list(NoNumberReason)),
        "kinds": st.lists(st.sampled_from(list(CallType)), min_size=1, unique=True).map(
            lambda kinds: ", ".join(sorted(kinds))
        ),
        "policy": st.sampled_from(list(CreationPolicy)),
    }
    other = st.from_regex(r"[A-Za-z0-9_+:' -]{1,20}", fullmatch=True)
    return Said(code, **{name: draw(named.get(name, other)) for name in params_of(code)})


#: The parameters that are codes, said in words (so not as the API's English says them).
IN_WORDS = {"saved", "draft", "first", "why", "kinds", "policy", "action", "owner", "assignee"}
#: The codes whose message names the CRM's answer otherwise than the API's text does.
REWORDED = {
    Code.SYNC_CRM_WAITING,
    Code.SYNC_CRM_FAILED,
    Code.CRM_CANNOT_DO,
    Code.TASK_TO_TOP_MANAGER,
}


@settings(max_examples=300)
@given(explanations())
def test_in_english_the_screens_say_the_api_text(reason: Said) -> None:
    shown = said.said(reason.stored(), "unused", NULL)
    if not set(reason.params) & IN_WORDS and reason.code not in REWORDED:
        assert shown == reason
    for value in reason.params.values():
        assert value in shown or set(reason.params) & IN_WORDS


@pytest.mark.parametrize("language", TRANSLATED)
@settings(max_examples=200)
@given(reason=explanations())
def test_in_french_and_spanish_every_explanation_is_translated(language: str, reason: Said) -> None:
    shown = said.said(reason.stored(), "unused", translations(language).gettext)
    english = said.said(reason.stored(), "unused", NULL)
    assert shown != english
    for name in ("error", "error_type", "raw", "what", "types", "capability", "matches"):
        if name in reason.params:
            assert reason.params[name] in shown


def test_a_reason_without_a_code_shows_its_text() -> None:
    assert said.said(None, "stored before codes", NULL) == "stored before codes"
    assert said.said({"code": "a_newer_code", "params": {}}, "its text", NULL) == "its text"
    assert said.said(None, None, NULL) == ""


@pytest.mark.parametrize("language", TRANSLATED)
def test_a_paused_integrations_reason_is_said_by_its_code(language: str) -> None:
    text = translations(language).gettext
    for code, message in REASONS.items():
        paused = Said(Code.SYNC_PAUSED, why="CRM refused the credentials: 401", why_code=code)
        shown = said.said(paused.stored(), paused, text)
        assert text(message) in shown and "CRM refused" not in shown
    unknown = Said(Code.SYNC_PAUSED, why="a newer reason", why_code="")
    assert "a newer reason" in said.said(unknown.stored(), unknown, text)
