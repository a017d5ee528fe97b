"""Run the job worker: the embedded one inside ``serve`` or standalone ``callbridge worker``.

Every job run is counted (``callbridge_jobs_total``, ``callbridge_job_seconds``) in the process
that runs it; a standalone worker exports its figures as docs/operations.md says ("Metrics").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Iterator

from prometheus_client import multiprocess, start_http_server

from callbridge.errors import RateLimited
from callbridge.pipeline import handlers
from callbridge.queue.base import Handler, Payload
from callbridge.runtime import Runtime
from callbridge.runtime.metrics import JOB_SECONDS, JOBS, process_registry

log = logging.getLogger("callbridge.service.worker")
RESTART_SECONDS = 2.0


def measured(task: str, handler: Handler) -> Handler:
    """Wrap ``handler`` to count its runs by outcome (ok, rescheduled, error) and time them."""

    async def run(payload: Payload) -> None:
        started = time.perf_counter()
        try:
            await handler(payload)
        except RateLimited as err:  # a CRM's limit or an open circuit breaker: not a failure
            JOBS.labels(task=task, outcome="rescheduled").inc()
            log.info("job %s waits %.0f s: %s", task, err.retry_after, err)
            raise
        except Exception:
            JOBS.labels(task=task, outcome="error").inc()
            log.warning("job %s failed", task, exc_info=True)
            raise
        finally:
            JOB_SECONDS.labels(task=task).observe(time.perf_counter() - started)
        JOBS.labels(task=task, outcome="ok").inc()

    return run


async def run_worker(runtime: Runtime, stop: asyncio.Event) -> None:
    """Drain the queue with the pipeline's handlers until ``stop`` is set, restarting on crash."""
    counted = {task: measured(task, h) for task, h in handlers(runtime.for_worker()).items()}
    while not stop.is_set():
        try:
            await runtime.queue.work(
                counted, stop=stop, concurrency=runtime.settings.worker_concurrency
            )
        except Exception:  # a dead worker must never go unnoticed, nor stay dead
            log.exception("the job worker crashed; restarting it in %s s", RESTART_SECONDS)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), RESTART_SECONDS)


@contextlib.contextmanager
def exported_metrics(port: int | None, host: str) -> Iterator[None]:
    """Serve this host's metrics on ``port`` while a standalone worker runs (no port: none).

    In multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``) the process is marked dead on the way
    out, so gauges of live processes stop counting it; its counters stay in the sums.
    """
    server = None
    if port is not None:
        server, _ = start_http_server(port, addr=host, registry=process_registry())
        log.info("metrics on http://%s:%s/metrics", host, port)
    try:
        yield
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


async def run_standalone(runtime: Runtime, stop: asyncio.Event, metrics_port: int | None) -> None:
    """Run ``callbridge worker``: the job worker, its metrics exported, until ``stop`` is set."""
    with exported_metrics(metrics_port, runtime.settings.host):
        await run_worker(runtime, stop)
