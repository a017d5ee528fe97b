"""What every executor is handed: the run of one decision, and how it reports each step."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from callbridge.connectors.base import Connector
from callbridge.domain.call import Call
from callbridge.domain.deal import Deal
from callbridge.domain.phone import PhoneNumber
from callbridge.domain.record import CrmRecord
from callbridge.rules.matrix import Assignee
from callbridge.rules.plan import Step
from callbridge.rules.scenario import Outcome as CallOutcome
from callbridge.rules.scenario import Scenario
from callbridge.runtime import Runtime
from callbridge.sync import writes
from callbridge.sync.decide import Decision
from callbridge.sync.people import People
from callbridge.sync.writes import SyncContext


@dataclass(frozen=True)
class Outcome:
    """What one step did: ``done`` or ``skipped``, the reason, and the id it produced."""

    status: str
    reason: str | None = None
    result_id: str | None = None


@dataclass
class Run:
    """One run carrying out a decision: what its executors share, and what they produce."""

    runtime: Runtime
    ctx: SyncContext
    connector: Connector
    number: PhoneNumber
    decision: Decision
    people: People
    targets: list[CrmRecord] = field(default_factory=list)
    deal: Deal | None = None  # the call's deal: made by a step, or the client's open deal

    @property
    def scenario(self) -> Scenario:
        """Return the scenario being carried out (an internal call has no run)."""
        assert self.decision.scenario is not None
        return self.decision.scenario

    @property
    def record(self) -> CrmRecord:
        """Return the record the call's deal, tasks and notes go to: the first target."""
        return self.targets[0]

    @property
    def call_key(self) -> str:
        """Return the prefix of every external id this call's writes carry."""
        return f"callbridge:{self.ctx.call_id}"

    @functools.cached_property
    def moment(self) -> datetime:
        """Return when the call ended (else started, else now): tasks are due from then."""
        call = self.ctx.call
        return call.ended_at or call.started_at or self.runtime.clock()

    @functools.cached_property
    def words(self) -> dict[str, str]:
        """Return the placeholders templates may use."""
        answered = self.scenario.outcome is CallOutcome.ANSWERED
        return words(
            self.ctx.call,
            self.number.international(),
            self.people,
            "answered" if answered else "missed",
        )

    def report(self, action: str, target: str, outcome: Outcome) -> None:
        """Note what one action did, for the call's page (written with the run)."""
        writes.action(
            self.runtime,
            self.ctx,
            action,
            target,
            outcome.status,
            outcome.reason,
            outcome.result_id,
        )

    def person(self, who: Assignee | None) -> str | None:
        """Return the CRM user id standing for ``who`` on this call."""
        if who is Assignee.AGENT:
            return self.people.agent_crm_id
        if who is Assignee.TOP_MANAGER:
            return self.people.top_manager_crm_id
        if who is Assignee.RESPONSIBLE:
            return self.record.owner or (self.deal.owner if self.deal else None)
        return None


class Stage(Enum):
    """When in a run an action is carried out, around logging the call."""

    RECORD = "before the call is logged: it makes what the call is logged on"
    FOLLOW_UP = "after the call is logged"


@dataclass(frozen=True)
class Executor:
    """How one action type is carried out: when in the run, and by what."""

    stage: Stage
    carry_out: Callable[[Run, Step], Awaitable[None]]


def follow_up(
    body: Callable[[Run, Step], Awaitable[Outcome]],
) -> Callable[[Run, Step], Awaitable[None]]:
    """Wrap a step's body: a skipped step is reported skipped, a run one with its outcome."""

    @functools.wraps(body)
    async def carry_out(run: Run, step: Step) -> None:
        outcome = Outcome("skipped", step.skip) if step.skip else await body(run, step)
        run.report(step.action.type, step.key, outcome)

    return carry_out


def render(template: str, values: dict[str, str]) -> str:
    """Replace ``{name}`` placeholders with the call's words; unknown ones are left as typed."""
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


def words(call: Call, phone: str, people: People, outcome: str) -> dict[str, str]:
    """Return the placeholders templates may use."""
    started = call.started_at.isoformat() if call.started_at else "an unknown time"
    return {
        "phone": phone,
        "agent": people.agent_label,
        "outcome": outcome,
        "direction": call.direction.value if call.direction else "unknown",
        "started_at": started,
        "duration": str(call.duration or 0),
    }
