"""The call's page tells what Callbridge did, whatever interrupted the sync and when.

Each sync is interrupted right after one of its CRM writes (an error raised, or the task
cancelled: what a kill -9 leaves behind, the run's unwritten journal lost), then run again as
its job would be. The CRM must hold one contact and one activity, and the call's page must say
the contact was created by Callbridge and the call logged by this call — not "found", not
"updated" — on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callbridge.api.app import create_app
from callbridge.connectors.base import Connector
from callbridge.errors import SyncTimedOut, Transient
from callbridge.ingest import ingest
from callbridge.pipeline import process
from callbridge.runtime import Runtime
from callbridge.runtime.connectors import connector_for
from callbridge.service.bootstrap import CreatedCompany, create_company
from callbridge.settings import Settings
from callbridge.sync import run as sync_run
from callbridge.sync.writes import RESUMED_CREATE, RESUMED_LOG
from callbridge.testing.webhooks import call_sequence, signed

# Every connector method that writes to the CRM: a step boundary follows each of them.
CRM_WRITES = (
    "create_contact",
    "create_deal",
    "log_call",
    "update_call",
    "set_deal_owner",
    "create_task",
    "add_note",
)
CREATED = "created a contact for the unknown caller"
_numbers = itertools.count(1000)


class Cancelled(asyncio.CancelledError):
    """A worker stopped mid-run: nothing the run kept in memory is written."""


class Failed(Transient):
    """A run that fails after a CRM write: the run writes its journal, then is retried."""


class Hung(Exception):
    """A CRM write that committed and never answers: the sync's watchdog must stop the run."""


# How long a hung run waits for its watchdog; the runs that do not hang keep the default.
HUNG_TIMEOUT = 0.3


