"""The matrix's actions, one executor per action type behind one table (:data:`EXECUTORS`).

A run (:class:`Run`) carries out a :class:`~callbridge.sync.decide.Decision`: the record stage
(the contact, the deal) before the call is logged, the follow-ups after. Each executor reports
its step on the call's page and writes with an external id derived from the call, so a retry
never writes twice.
"""

from __future__ import annotations

from collections.abc import Mapping

from callbridge.rules.matrix import ActionType
from callbridge.rules.plan import Step
from callbridge.sync.executors.base import Executor, Outcome, Run, Stage
from callbridge.sync.executors.contact import create_contact
from callbridge.sync.executors.deal import create_deal, open_deal
from callbridge.sync.executors.note import note_who_answered
from callbridge.sync.executors.owner import set_deal_owner
from callbridge.sync.executors.recording import attach_recording, deal_to_link
from callbridge.sync.executors.task import create_task

EXECUTORS: Mapping[ActionType, Executor] = {
    ActionType.CREATE_CONTACT: Executor(Stage.RECORD, create_contact),
    ActionType.CREATE_DEAL: Executor(Stage.RECORD, create_deal),
    ActionType.ATTACH_RECORDING: Executor(Stage.FOLLOW_UP, attach_recording),
    ActionType.SET_DEAL_OWNER: Executor(Stage.FOLLOW_UP, set_deal_owner),
    ActionType.CREATE_TASK: Executor(Stage.FOLLOW_UP, create_task),
    ActionType.NOTE_WHO_ANSWERED: Executor(Stage.FOLLOW_UP, note_who_answered),
}


async def execute(run: Run, step: Step) -> None:
    """Carry out one step with its action type's executor."""
    await EXECUTORS[step.action.type].carry_out(run, step)


async def execute_stage(run: Run, stage: Stage) -> None:
    """Carry out, in order, the planned steps of one stage."""
    for step in run.decision.steps:
        if EXECUTORS[step.action.type].stage is stage:
            await execute(run, step)


__all__ = [
    "EXECUTORS",
    "Executor",
    "Outcome",
    "Run",
    "Stage",
    "deal_to_link",
    "execute",
    "execute_stage",
    "open_deal",
]
