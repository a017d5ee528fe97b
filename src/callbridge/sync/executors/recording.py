"""``attach_recording``: the call's activity, which carries the recording, also on the deal."""

from __future__ import annotations

from callbridge.domain.said import Code, Said
from callbridge.rules.matrix import ActionType
from callbridge.rules.plan import Step
from callbridge.sync.executors.base import Outcome, Run, follow_up

WAITING = Said(Code.NO_RECORDING_YET)


def deal_to_link(run: Run) -> str | None:
    """Return the deal the call's activity on its first record is linked to, if a step asks."""
    wanted = any(
        s.action.type is ActionType.ATTACH_RECORDING and "deal" in s.action.to and not s.skip
        for s in run.decision.steps
    )
    return run.deal.id if run.deal is not None and wanted else None


@follow_up
async def attach_recording(run: Run, step: Step) -> Outcome:
    """Report the recording: it travels on the activity logged (or updated) just before."""
    if run.ctx.call.recording_url is None:
        return Outcome("waiting", WAITING)
    return Outcome("done")
