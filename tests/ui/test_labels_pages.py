"""More screens in French show the API's codes in words (``callbridge.ui.labels``).

A source's deliveries (outcome, event kind), the matrix's past calls and contact creation per
scenario (direction, state, outcome), a sync waiting for an unreachable CRM (said from the
breaker's state, as the integrations list says it) and why an agent cannot choose the contact.
"""

from __future__ import annotations

from markupsafe import escape
from sqlalchemy import Connection, delete, update

from callbridge.ingest import ingest
from callbridge.queue.breaker_table import circuit_breakers
from callbridge.runtime import Runtime
from callbridge.storage import sql
from callbridge.storage.tables import call_syncs
from callbridge.testing.webhooks import call_sequence, signed
from callbridge.ui import labels
from callbridge.ui.i18n import translations
from callbridge.ui.integration_health import UNREACHABLE, when
from tests.ui.test_calls_ui import synced_call
from tests.ui.test_dialer_ui import NUMBER, _agent, _sign_in
from tests.ui.test_integration_health_ui import NEXT, SINCE, _unreachable
from tests.ui.ui_client import UiTenant

FR = translations("fr").gettext


def _fr(kind: str, code: str) -> str:
    """Return the French label of ``code`` as the page escapes it (never the code itself)."""
    word = str(escape(labels.label(kind, code, FR)))
    assert word != code, (kind, code)
    return word


async def _in_french(tenant: UiTenant) -> None:
    await tenant.sign_in()
    await tenant.client.get("/ui/language/fr")


async def test_a_sources_deliveries_in_french_say_outcome_and_event_in_words(
    ui_runtime: Runtime, acme: UiTenant
) -> None:
    [event, *_] = call_sequence("c-src-fr", "incoming", NUMBER, answered=False)
    body, headers = signed(acme.company.source_secret, event)
    await ingest(ui_runtime, acme.company.source_id, headers, body)
    await _in_french(acme)
    page = (await acme.client.get(f"/ui/sources/{acme.company.source_id}")).text
    assert '<html lang="fr">' in page
    assert f'outcome-accepted">{_fr("delivery", "accepted")}</td>' in page
    assert '">accepted</td>' not in page
    kind = str(event["type"])
    word = _fr("event", kind)
    assert f"<td>{word} </td>" in page or f">{word}</a>" in page
    assert f">{kind}" not in page


async def test_the_matrix_in_french_names_past_calls_and_scenarios_in_words(
    ui_runtime: Runtime, acme: UiTenant
) -> None:
    await synced_call(ui_runtime, acme, "c-matrix-fr")
    await _in_french(acme)
    base = f"/ui/integrations/{acme.company.integration_id}/matrix"
    page = (await acme.client.get(base)).text
    fragment = (await acme.client.get(f"{base}/past-calls")).text
    for text in (page, fragment):
        assert f"· {_fr('direction', 'incoming')} · " in text
        assert f"· {_fr('state', 'missed')}</option>" in text
        assert "· incoming ·" not in text and "· missed</option>" not in text
    for direction in ("incoming", "outgoing"):
        assert f"<tr><td>{_fr('direction', direction)}</td>" in page
        assert f"<td>{direction}</td>" not in page
    for outcome in ("answered", "missed"):
        assert f"<td>{_fr('outcome', outcome)}</td>" in page and f"<td>{outcome}</td>" not in page


async def test_a_sync_waiting_for_an_unreachable_crm_says_so_in_french(
    ui_runtime: Runtime, acme: UiTenant
) -> None:
    call_id = await synced_call(ui_runtime, acme, "c-down-fr")

    def waiting(db: Connection) -> None:
        db.execute(
            update(call_syncs)
            .where(call_syncs.c.company_id == acme.company.company_id)
            .where(call_syncs.c.call_id == call_id)
            .values(status="waiting")
        )

    async with ui_runtime.sessions.begin() as session:
        await sql.run(session, waiting)
    for state in UNREACHABLE:
        await _unreachable(state).setup(ui_runtime, acme)
        await _in_french(acme)
        page = (await acme.client.get(f"/ui/calls/{call_id}")).text
        at = {"since": when(SINCE, "fr", None), "next": when(NEXT, "fr", None)}
        assert f"<div>{escape(FR(UNREACHABLE[state]) % at)}</div>" in page, state
        assert "CRM unreachable since" not in page
        await _clear_breakers(ui_runtime, acme)


async def _clear_breakers(runtime: Runtime, tenant: UiTenant) -> None:
    def clear(db: Connection) -> None:
        db.execute(
            delete(circuit_breakers).where(
                circuit_breakers.c.company_id == tenant.company.company_id
            )
        )

    async with runtime.sessions.begin() as session:
        await sql.run(session, clear)


async def test_why_an_agent_cannot_choose_is_said_in_french(acme: UiTenant) -> None:
    token = await _agent(acme, permission=False)
    await _sign_in(acme, token)
    await acme.client.get("/ui/language/fr")
    found = (await acme.client.get("/ui/dialer/candidates", params={"number": NUMBER})).text
    assert FR("Choosing is off, the automatic match applies:") in found
    assert _fr("choosing_off", "no_permission") in found
    assert "lacks the permission" not in found
