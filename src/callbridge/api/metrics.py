"""Prometheus metrics of the service."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

WEBHOOKS = Counter("callbridge_webhooks_total", "Webhook deliveries", ["provider", "outcome"])
JOBS = Counter("callbridge_jobs_total", "Jobs run", ["task", "outcome"])
JOB_SECONDS = Histogram("callbridge_job_seconds", "Job run time", ["task"])

router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=Response)
async def metrics() -> Response:
    """Expose the metrics in the Prometheus text format."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