@dataclass
class Faults:
    """Interrupt a run right after its ``after``-th CRM write."""

    after: int
    fault: type[BaseException]
    writes: int = 0
    hit: str | None = None  # the write the run was interrupted after

    @property
    def unrecorded(self) -> set[str]:
        """Return the writes this run may have left unrecorded on the call's page.

        A cancelled run loses its whole unwritten journal; a raised error loses the result of
        the write it interrupted (the CRM committed, its answer was lost).
        """
        if self.hit is None:
            return set()
        return set(CRM_WRITES) if self.fault is Cancelled else {self.hit}  # Hung: like Failed

    def install(self, connector: Connector) -> Connector:
        """Wrap the connector's write methods (instance attributes, so protocol checks hold)."""
        for name in CRM_WRITES:
            method = getattr(connector, name, None)
            if method is not None:
                setattr(connector, name, self._wrap(method))
        return connector

    def _wrap(self, method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        name = method.__name__

        async def write(*args: Any, **kwargs: Any) -> Any:
            result = await method(*args, **kwargs)
            self.writes += 1
            if self.writes == self.after:
                self.hit = name
                if self.fault is Hung:
                    await asyncio.Event().wait()  # forever, unless the watchdog stops the run
                raise self.fault(f"interrupted after CRM write {self.writes}")
            return result

        return write


@dataclass
class World:
    """A company on a migrated database, its API, and the syncs run by hand."""

    runtime: Runtime
    company: CreatedCompany
    api: httpx.AsyncClient
    faults: list[Faults] = field(default_factory=list)

    async def call(self, answered: bool, known: bool) -> tuple[str, str, str | None]:
        """Deliver and fold one incoming call; return its id, number and known record's id."""
        number = f"+1415555{next(_numbers):04d}"
        record_id = None
        if known:
            body = {"name": "Known Caller", "phones": [number]}
            record_id = (await self.api.post(self.records, json=body)).json()["id"]
        provider_id = f"call-{number}"
        for event in call_sequence(provider_id, "incoming", number, answered=answered):
            body_bytes, headers = signed(self.company.source_secret, event)
            await ingest(self.runtime, self.company.source_id, headers, body_bytes)
        fold = {
            "company_id": self.company.company_id,
            "source_id": self.company.source_id,
            "call": provider_id,
        }
        await process(self.runtime.for_worker(), "fold", fold)
        found = (await self.api.get("/calls", params={"number": number})).json()["calls"]
        return found[0]["id"], number, record_id

    async def run_sync(self, call_id: str, faults: Faults | None) -> None:
        """Run the call's sync job once, interrupted as ``faults`` says."""
        self.faults = [faults] if faults else []
        payload = {
            "company_id": self.company.company_id,
            "call_id": call_id,
            "integration_id": self.company.integration_id,
        }
        hangs = faults is not None and faults.fault is Hung
        settings = self.runtime.settings
        default, settings.sync_timeout_seconds = (
            settings.sync_timeout_seconds,
            (HUNG_TIMEOUT if hangs else settings.sync_timeout_seconds),
        )
        try:
            await process(self.runtime.for_worker(), "sync", payload)
        except (Cancelled, Failed):
            assert faults is not None and faults.hit
        except SyncTimedOut:
            assert hangs and faults is not None and faults.hit, "only a hung run times out"
            await self.assert_told_timed_out(call_id)
        finally:
            settings.sync_timeout_seconds = default

    async def assert_told_timed_out(self, call_id: str) -> None:
        """Check the call's page says the run was stopped and is retried, in so many words."""
        [synced] = (await self.api.get(f"/calls/{call_id}")).json()["syncs"]
        assert synced["status"] == "failed", synced
        assert synced["reason"] == f"stopped after {HUNG_TIMEOUT:g} s without finishing; retrying"

    @property
    def records(self) -> str:
        """Return the local CRM's records path."""
        return f"/integrations/{self.company.integration_id}/records"


@pytest.fixture
async def world(
    migrated_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[World]:
    """A company whose syncs get the faults the test installs on their connector."""
    runtime = Runtime.create(Settings(data_dir=tmp_path, database_url=migrated_url))
    company = await create_company(runtime, "Acme")
    transport = httpx.ASGITransport(app=create_app(runtime))
    api = httpx.AsyncClient(
        transport=transport,
        base_url="http://callbridge.test",
        headers={"Authorization": f"Bearer {company.api_key}"},
    )
    built = World(runtime, company, api)

    def faulty(rt: Runtime, integration: dict[str, Any]) -> Connector:
        connector = connector_for(rt, integration)
        for faults in built.faults:
            faults.install(connector)
        return connector

    monkeypatch.setattr(sync_run, "connector_for", faulty)
    yield built
    await api.aclose()
    await runtime.close()


async def assert_true_history(
    world: World,
    call_id: str,
    number: str,
    known: str | None,
    *,
    rerun: bool = False,
    unrecorded: frozenset[str] = frozenset(),
) -> None:
    """Check the CRM holds one record and one activity, and the page tells how they came.

    ``rerun``: an earlier run wrote its journal after logging the call (it completed, and its
    worker died before the job was marked done; or it failed at a later step), so the next run
    rewrote the activity: an ``update_call`` after the ``log_call``, never instead of it. After
    runs that were only ever cancelled (a kill -9), no ``update_call`` at all.
    ``unrecorded``: the writes an interrupted run may have made without recording them: only
    those may the page report as found after an interrupted run.
    """
    api = world.api
    [record] = (await api.get(f"{world.records}/search", params={"phone": number})).json()[
        "records"
    ]
    activities = (await api.get(f"{world.records}/{record['id']}")).json()["activities"]
    assert len(activities) == 1, activities
    page = (await api.get(f"/calls/{call_id}")).json()
    [synced] = page["syncs"]
    assert synced["status"] == "done", synced
    actions = {a["action"]: a for a in page["actions"]}
    told = [(a["action"], a["status"], a["reason"]) for a in page["actions"]]
    assert actions["log_call"]["status"] == "done", told
    assert actions["log_call"]["result_id"] == str(activities[0]["id"])
    resumed_log = "log_call" in unrecorded
    assert actions["log_call"]["reason"] in ({None, RESUMED_LOG} if resumed_log else {None}), told
    if "update_call" in actions:
        assert rerun, told
        assert actions["update_call"]["result_id"] == actions["log_call"]["result_id"]
        assert actions["update_call"]["id"] > actions["log_call"]["id"], told
    [link] = page["activities"]
    assert (link["record_id"], link["status"]) == (record["id"], "done")
    if known is None:
        assert record["name"] == "New Callbridge Contact"
        assert actions["create_contact"]["status"] == "done", page["actions"]
        assert actions["create_contact"]["result_id"] == record["id"]
        reason = actions["create_contact"]["reason"]
        resumed = "create_contact" in unrecorded and reason == RESUMED_CREATE
        assert reason.startswith("policy") or resumed, told
        assert synced["match_rule"] == CREATED
        assert synced["match_reason"]["code"] == "created"
        assert synced["matched"] == [], "the contact it created is not a record it found"
    else:
        assert record["id"] == known
        assert "create_contact" not in actions
        assert synced["match_rule"] == "the only record matching the number"
        assert synced["match_reason"]["code"] == "only_match"
        assert [m["id"] for m in synced["matched"]] == [known]
    for name, row in actions.items():  # every step is reported once, done or skipped
        assert row["status"] in {"done", "skipped", "waiting"}, (name, row)


SCENARIOS = [(answered, known) for answered in (True, False) for known in (False, True)]


@pytest.mark.parametrize("fault", [Cancelled, Failed, Hung], ids=["cancelled", "raised", "hung"])
@pytest.mark.parametrize(
    ("answered", "known"), SCENARIOS, ids=["new", "known", "new-missed", "known-missed"]
)
async def test_every_step_boundary_interrupted_once(
    world: World, fault: type[BaseException], answered: bool, known: bool
) -> None:
    for after in itertools.count(1):
        call_id, number, record_id = await world.call(answered, known)
        faults = Faults(after, fault)
        await world.run_sync(call_id, faults)
        await world.run_sync(call_id, None)
        journaled = not faults.hit or fault is not Cancelled
        unrecorded = frozenset(faults.unrecorded)
        await assert_true_history(
            world, call_id, number, record_id, rerun=journaled, unrecorded=unrecorded
        )
        if not faults.hit:  # the run made fewer writes: every boundary was tried
            break
    assert after > 1, "the run made no CRM write to interrupt"


interruptions = st.lists(
    st.tuples(st.integers(1, 6), st.sampled_from([Cancelled, Failed, Hung])), max_size=4
)


@settings(max_examples=20)
@given(answered=st.booleans(), known=st.booleans(), runs=interruptions)
async def test_any_sequence_of_interrupted_runs(
    world: World, answered: bool, known: bool, runs: list[tuple[int, type[BaseException]]]
) -> None:
    call_id, number, record_id = await world.call(answered, known)
    completed, unrecorded = False, frozenset[str]()
    for after, fault in runs:
        faults = Faults(after, fault)
        await world.run_sync(call_id, faults)
        completed = completed or not faults.hit or fault is not Cancelled
        unrecorded |= faults.unrecorded
    await world.run_sync(call_id, None)
    await assert_true_history(
        world, call_id, number, record_id, rerun=completed, unrecorded=unrecorded
    )
