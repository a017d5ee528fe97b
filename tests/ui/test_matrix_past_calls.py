"""The dry run's past calls: searched by the start of a number, paged by keyset cursors, through
GET /calls' filter; the search is carried with the table so a tried call stays offered."""

from __future__ import annotations

import html
import re
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callbridge.ingest import ingest
from callbridge.runtime import Runtime
from callbridge.testing.draining import drain
from callbridge.testing.webhooks import call_sequence, signed
from callbridge.ui import matrix as screen
from tests.ui.form_fields import as_data, form_fields, replaced
from tests.ui.ui_client import UiTenant

COMPANY = "+14155550100"  # call_sequence's company number: every call's other party
NUMBERS = ("+33612345671", "+33612345672", "+33700000001", "+14155550123")
OPTION = re.compile(r'<option value="([^"]+)"[^>]*>[^<]*· ([+0-9?]+) → ([+0-9?]+) ·')


async def _calls(runtime: Runtime, tenant: UiTenant) -> None:
    """Store and sync one incoming missed call from each of ``NUMBERS``."""
    for at, number in enumerate(NUMBERS):
        for event in call_sequence(f"past-{at}", "incoming", number, answered=False):
            body, headers = signed(tenant.company.source_secret, event)
            await ingest(runtime, tenant.company.source_id, headers, body)
    await drain(runtime)


def _url(tenant: UiTenant, tail: str = "") -> str:
    return f"/ui/integrations/{tenant.company.integration_id}/matrix{tail}"


def _offered(page: str) -> dict[str, set[str]]:
    """Return the calls the dry run's picker offers: id → its from and to numbers."""
    picker = page[page.index('<select id="call_id"') :]
    picker = picker[: picker.index("</select>")]
    return {m.group(1): {m.group(2), m.group(3)} for m in OPTION.finditer(picker)}


@pytest.fixture
async def with_calls(ui_runtime: Runtime, acme: UiTenant) -> UiTenant:
    """ACME, signed in, with a synced call from each of ``NUMBERS``."""
    await _calls(ui_runtime, acme)
    await acme.sign_in()
    return acme


@settings(max_examples=15)
@given(number=st.sampled_from(NUMBERS), length=st.integers(1, 12), dotted=st.booleans())
async def test_the_search_offers_exactly_the_calls_whose_number_starts_so(
    with_calls: UiTenant, number: str, length: int, dotted: bool
) -> None:
    prefix = number[:length]
    typed = " ".join(prefix) if dotted else prefix  # what is typed besides digits and + goes
    for path in (_url(with_calls), _url(with_calls, "/past-calls")):
        page = await with_calls.client.get(path, params={"number": typed})
        assert page.status_code == 200, page.text
        offered = _offered(page.text)
        # Either party's number counts: the company's own number too.
        wanted = {n for n in NUMBERS if n.startswith(prefix) or COMPANY.startswith(prefix)}
        assert {n for numbers in offered.values() for n in numbers if n in NUMBERS} == wanted


async def test_the_picker_pages_by_cursor_and_keeps_a_tried_call(
    with_calls: UiTenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(screen, "PAST_CALLS", 1)
    first = await with_calls.client.get(_url(with_calls, "/past-calls"), params={"number": "+3361"})
    assert len(_offered(first.text)) == 1 and "Newer calls" not in first.text
    older = re.search(r'hx-get="([^"]+)"[^>]*>Older calls', first.text)
    assert older, first.text
    second = await with_calls.client.get(html.unescape(older.group(1)))
    [tried] = _offered(second.text)
    assert tried not in _offered(first.text) and "Newer calls" in second.text
    assert "Older calls" not in second.text  # two calls start with +3361
    cursor = re.search(r'name="past-after" value="([^"]*)"', second.text)
    assert cursor and cursor.group(1)

    table = form_fields((await with_calls.client.get(_url(with_calls))).text, "matrix-table-form")
    assert dict(table)["number"] == ""  # the search field posts with the draft (no search yet)
    posted = replaced(
        table, {"call_id": tried, "past-number": "+3361", "past-after": cursor.group(1)}
    )
    answer = await with_calls.client.post(_url(with_calls, "/dry-run"), data=as_data(posted))
    assert answer.status_code == 200, answer.text
    assert f'<option value="{tried}" selected>' in answer.text  # still offered, still chosen
    assert 'value="+3361"' in answer.text


async def test_no_match_says_so_and_another_companys_calls_are_not_found(
    with_calls: UiTenant, globex: UiTenant
) -> None:
    none = await with_calls.client.get(_url(with_calls, "/past-calls"), params={"number": "+999"})
    assert "No call matches this number" in none.text and not _offered(none.text)
    foreign = await with_calls.client.get(_url(globex, "/past-calls") + "?number=" + quote("+33"))
    assert foreign.status_code == 404
