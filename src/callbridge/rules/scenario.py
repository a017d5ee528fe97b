"""Classify a call into the scenario the matrix speaks of (docs/matrix.md#scenarios)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from callbridge.domain.call import Call, CallState
from callbridge.domain.event import Direction


class Client(StrEnum):
    """Whether the caller was known to the CRM before this call."""

    NEW = "new"
    EXISTING = "existing"


class Outcome(StrEnum):
    """Whether a conversation took place."""

    ANSWERED = "answered"
    MISSED = "missed"


class Employee(StrEnum):
    """Whether the call's agent is mapped to a CRM user (``none``: the call names no agent)."""

    KNOWN = "known"
    UNKNOWN = "unknown"
    NONE = "none"


@dataclass(frozen=True)
class Scenario:
    """One cell of the matrix: new or existing client, direction, outcome, employee."""

    client: Client
    direction: Direction
    outcome: Outcome
    employee: Employee

    @property
    def key(self) -> str:
        """Return a stable, readable key such as ``incoming.new.answered.known``."""
        return ".".join((self.direction, self.client, self.outcome, self.employee))

    @classmethod
    def from_key(cls, key: str) -> Scenario:
        """Rebuild a scenario from :attr:`key`."""
        direction, client, outcome, employee = key.split(".")
        return cls(Client(client), Direction(direction), Outcome(outcome), Employee(employee))


def classify(
    call: Call, *, matched: bool, agent_mapped: bool | None, voicemail_is_missed: bool = True
) -> Scenario | None:
    """Return the call's scenario, or None for internal calls (nothing is written for them).

    ``agent_mapped`` is None when the call names no agent.
    """
    if call.direction not in (Direction.INCOMING, Direction.OUTGOING):
        return None
    answered = call.was_answered or (call.state is CallState.VOICEMAIL and not voicemail_is_missed)
    employee = (
        Employee.NONE
        if agent_mapped is None
        else Employee.KNOWN
        if agent_mapped
        else Employee.UNKNOWN
    )
    return Scenario(
        client=Client.EXISTING if matched else Client.NEW,
        direction=call.direction,
        outcome=Outcome.ANSWERED if answered else Outcome.MISSED,
        employee=employee,
    )
