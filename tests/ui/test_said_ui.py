"""The explanations on the screens, in en/fr/es: each is said from its code, not in English.

The matrix's contact cells, the dry run's scenario line and cells, a call's syncs (scenario and
reason) and a source's ignored and duplicate deliveries; a reason stored before the codes shows
its stored text. Both databases (the UI fixtures' runtime).
"""

from __future__ import annotations

from typing import Any

from markupsafe import escape
from sqlalchemy import Connection

from callbridge.domain.said import Code, Said
from callbridge.ingest import ingest
from callbridge.rules.default_matrix import DEFAULT_MATRIX_JSON
from callbridge.runtime import Runtime
from callbridge.storage import call_history, sql
from callbridge.testing.draining import drain
from callbridge.testing.webhooks import generic_event, signed
from callbridge.ui import said, scenarios
from callbridge.ui.i18n import translations
from tests.ui.form_fields import as_data
from tests.ui.test_calls_ui import synced_call
from tests.ui.test_matrix_ui import _past_call, _table, _url
from tests.ui.ui_client import UiTenant

LANGUAGES = ("en", "fr", "es")


def _api(tenant: UiTenant) -> dict[str, str]:
    return {"Authorization": f"Bearer {tenant.company.api_key}"}


def _in(language: str, stored: Any, text: str) -> str:
    """Return what a page in ``language`` shows of a reason, escaped as the page writes it."""
    return str(escape(said.said(stored, text, translations(language).gettext)))


async def test_the_matrix_says_each_contact_cells_reason_in_the_pages_language(
    acme: UiTenant,
) -> None:
    await acme.sign_in()
    path = f"/integrations/{acme.company.integration_id}/matrix"
    cells = (await acme.client.get(path, headers=_api(acme))).json()["contact_creation"]
    for language in LANGUAGES:
        await acme.client.get(f"/ui/language/{language}")
        page = (await acme.client.get(_url(acme))).text
        for cell in cells:
            assert _in(language, cell["reason_code"], cell["reason"]) in page, language
            assert (str(escape(cell["reason"])) in page) is (language == "en")


async def test_the_dry_run_says_its_scenario_line_and_cells_in_the_pages_language(
    ui_runtime: Runtime, acme: UiTenant
) -> None:
    call_id = await _past_call(ui_runtime, acme, "ui-said-dry-run")
    body = {"call_id": call_id, "matrix": DEFAULT_MATRIX_JSON}
    path = f"/integrations/{acme.company.integration_id}/matrix/dry-run"
    tried = (await acme.client.post(path, json=body, headers=_api(acme))).json()
    await acme.sign_in()
    fields = await _table(acme)
    for language in LANGUAGES:
        await acme.client.get(f"/ui/language/{language}")
        answer = await acme.client.post(_url(acme, "/dry-run"), data=as_data(fields))
        assert answer.status_code == 200, answer.text
        paragraph = answer.text.split('id="dry-run-scenario">')[1].split("</p>")[0]
        assert _in(language, tried["scenario_why_code"], tried["scenario_why"]) in paragraph
        assert tried["saved"]["scenario"] not in paragraph  # the key, in words
        cell = tried["saved_contact"]
        assert _in(language, cell["reason_code"], cell["reason"]) in answer.text
        assert str(escape(tried["scenario_why"])) not in answer.text  # the keys are in words
        assert (str(escape(cell["reason"])) in answer.text) is (language == "en")


async def _store(runtime: Runtime, tenant: UiTenant, call_id: str, reason: str) -> None:
    """Write ``reason`` on the call's sync as the sync writes it (with its code if it has one)."""
    company = tenant.company
    code = reason.stored() if isinstance(reason, Said) else None

    def write(db: Connection) -> None:
        call_history.save_sync(
            db, company.company_id, call_id, company.integration_id, runtime.clock(),
            new_run=False, reason=reason, reason_code=code,
        )  # fmt: skip

    async with runtime.sessions.begin() as session:
        await sql.run(session, write)


