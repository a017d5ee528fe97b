"""The pipeline's two verbs on both databases: ingest stores, fold asks for syncs only when new."""

from __future__ import annotations

from typing import Any

import pytest

from callbridge.ingest import ingest
from callbridge.pipeline import process
from callbridge.runtime import Runtime
from callbridge.service.bootstrap import CreatedCompany, create_company
from callbridge.testing.draining import drain
from callbridge.testing.webhooks import call_sequence, generic_event, signed

NUMBER = "+14155550123"


@pytest.fixture
def runtime(migrated_runtime: Runtime) -> Runtime:
    """A runtime on a migrated database (SQLite or PostgreSQL)."""
    return migrated_runtime


async def deliver(runtime: Runtime, company: CreatedCompany, event: dict[str, Any]) -> None:
    """Ingest one signed event, as the webhook endpoint does."""
    body, headers = signed(company.source_secret, event)
    await ingest(runtime, company.source_id, headers, body)


async def test_a_fold_with_no_new_event_asks_for_no_sync(runtime: Runtime) -> None:
    company = await create_company(runtime, "Acme")
    for event in call_sequence("c-1", "incoming", NUMBER, answered=True):
        await deliver(runtime, company, event)
    assert "sync" in await drain(runtime)
    fold = {"company_id": company.company_id, "source_id": company.source_id, "call": "c-1"}
    # A fold queued while the last one ran finds its event folded already: nothing to do.
    await process(runtime.for_worker(), "fold", fold)
    assert await runtime.queue.pending_count() == 0
    # Late data is a new event: its fold asks for the sync again, to update the activity.
    recording = generic_event("call.recording", "c-1", recording_url="https://rec.test/1.mp3")
    await deliver(runtime, company, recording)
    assert await drain(runtime) == ["fold", "sync"]
