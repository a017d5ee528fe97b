"""Prometheus metrics: what every process counted, and the job queue's state read at scrape time.

Counters and histograms (:mod:`callbridge.runtime.metrics`) live in the process that counts (the API
counts webhooks, workers count jobs). With several processes on one host, set
``PROMETHEUS_MULTIPROC_DIR`` for all of them: each writes its figures to that directory and
``/metrics`` adds them up. Workers on other hosts serve
their own figures with ``callbridge worker --metrics-port``. Jobs waiting for a retry and dead
letters are rows in the database, so they are counted there when scraped, never by a process
that may have died since; so are the integrations whose CRM circuit breaker is open, shared by
every worker (docs/operations.md, "Metrics").
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from callbridge.api.deps import RuntimeDep
from callbridge.queue.base import JobCounts
from callbridge.queue.breaker import open_by_state
from callbridge.runtime import Runtime
from callbridge.runtime.metrics import process_registry
from callbridge.storage import units

log = logging.getLogger("callbridge.runtime.metrics")

# The queue's rows by state, named as operators look for them.
_QUEUE_GAUGES = {
    "waiting": ("callbridge_jobs_waiting", "Jobs waiting for their first run"),
    "retry": ("callbridge_jobs_waiting_for_retry", "Jobs that failed and wait to run again"),
    "running": ("callbridge_jobs_running", "Jobs being run by a worker"),
    "dead": ("callbridge_dead_letters", "Jobs that failed for good (replay with the CLI)"),
}

router = APIRouter(tags=["health"])


@dataclass(frozen=True)
class DatabaseState:
    """What the metrics read in the database when scraped."""

    jobs: JobCounts
    breakers: dict[str, int]  # integrations by breaker state, "open" or "half_open"
    unreachable_seconds: float  # the longest outage going on (since its first failure), or 0


class QueueState(Collector):
    """The queue's jobs and the breakers, as read in the database at scrape time."""

    def __init__(self, state: DatabaseState | None) -> None:
        self._state = state

    def collect(self) -> Iterator[Metric]:
        """Yield one gauge per job state (by task), the breakers, and whether the read ran."""
        readable = GaugeMetricFamily(
            "callbridge_queue_readable", "1 when the queue's jobs could be counted, else 0"
        )
        readable.add_metric([], 0.0 if self._state is None else 1.0)
        yield readable
        if self._state is None:
            return
        for state, (name, documentation) in _QUEUE_GAUGES.items():
            gauge = GaugeMetricFamily(name, documentation, labels=["task"])
            for (task, counted_state), count in sorted(self._state.jobs.items()):
                if counted_state == state:
                    gauge.add_metric([task], float(count))
            yield gauge
        yield from self._breakers(self._state)

    @staticmethod
    def _breakers(state: DatabaseState) -> Iterator[Metric]:
        opened = GaugeMetricFamily(
            "callbridge_circuit_breakers",
            "Integrations whose CRM breaker is open (syncs wait) or half_open (a probe runs)",
            labels=["state"],
        )
        for name in ("open", "half_open"):
            opened.add_metric([name], float(state.breakers.get(name, 0)))
        yield opened
        yield GaugeMetricFamily(
            "callbridge_crm_unreachable_seconds",
            "How long the longest CRM outage going on has lasted (0 when every CRM answers)",
            value=state.unreachable_seconds,
        )


async def read_database(runtime: Runtime) -> DatabaseState:
    """Count the queue's jobs and the open breakers, now."""
    jobs = await runtime.queue.job_counts()
    rows = await units.read(runtime.engine, open_by_state)
    starts = [since for _, _, since in rows if since is not None]
    longest = (runtime.clock() - min(starts)).total_seconds() if starts else 0.0
    by_state = {state: count for state, count, _ in rows}
    return DatabaseState(jobs, by_state, max(longest, 0.0))


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def metrics(runtime: RuntimeDep) -> Response:
    """Expose the metrics in the Prometheus text format."""
    state: DatabaseState | None
    try:
        state = await read_database(runtime)
    except Exception:  # the processes' figures are still worth serving
        log.warning("reading the queue's state for /metrics failed", exc_info=True)
        state = None
    queue = CollectorRegistry(auto_describe=False)
    queue.register(QueueState(state))
    body = generate_latest(process_registry()) + generate_latest(queue)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
