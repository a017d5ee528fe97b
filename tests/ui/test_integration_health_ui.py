"""The integrations list in en/fr/es: every health state and every creation policy's title.

The states are generated from the codes (each pause and disable reason code, the breaker's
states, the daily limit), each shown in every language; a French or Spanish cell must hold the
translated text and the time as Babel writes it there, and nothing of the English cell.
"""

from __future__ import annotations

import html
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from babel.dates import format_datetime
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from sqlalchemy import Connection, insert

from callbridge.queue.breaker_table import circuit_breakers
from callbridge.rules.policy import CreationPolicy
from callbridge.runtime import Runtime
from callbridge.storage import integrations as repo
from callbridge.storage import sql
from callbridge.ui.i18n import LANGUAGES, LOCALES, translations
from callbridge.ui.integration_health import LIMITED, REASONS, STATUSES, UNREACHABLE
from tests.ui.ui_client import UiTenant

SINCE = datetime(2026, 3, 14, 15, 9, 26, tzinfo=UTC)
NEXT = datetime(2030, 1, 1, 12, 30, tzinfo=UTC)  # times still to come
UNTIL = datetime(2030, 1, 2, 0, 0, 5, tzinfo=UTC)
#: Words both languages write alike: the CRM, the zone, the protocol.
SHARED = {"crm", "utc", "oauth", "api"}
Setup = Callable[[Runtime, UiTenant], Awaitable[None]]


@dataclass(frozen=True)
class State:
    """A health state: how to bring the integration there, and the messages its cell says."""

    name: str
    setup: Setup
    messages: tuple[str, ...]
    times: dict[str, datetime] | None = None  # the messages' parameters
    stored: str | None = None  # the English reason stored beside the code


async def _change(runtime: Runtime, tenant: UiTenant, **values: str) -> None:
    ids = (tenant.company.company_id, tenant.company.integration_id)
    async with runtime.sessions.begin() as session:
        await sql.run(session, repo.update_integration, *ids, runtime.clock(), **values)


def _paused(code: str) -> State:
    reason = f"CRM refused the credentials: {code} said by the CRM. Re-enter them."

    async def setup(runtime: Runtime, tenant: UiTenant) -> None:
        await _change(
            runtime, tenant, status="paused", status_reason=reason, status_reason_code=code
        )

    return State(f"paused-{code}", setup, (STATUSES["paused"], REASONS[code]), stored=reason)


async def _disable(runtime: Runtime, tenant: UiTenant) -> None:
    headers = {"Authorization": f"Bearer {tenant.company.api_key}"}
    path = f"/integrations/{tenant.company.integration_id}/disable"
    assert (await tenant.client.post(path, headers=headers)).status_code == 200


def _unreachable(state: str) -> State:
    async def setup(runtime: Runtime, tenant: UiTenant) -> None:
        row = {
            "company_id": tenant.company.company_id,
            "integration_id": tenant.company.integration_id,
            "state": "open" if state == "unreachable" else "half_open",
            "failures": 5,
            "opens": 1,
            "since": SINCE,
            "retry_at": NEXT,
            "probe_until": NEXT,
            "last_error": "ReadTimeout: the CRM did not answer",
            "updated_at": runtime.clock(),
        }

        def write(db: Connection) -> None:
            db.execute(insert(circuit_breakers).values(**row))

        async with runtime.sessions.begin() as session:
            await sql.run(session, write)

    times = {"since": SINCE, "next": NEXT}
    return State(state, setup, (STATUSES["active"], UNREACHABLE[state]), times=times)


def _limited() -> State:
    async def setup(runtime: Runtime, tenant: UiTenant) -> None:
        ids = (tenant.company.company_id, tenant.company.integration_id)
        async with runtime.sessions.begin() as session:
            await sql.run(session, repo.note_daily_limit, *ids, UNTIL)

    return State("daily-limit", setup, (STATUSES["active"], LIMITED), times={"until": UNTIL})


async def _nothing(runtime: Runtime, tenant: UiTenant) -> None:
    """Leave the integration active and healthy."""


