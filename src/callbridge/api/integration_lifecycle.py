"""An integration's life: disabled and enabled by an admin, deleted.

A disabled integration gets no new sync (the fold skips it), its queued syncs end as skipped
("integration disabled"), and the dialer searches it no more; enabling it applies to the next
call. Deleting it removes it and every row it owns (docs/operations.md, "Disabling and deleting
an integration"); the calls stay, without its syncs.
"""

from __future__ import annotations

import functools

from fastapi import APIRouter, HTTPException
from sqlalchemy import Table

from callbridge.api.deps import PrincipalDep, RuntimeDep
from callbridge.api.integration_models import IntegrationDeleted, IntegrationShown, show
from callbridge.queue import jobs
from callbridge.refusal_codes import refusal
from callbridge.runtime import Runtime
from callbridge.storage import integrations as repo
from callbridge.storage import sql
from callbridge.storage.integrations import ACTIVE, DISABLED
from callbridge.web.fields import PathId
from callbridge.web.refusals import AUTHENTICATED, CONFLICT, NOT_FOUND

router = APIRouter(tags=["integrations"], responses=AUTHENTICATED)


def disabled_reason(integration_id: str) -> str:
    """Say why a disabled integration syncs nothing, and how to turn it back on."""
    return (
        "disabled by an admin: no call is synced to this CRM; "
        f"enable it with POST /integrations/{integration_id}/enable"
    )


@functools.cache
def owned_tables() -> list[Table]:
    """Return every table with an ``integration_id`` column, each before those it refers to.

    ``callbridge.runtime.schema`` puts the core's tables, the queue's and every registered
    connector's (its ``ConnectorSpec.tables``) on one metadata.
    """
    from callbridge.runtime import schema

    return [t for t in reversed(schema.metadata.sorted_tables) if "integration_id" in t.c]


async def set_status(
    runtime: Runtime, company_id: str, integration_id: str, **change: str | None
) -> bool:
    """Change the integration's status under a condition on it; False if it did not apply."""
    async with runtime.sessions.begin() as session:
        return await sql.run(
            session, repo.update_integration, company_id, integration_id, runtime.clock(), **change
        )


class SyncRunning(Exception):
    """A sync of the integration runs: deleting it now would race with its writes."""

    def __init__(self, integration_id: str, call_id: str) -> None:
        super().__init__(f"a sync of call {call_id} is running in integration {integration_id}")
        self.call_id = call_id

    def advice(self, disable: str) -> str:
        """Say what to do, ``disable`` naming how to disable it where the caller is."""
        return (
            f"{self}: disable it ({disable}) so that no new sync starts, then delete it again "
            "once that sync has ended (seconds, usually)"
        )


async def switch(runtime: Runtime, company_id: str, integration_id: str, *, on: bool) -> bool:
    """Enable (``on``) or disable the integration; True if its status changed."""
    if on:
        return await set_status(
            runtime, company_id, integration_id, if_status=DISABLED, status=ACTIVE,
            status_reason=None, status_reason_code=None,
        )  # fmt: skip
    if not await set_status(
        runtime, company_id, integration_id, unless_status=DISABLED, status=DISABLED,
        status_reason=disabled_reason(integration_id), status_reason_code=repo.DISABLED_BY_ADMIN,
    ):  # fmt: skip
        return False
    # Its waiting syncs (paused, a grace window, a retry) end now rather than at their time.
    await runtime.queue.wake(jobs.sync_lock_prefix(integration_id))
    return True


async def remove(runtime: Runtime, company_id: str, integration_id: str) -> dict[str, int] | None:
    """Delete the integration and what it owns; count it by table (None: no such integration).

    Raise :class:`SyncRunning` naming the call while one of its syncs runs.
    """
    async with runtime.sessions.begin() as session:
        # Before the integration's lock, in the order a sync binding an intent takes them.
        await sql.run(session, repo.forget_in_intents, company_id, integration_id)
        if not await sql.run(session, repo.lock_integration, company_id, integration_id):
            return None
        running = await sql.run(
            session, repo.running_sync, company_id, integration_id, runtime.clock()
        )
        if running is not None:
            raise SyncRunning(integration_id, running)
        removed = await sql.run(
            session, repo.delete_integration, company_id, integration_id, owned_tables()
        )
    # Its queued syncs find it gone and end at once, writing nothing.
    await runtime.queue.wake(jobs.sync_lock_prefix(integration_id))
    return removed


@router.post("/integrations/{integration_id}/disable", responses=NOT_FOUND)
async def disable(
    integration_id: PathId, who: PrincipalDep, runtime: RuntimeDep
) -> IntegrationShown:
    """Stop syncing calls to the integration; its queued syncs end as skipped."""
    return await _switched(runtime, who.company_id, integration_id, on=False)


@router.post("/integrations/{integration_id}/enable", responses=NOT_FOUND)
async def enable(
    integration_id: PathId, who: PrincipalDep, runtime: RuntimeDep
) -> IntegrationShown:
    """Sync calls to a disabled integration again, from the next call that ends."""
    return await _switched(runtime, who.company_id, integration_id, on=True)


async def _switched(
    runtime: Runtime, company_id: str, integration_id: str, *, on: bool
) -> IntegrationShown:
    """Switch the integration on or off; return it as it now is."""
    await switch(runtime, company_id, integration_id, on=on)
    return await show(runtime, company_id, integration_id)


@router.delete("/integrations/{integration_id}", responses={**NOT_FOUND, **CONFLICT})
async def delete(
    integration_id: PathId, who: PrincipalDep, runtime: RuntimeDep
) -> IntegrationDeleted:
    """Delete the integration and what it owns; the calls stay, without its syncs."""
    try:
        removed = await remove(runtime, who.company_id, integration_id)
    except SyncRunning as err:
        how = f"POST /integrations/{integration_id}/disable"
        running = refusal(
            "sync_running", call_id=err.call_id, integration_id=integration_id, disable=how
        )
        raise HTTPException(409, running) from err
    if removed is None:
        raise HTTPException(404, refusal("no_integration", integration_id=integration_id))
    return IntegrationDeleted(id=integration_id, removed=removed)
