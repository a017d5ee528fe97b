"""The API's codes in words on the calls screens, in en/fr/es (``callbridge.ui.labels``).

Every value of each enum and status set the pages show has a label, translated in French and
Spanish; a synced call's page, the calls list and "My calls" show the labels, not the codes.
"""

from __future__ import annotations

import gettext
from collections.abc import Iterable
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import escape

from callbridge.api.source_deliveries import OUTCOMES, REFUSAL_KINDS
from callbridge.domain.call import CallState
from callbridge.domain.event import Direction, EventKind
from callbridge.domain.record import ObjectType
from callbridge.refusal_codes import refusal
from callbridge.rules.agent_choice import GATE_REASONS
from callbridge.rules.matrix import ActionType
from callbridge.rules.scenario import Outcome
from callbridge.runtime import Runtime
from callbridge.storage.call_pages import SYNC_STATUSES
from callbridge.ui import labels
from callbridge.ui.i18n import LOCALES, translations
from callbridge.ui.problems import coded
from tests.ui.test_calls_ui import synced_call
from tests.ui.test_dialer_ui import NUMBER, _agent, _agent_with_email, _record, _sign_in
from tests.ui.ui_client import UiTenant

TRANSLATED = ("fr", "es")
#: Each kind of code and every value the code can write for it.
VALUES: dict[str, tuple[str, ...]] = {
    "event": tuple(EventKind),
    "state": tuple(CallState),
    "direction": tuple(Direction),
    "object_type": tuple(ObjectType),
    "sync_status": SYNC_STATUSES,
    "action": (*ActionType, *labels.SYNC_ACTIONS),
    "action_status": labels.ACTION_STATUSES,
    "outcome": tuple(Outcome),
    "delivery": OUTCOMES,
    "refusal": REFUSAL_KINDS,
    "choosing_off": tuple(GATE_REASONS),
}
#: Labels whose translation is rightly the English word (French says "contact" too).
COGNATES = {("fr", "contact")}


