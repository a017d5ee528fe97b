"""The kinds of jobs Callbridge runs and their keys, spelled once.

Two kinds run a call through the pipeline:
- ``fold``: fold a provider call's events into one call. Lock ``call:{source}:{provider call}``
  (one fold of a call at a time); queueing lock ``fold:{source}:{provider call}`` (one waiting).
- ``sync``: sync a final call to one integration. Lock ``sync:{integration}:{e164}``: all work for
  one number in one integration runs one at a time, which is what guarantees no duplicate
  contact (a call without a matchable number locks on ``call:{call id}`` instead). Queueing lock
  ``sync:{call}:{integration}`` (one waiting sync of a call per integration).
"""

from __future__ import annotations

from datetime import datetime

from callbridge.queue.base import NewJob

FOLD = "fold"
SYNC = "sync"
# A sync payload's key: when the agent's grace window to choose the call's record(s) ends.
CHOICE_UNTIL = "choice_until"


def fold_job(company_id: str, source_id: str, provider_call_id: str) -> NewJob:
    """Return the job that folds one provider call's events."""
    key = f"{source_id}:{provider_call_id}"
    payload = {"company_id": company_id, "source_id": source_id, "call": provider_call_id}
    return NewJob(FOLD, payload, lock_key=f"call:{key}", queueing_lock=f"fold:{key}")


def sync_job(
    company_id: str,
    call_id: str,
    integration_id: str,
    e164: str | None,
    delay: float = 0.0,
    *,
    choice_until: datetime | None = None,
) -> NewJob:
    """Return the job that syncs a final call to one integration, locked on its number.

    ``choice_until``: the end of the agent's grace window to choose the call's record(s).
    """
    payload = {"company_id": company_id, "call_id": call_id, "integration_id": integration_id}
    if choice_until is not None:
        payload[CHOICE_UNTIL] = choice_until.isoformat()
    number = e164 if e164 is not None else f"call:{call_id}"
    return NewJob(
        SYNC,
        payload,
        lock_key=f"{sync_lock_prefix(integration_id)}{number}",
        queueing_lock=f"sync:{call_id}:{integration_id}",
        delay_seconds=delay,
    )


def sync_lock_prefix(integration_id: str) -> str:
    """Return the start of the lock key of every sync job of an integration."""
    return f"sync:{integration_id}:"