#: A reason of each code a sync writes, with its parameters as the sync writes them.
SYNC_REASONS = [
    Said(Code.SYNC_NO_NUMBER, why="anonymous", raw="'anonymous'"),
    Said(Code.SYNC_PAUSED, why="CRM refused the credentials: 401", why_code="credentials_refused"),
    Said(Code.SYNC_CRM_WAITING, error_type="RateLimited", error="429 Too Many Requests"),
    Said(Code.SYNC_CRM_FAILED, error_type="CrmUnavailable", error="503 from the CRM"),
    Said(Code.SYNC_INTERRUPTED),
    Said(Code.SYNC_INTERNAL_ERROR, error_type="KeyError"),
    Said(Code.SYNC_DISABLED),
    Said(Code.SYNC_DISABLED_AFTER_DONE),
    Said(Code.SYNC_INTERNAL_CALL),
    Said(Code.SYNC_WAITING_CHOICE, matches=2, until="2026-12-07T09:00:00+00:00"),
    Said(Code.POLICY_EXCLUDES, policy="outgoing", kinds="incoming, missed"),
    Said(Code.CRM_CANNOT_CREATE),
]


async def test_a_calls_syncs_say_their_scenario_and_reason_in_the_pages_language(
    ui_runtime: Runtime, acme: UiTenant
) -> None:
    call_id = await synced_call(ui_runtime, acme, "c-said")
    await acme.sign_in()
    key = "incoming.new.missed.none"
    for reason in [*SYNC_REASONS, "a reason stored before the codes"]:
        await _store(ui_runtime, acme, call_id, reason)
        for language in LANGUAGES:
            await acme.client.get(f"/ui/language/{language}")
            page = (await acme.client.get(f"/ui/calls/{call_id}")).text
            words = scenarios.scenario(key, translations(language).gettext)
            assert f"<td>{escape(words)}</td>" in page and key not in page
            code = reason.stored() if isinstance(reason, Said) else None
            assert f"<td>{_in(language, code, reason)}</td>" in page, (language, reason)
            if isinstance(reason, Said) and language != "en":
                assert str(escape(reason)) not in page, (language, reason)


async def test_a_sources_ignored_and_duplicate_deliveries_say_why_in_the_pages_language(
    ui_runtime: Runtime, acme: UiTenant
) -> None:
    secret, source_id = acme.company.source_secret, acme.company.source_id
    ringing = generic_event("call.ringing", "c-said-src", direction="incoming")
    for event in (ringing, ringing, generic_event("contact.updated", "c-x")):
        body, headers = signed(secret, event)  # a new webhook-id each: the second is a duplicate
        await ingest(ui_runtime, source_id, headers, body)
    await drain(ui_runtime)
    listed = await acme.client.get(f"/sources/{source_id}/deliveries", headers=_api(acme))
    shown = [d for d in listed.json()["deliveries"] if d["reason_code"]]
    assert {d["reason_code"]["code"] for d in shown} == {"duplicate_delivery", "event_type_skipped"}
    await acme.sign_in()
    for language in LANGUAGES:
        await acme.client.get(f"/ui/language/{language}")
        page = (await acme.client.get(f"/ui/sources/{source_id}")).text
        for delivery in shown:
            assert _in(language, delivery["reason_code"], delivery["reason"]) in page
            assert (str(escape(delivery["reason"])) in page) is (language == "en")


async def test_the_sync_stores_its_reasons_code_and_the_call_page_says_it(
    ui_runtime: Runtime, acme: UiTenant
) -> None:
    call_id = await synced_call(ui_runtime, acme, "c-said-anonymous", number="anonymous")
    detail = (await acme.client.get(f"/calls/{call_id}", headers=_api(acme))).json()
    [sync] = detail["syncs"]
    assert sync["status"] == "skipped"
    assert sync["reason_code"] == {
        "code": "sync_no_number",
        "params": {"why": "anonymous", "raw": "'anonymous'"},
    }
    assert sync["reason"] == "no external number to match (anonymous: 'anonymous')"
    await acme.sign_in()
    await acme.client.get("/ui/language/es")
    page = (await acme.client.get(f"/ui/calls/{call_id}")).text
    assert f"<td>{_in('es', sync['reason_code'], sync['reason'])}</td>" in page
    assert "ningún número externo que buscar (una persona anónima: &#39;anonymous&#39;)" in page
