"""``create_contact``: create the unknown caller's contact when the decision says so."""

from __future__ import annotations

from callbridge.connectors.base import Capability, supports
from callbridge.domain.said import Code, Said, without_owner
from callbridge.rules.plan import Step
from callbridge.sync import writes
from callbridge.sync.executors.base import Run


async def create_contact(run: Run, step: Step) -> None:
    """Create the contact (under a claim), making it the call's target; or report why not.

    The contact is owned by whoever the plan gives the call's deal (``Decision.contact_owner``).

    A caller left without a contact ends the sync as ``no_match``: a later run of the same call
    keeps that first decision (:func:`callbridge.rules.plan.decide_contact`).
    """
    e164 = run.number.e164
    if step.skip is None and supports(run.connector, Capability.CREATE_CONTACT):
        owned_by = run.decision.contact_owner
        owner = run.person(owned_by)
        reason = step.reason or step.rule
        if owned_by is not None and owner is None:
            reason = without_owner(reason, owned_by)
        record = await writes.create_contact(
            run.runtime, run.ctx, run.connector, run.number, reason, owner
        )
        run.targets = [record]
        return
    reason = step.skip or Said(Code.CRM_CANNOT_CREATE)
    writes.action(run.runtime, run.ctx, "create_contact", e164, "skipped", reason)
    await writes.save_sync(run.runtime, run.ctx, status="no_match", reason=reason)
