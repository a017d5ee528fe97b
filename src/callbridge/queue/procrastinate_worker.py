"""Procrastinate's worker, with slots a job lends while it waits (``queue.slots.parked``).

Procrastinate's worker takes a slot of its semaphore before it fetches a job and gives it back
when the job ends. Here that semaphore is the worker's :class:`WorkerSlots`: a sync waiting for
a CRM lends its slot, so the worker fetches and starts another job meanwhile, jobs coming back
from a wait go before new ones, and at most ``concurrency * (1 + PARKED_PER_SLOT)`` jobs are
under way. Without it a sync held its slot through every CRM round trip: four syncs at once a
worker (~40 calls/s), and too few syncs at once for HubSpot's batches to gather any.

A job that adopted a successor (``queue.successor``) was settled by the unit that adopted it:
Procrastinate's own finish of it (``Worker._persist_job_status``) is skipped.

The semaphore is an attribute procrastinate does not document (``Worker._job_semaphore``, read
in ``_fetch_and_process_jobs``, set again in ``_run_loop``); the version is pinned, and
``tests/queue`` runs the lending tests on this worker, so a release that renames it fails them.
"""

from __future__ import annotations

from typing import Any

import procrastinate.worker
from procrastinate.job_context import JobResult

from callbridge.queue.slot_pool import WorkerSlots


class LendingWorker(procrastinate.worker.Worker):
    """Procrastinate's worker whose job slots are a :class:`WorkerSlots`."""

    def __init__(self, app: procrastinate.App, *, concurrency: int, **options: Any) -> None:
        self.slots = WorkerSlots(concurrency)
        # Jobs settled by the unit that adopted their successor (``queue.successor``): their
        # row is gone, so Procrastinate must not finish or retry them.
        self.settled: set[int] = set()
        super().__init__(app=app, concurrency=concurrency, **options)

    async def _persist_job_status(
        self,
        job: procrastinate.jobs.Job,
        status: procrastinate.jobs.Status,
        retry_decision: procrastinate.RetryDecision | None,
        context: procrastinate.JobContext,
        job_result: JobResult | None,
    ) -> None:
        """Finish or retry the job as Procrastinate does, unless it was settled already."""
        if job.id in self.settled:
            self.settled.discard(job.id)
            return
        await super()._persist_job_status(
            job=job,
            status=status,
            retry_decision=retry_decision,
            context=context,
            job_result=job_result,
        )

    # Procrastinate types it a Semaphore; it only calls acquire() and release().
    @property  # type: ignore[override]
    def _job_semaphore(self) -> WorkerSlots:
        """Return the slots procrastinate takes before a fetch and gives back after a job."""
        return self.slots

    @_job_semaphore.setter
    def _job_semaphore(self, _semaphore: object) -> None:
        """Keep the slots: procrastinate sets a plain semaphore at start and at each run."""
