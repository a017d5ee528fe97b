"""The one decision, explored: scenario, records and why, contact creation, plan (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from callbridge.domain.capability import Capability
from callbridge.domain.event import Direction
from callbridge.domain.record import CrmRecord, ObjectType
from callbridge.rules.agent_choice import Choice, How
from callbridge.rules.automatic_pick import pick
from callbridge.rules.matrix import ActionType, parse_matrix
from callbridge.rules.plan import contact_cell, plan
from callbridge.rules.policy import CreationPolicy, decide_creation
from callbridge.rules.scenario import Client, Employee, Outcome, Scenario, classify
from callbridge.storage.agent_choices import Chosen
from callbridge.sync.decide import Source, decide
from callbridge.sync.record_lookup import Resolved
from tests.sync.decision_inputs import a_call, found, loaded, number

RECORDS = [
    CrmRecord(f"r{i}", kind, f"Record {i}", owner=f"crm-{i % 2}")
    for i, kind in enumerate([ObjectType.CONTACT, ObjectType.LEAD, ObjectType.CONTACT])
]
scenarios = st.builds(
    Scenario,
    st.sampled_from(Client),
    st.sampled_from([Direction.INCOMING, Direction.OUTGOING]),
    st.sampled_from(Outcome),
    st.sampled_from(Employee),
)


@dataclass(frozen=True)
class Case:
    """One generated call with what was read about it."""

    direction: str
    answered: bool
    candidates: list[CrmRecord]
    agent: bool | None
    capabilities: frozenset[Capability]
    policy: CreationPolicy
    linked: list[str]
    decided: Scenario | None
    declined: str | None
    chosen: list[str] | None  # ids the agent chose
    missing: bool  # the chosen (or clicked) records are not in the CRM
    clicked: str | None

    def inputs(self) -> tuple[Any, Any]:
        """Return the Loaded and Found the case stands for."""
        extra = {"crm_record_id": self.clicked} if self.clicked else {}
        call = a_call(self.direction, self.answered, **extra)
        links = {rid: {"activity_id": f"a-{rid}", "object_type": "contact"} for rid in self.linked}
        decided = (self.decided.key, 3) if self.decided else None
        read = loaded(
            call, policy=self.policy, links=links, decided=decided, declined=self.declined
        )
        chosen, resolved, named = None, None, self.chosen
        if named is not None:
            choices = tuple(Choice("integration-1", rid, ObjectType.CONTACT, "") for rid in named)
            chosen = Chosen(choices, How.IN_CALL.value, "Ann")
        elif self.clicked and not self.linked:
            named = [self.clicked]
        if named is not None:
            records = [r for r in RECORDS if r.id in named]
            resolved = Resolved([], named) if self.missing else Resolved(records, [])
        seen = found(
            self.candidates,
            agent=self.agent,
            capabilities=self.capabilities,
            chosen=chosen,
            given=resolved,
        )
        return read, seen


ids = st.sampled_from([r.id for r in RECORDS])
cases = st.builds(
    Case,
    direction=st.sampled_from(["incoming", "outgoing"]),
    answered=st.booleans(),
    candidates=st.lists(st.sampled_from(RECORDS), unique=True, max_size=3),
    agent=st.none() | st.booleans(),
    capabilities=st.frozensets(st.sampled_from(Capability)),
    policy=st.sampled_from(CreationPolicy),
    linked=st.lists(ids, unique=True, max_size=2),
    decided=st.none() | scenarios,
    declined=st.none() | st.just("an earlier run created no contact"),
    chosen=st.none() | st.lists(ids, unique=True, min_size=1, max_size=2),
    missing=st.booleans(),
    clicked=st.none() | ids,
)


@settings(max_examples=300)
@given(case=cases)
def test_the_decision_follows_the_rules_in_their_order(case: Case) -> None:
    read, seen = case.inputs()
    decision = decide(read, number(), seen)
    matrix = parse_matrix(read.matrix_json)
    expected = case.decided or classify(
        read.ctx.call,
        matched=bool(case.candidates),
        agent_mapped=case.agent,
        voicemail_is_missed=matrix.voicemail_is_missed,
    )
    assert decision.scenario == expected and expected is not None
    assert (decision.reused, decision.matrix_version) == (case.decided is not None, 0)
    assert decision.steps == tuple(plan(matrix, expected, case.capabilities))
    assert all(s.action.type is not ActionType.CREATE_CONTACT for s in decision.steps)
    targets = decision.targets
    given_ids = [] if case.missing else [r.id for r in RECORDS if r.id in (case.chosen or [])]
    if case.chosen is not None and given_ids:
        assert (targets.source, [r.id for r in targets.records]) == (Source.CHOICE, given_ids)
        assert list(targets.moves) == [rid for rid in case.linked if rid not in given_ids]
        assert targets.rule.startswith("in-call: chosen by Ann")
    elif case.chosen is None and case.linked:
        assert (targets.source, [r.id for r in targets.records]) == (Source.KEPT, case.linked)
    elif case.chosen is None and case.clicked and not case.missing:
        assert (targets.source, [r.id for r in targets.records]) == (
            Source.CLICK_TO_DIAL,
            [case.clicked],
        )
    else:
        automatic = pick(case.candidates)
        assert (targets.source, targets.records) == (Source.RULE, automatic.records)
        fell_back = case.chosen is not None or case.clicked is not None
        assert targets.rule.endswith(automatic.rule)
        assert fell_back == ("is not in this CRM" in targets.rule)
    assert targets.moves == () or targets.source is Source.CHOICE


@settings(max_examples=300)
@given(case=cases)
def test_a_contact_is_weighed_only_for_a_call_without_records(case: Case) -> None:
    read, seen = case.inputs()
    decision = decide(read, number(), seen)
    assert (decision.creation is None) == bool(decision.targets.records)
    if decision.creation is None or decision.scenario is None:
        return
    cell = decision.creation
    if Capability.CREATE_CONTACT not in case.capabilities:
        assert (cell.create, cell.source) == (False, "capability")
    elif case.declined is not None:
        assert (cell.create, cell.source, cell.reason) == (False, "first decision", case.declined)
    else:
        policy = decide_creation(case.policy, read.ctx.call.call_types())
        matrix = parse_matrix(read.matrix_json)
        assert cell == contact_cell(matrix, decision.scenario, policy.create, policy.reason)


def test_the_first_runs_matrix_version_is_kept() -> None:
    matrix = {"rules": [{"name": "only tasks", "actions": [{"type": "create_task"}]}]}
    read = loaded(a_call("incoming", False), matrix=matrix, version=7, decided=None)
    decision = decide(read, number(), found())
    assert decision.matrix_version == 7
    assert [s.action.type for s in decision.steps] == [ActionType.CREATE_TASK]
