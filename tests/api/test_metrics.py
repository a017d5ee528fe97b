"""``/metrics`` reads the circuit breakers in the database when scraped, across companies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import delete, insert

from callbridge.api.app import create_app
from callbridge.queue.breaker_table import circuit_breakers
from callbridge.runtime import Runtime
from callbridge.service.bootstrap import create_company
from callbridge.settings import Settings
from callbridge.storage import sql
from callbridge.storage.integrations import create_integration

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
BREAKERS = 4  # integrations, spread over two companies


def gauge(text: str, name: str, **labels: str) -> float | None:
    """Return one sample of a scrape, None when it is absent."""
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and found.labels == labels:
                return float(found.value)
    return None


@pytest.fixture
async def runtime(
    migrated_url: str, tmp_path: Path
) -> AsyncIterator[tuple[Runtime, list[tuple[str, str]]]]:
    """A runtime at a fixed time, with integrations in two companies."""
    built = Runtime.create(Settings(data_dir=tmp_path, database_url=migrated_url))
    built.clock = lambda: NOW
    ids = []
    for index in range(BREAKERS):
        company = await create_company(built, f"Company {index % 2}")
        async with built.sessions.begin() as session:
            integration = await sql.run(
                session, create_integration, company.company_id, NOW, connector="local", name="CRM",
                default_region="US", language="en", name_template=None, creation_policy="all",
                config={}, status="active",
            )  # fmt: skip
        ids.append((company.company_id, integration))
    yield built, ids
    await built.close()


states = st.lists(
    st.tuples(st.sampled_from(["closed", "open", "half_open"]), st.integers(0, 86_400)),
    min_size=BREAKERS,
    max_size=BREAKERS,
)


@settings(max_examples=10)
@given(breakers=states)
async def test_open_breakers_and_the_longest_outage_are_read_at_scrape_time(
    runtime: tuple[Runtime, list[tuple[str, str]]], breakers: list[tuple[str, int]]
) -> None:
    built, ids = runtime
    async with built.engine.begin() as conn:
        await conn.execute(
            delete(circuit_breakers).execution_options(tenant_entry="test: a clean slate")
        )
        for (company_id, integration_id), (state, seconds) in zip(ids, breakers, strict=True):
            since = None if state == "closed" else NOW - timedelta(seconds=seconds)
            await conn.execute(
                insert(circuit_breakers).values(
                    company_id=company_id, integration_id=integration_id, state=state,
                    since=since, updated_at=NOW,
                )
            )  # fmt: skip
    transport = httpx.ASGITransport(app=create_app(built))
    async with httpx.AsyncClient(transport=transport, base_url="http://callbridge.test") as api:
        page = (await api.get("/metrics")).text
    for state in ("open", "half_open"):
        expected = sum(1 for got, _ in breakers if got == state)
        assert gauge(page, "callbridge_circuit_breakers", state=state) == expected
    outages = [seconds for state, seconds in breakers if state != "closed"]
    assert gauge(page, "callbridge_crm_unreachable_seconds") == float(max(outages, default=0))
    assert gauge(page, "callbridge_queue_readable") == 1.0
    assert all(c not in page and i not in page for c, i in ids), "no tenant may be named"