STATES = [
    State("active", _nothing, (STATUSES["active"],)),
    *(_paused(code) for code in repo.PAUSE_CODES),
    State(
        "disabled",
        _disable,
        (STATUSES["disabled"], REASONS[repo.DISABLED_BY_ADMIN]),
        stored="disabled by an admin: no call is synced to this CRM",
    ),
    *(_unreachable(state) for state in UNREACHABLE),
    _limited(),
]


def test_the_states_cover_every_code() -> None:
    assert set(REASONS) == set(repo.REASON_CODES)
    said = {message for state in STATES for message in state.messages}
    assert set(REASONS.values()) | set(UNREACHABLE.values()) | {LIMITED} <= said


def _cells(page: str) -> list[str]:
    """Return the text of each cell of the integration's row, tags dropped, spaces collapsed."""
    row = re.search(r"<tbody>\s*<tr>(.*?)</tr>", page, re.S)
    assert row is not None
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", cell)).split()) for cell in cells]


def _words(text: str) -> set[str]:
    return {word.lower() for word in re.findall(r"[A-Za-z]{3,}", text)}


def _catalog(language: str) -> Catalog:
    with (LOCALES / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po)


def _alike(catalog: Catalog) -> set[str]:
    """Return the words of the messages the catalog translates as they are (fr "Active")."""
    return {w for m in catalog if m.id and m.string == m.id for w in _words(str(m.id))}


def _time(moment: datetime, language: str) -> str:
    return format_datetime(moment, "medium", tzinfo=UTC, locale=language) + " UTC"


async def _row(tenant: UiTenant, language: str) -> list[str]:
    await tenant.client.get(f"/ui/language/{language}")
    page = await tenant.client.get("/ui/integrations")
    assert page.status_code == 200
    assert f'<html lang="{language}">' in page.text
    return _cells(page.text)


@pytest.mark.parametrize("state", STATES, ids=[state.name for state in STATES])
async def test_every_health_state_is_said_in_every_language(
    ui_runtime: Runtime, acme: UiTenant, state: State
) -> None:
    await state.setup(ui_runtime, acme)
    await acme.sign_in()
    name, connector, english = (await _row(acme, "en"))[:3]
    if state.stored is not None:
        headers = {"Authorization": f"Bearer {acme.company.api_key}"}
        answer = await acme.client.get(
            f"/integrations/{acme.company.integration_id}", headers=headers
        )
        assert state.stored in answer.json()["status_reason"]  # the API's text unchanged
        assert state.stored not in english  # the code's message instead
    for language in LANGUAGES:
        cell = english if language == "en" else (await _row(acme, language))[2]
        gettext = translations(language).gettext
        times = {key: _time(moment, language) for key, moment in (state.times or {}).items()}
        for message in state.messages:
            said = gettext(message)
            said = " ".join((said % times if "%(" in message else said).split())
            assert said in cell, (language, state.name, cell)
        if language != "en":
            catalog = _catalog(language)
            for message in state.messages:
                entry = catalog.get(message)
                assert entry is not None and entry.string, f"{message!r}: no {language} entry"
            own = _words(f"{name} {connector} {' '.join(times.values())}")
            own |= SHARED | _alike(catalog)  # the times as Babel writes them there (es "mar")
            left = (_words(english) - own) & _words(cell)
            assert not left, f"English left in the {language} cell: {left} ({cell})"


@pytest.mark.parametrize("policy", [policy.value for policy in CreationPolicy])
async def test_the_policy_column_shows_the_policy_title_in_every_language(
    ui_runtime: Runtime, acme: UiTenant, policy: str
) -> None:
    await _change(ui_runtime, acme, creation_policy=policy)
    await acme.sign_in()
    titles = {}
    for language in LANGUAGES:
        await acme.client.get(f"/ui/language/{language}")
        form = await acme.client.get(f"/ui/integrations/{acme.company.integration_id}")
        title = re.search(rf'<label for="policy-{policy}">(.*?)</label>', form.text)
        assert title is not None
        titles[language] = html.unescape(title.group(1))
        page = await acme.client.get("/ui/integrations")
        assert _cells(page.text)[3] == titles[language], (language, policy)
    assert len(set(titles.values())) == len(LANGUAGES), titles  # each language its own
    assert policy not in titles.values()