def _catalog(language: str) -> dict[str, str]:
    """Return the messages of ``language``'s .po file and their translations."""
    with (Path(LOCALES) / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return {str(m.id): str(m.string) for m in read_po(po) if m.id}


def test_every_kind_of_code_is_listed() -> None:
    assert set(VALUES) == set(labels.LABELS)


@pytest.mark.parametrize("kind", sorted(VALUES))
def test_every_value_has_a_label_and_no_label_is_stale(kind: str) -> None:
    assert set(labels.LABELS[kind]) == set(VALUES[kind])


@pytest.mark.parametrize("language", TRANSLATED)
@pytest.mark.parametrize("kind", sorted(VALUES))
def test_every_label_is_translated_and_not_the_code(language: str, kind: str) -> None:
    catalog, gettext_of = _catalog(language), translations(language).gettext
    for value in VALUES[kind]:
        message = labels.LABELS[kind][value]
        assert catalog.get(message), f"translate {message!r} in {language}"
        shown = labels.label(kind, value, gettext_of)
        assert shown == catalog[message]
        if (language, message) not in COGNATES:
            assert shown not in (str(value), message), (language, kind, value)


@pytest.mark.parametrize("kind", sorted(VALUES))
def test_in_english_a_label_is_its_message(kind: str) -> None:
    english = gettext.NullTranslations().gettext
    for value in VALUES[kind]:
        assert labels.label(kind, value, english) == labels.LABELS[kind][value]


@settings(max_examples=100)
@given(kind=st.sampled_from(sorted(VALUES)), value=st.text(max_size=40))
def test_an_unknown_value_shows_as_it_is(kind: str, value: str) -> None:
    if value in labels.LABELS[kind]:
        return
    assert labels.label(kind, value, translations("fr").gettext) == value
    assert labels.label(kind, None, translations("fr").gettext) == ""


@settings(max_examples=100)
@given(code=st.sampled_from(sorted(GATE_REASONS)), prefix=st.text(max_size=40))
def test_why_choosing_is_off_is_known_by_its_code_else_shown_as_said(
    code: str, prefix: str
) -> None:
    refused = refusal(f"selection_{code}")  # the dialer API's 403, as a form receives it
    assert labels.choosing_off([prefix, coded(refused)]) == code
    said = [prefix, f"{prefix}{GATE_REASONS[code]}", "the CRM is on fire"]  # no code: as said
    assert labels.choosing_off(said) == "; ".join(said)


def _words(kind: str, codes: Iterable[str], language: str) -> list[tuple[str, str]]:
    """Return each code with its label in ``language``, as the page escapes it."""
    gettext_of = translations(language).gettext
    return [(code, str(escape(labels.label(kind, code, gettext_of)))) for code in codes]


async def test_a_synced_calls_screens_in_french_show_labels_not_codes(
    ui_runtime: Runtime, acme: UiTenant
) -> None:
    token = await _agent_with_email(acme, "Ann")
    await _record(acme, "Ann Lead", "lead")
    call_id = await synced_call(ui_runtime, acme, "c-labels", NUMBER, "ann@example.com")
    as_admin = {"Authorization": f"Bearer {acme.company.api_key}"}
    detail = (await acme.client.get(f"/calls/{call_id}", headers=as_admin)).json()
    assert detail["events"] and detail["syncs"] and detail["actions"], detail
    await acme.sign_in()
    await _sign_in(acme, token)
    await acme.client.get("/ui/language/fr")
    page = (await acme.client.get(f"/ui/calls/{call_id}")).text
    listed = (await acme.client.get("/ui/calls")).text
    mine = (await acme.client.get("/ui/dialer/my-calls")).text
    assert '<html lang="fr">' in page
    state, direction = detail["state"], detail["direction"]
    for code, word in _words("event", [e["kind"] for e in detail["events"]], "fr"):
        assert f"— {word}</li>" in page and code not in page
    for code, word in _words("state", [state], "fr") + _words("direction", [direction], "fr"):
        assert f": {word} ·" in page and f": {code} ·" not in page
        for text in (listed, mine):
            assert f"<td>{word}</td>" in text and f"<td>{code}</td>" not in text
    for code, word in _words("object_type", ["lead"], "fr"):
        assert word == "prospect"
        for text in (page, mine):
            assert f"({word})" in text and f"({code})" not in text
    for code, word in _words("sync_status", [s["status"] for s in detail["syncs"]], "fr"):
        assert f'status-{code}">{word}' in page and f'">{code}<' not in page
        assert f'status-{code}">{word}</span>' in listed
    for action in detail["actions"]:
        [(code, word)] = _words("action", [action["action"]], "fr")
        assert f"<td>{word}</td>" in page and f"<td>{code}</td>" not in page
        [(code, word)] = _words("action_status", [action["status"]], "fr")
        assert f'status-{code}">{word}</td>' in page


async def test_the_dialer_in_spanish_names_object_types_in_words(acme: UiTenant) -> None:
    token = await _agent(acme)
    for name, kind in (("Ann Lead", "lead"), ("Ann Deal", "deal"), ("Ann Account", "account")):
        await _record(acme, name, kind)
    csrf = await _sign_in(acme, token)
    await acme.client.get("/ui/language/es")
    found = (await acme.client.get("/ui/dialer/candidates", params={"number": NUMBER})).text
    for code, word in _words("object_type", ["lead", "deal", "account"], "es"):
        assert f"<legend>{word}</legend>" in found and f"<legend>{code}</legend>" not in found
    lead = (await _record(acme, "Ann Lead 2", "lead"))["id"]
    choice = f"{acme.company.integration_id}|{lead}"
    made = await acme.client.post(
        "/ui/dialer/intents", data={"csrf": csrf, "number": NUMBER, "choice": [choice]}
    )
    assert made.status_code == 200, made.text
    assert "Ann Lead 2 (prospecto)" in made.text and "(lead)" not in made.text
