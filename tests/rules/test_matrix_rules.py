"""Pure matrix rules: the default plan for every scenario, create-contact cells, the parser."""

from __future__ import annotations

import pytest

from callbridge.domain.capability import Capability
from callbridge.domain.event import Direction
from callbridge.errors import MatrixError
from callbridge.rules.default_matrix import DEFAULT_MATRIX_JSON, default_matrix
from callbridge.rules.matrix import matrix_to_json, parse_matrix
from callbridge.rules.plan import contact_cell, plan
from callbridge.rules.scenario import Client, Employee, Outcome, Scenario

ALL = frozenset(Capability)
IN, OUT = Direction.INCOMING, Direction.OUTGOING
NEW, OLD = Client.NEW, Client.EXISTING
ANS, MISS = Outcome.ANSWERED, Outcome.MISSED


@pytest.mark.parametrize(
    ("scenario", "actions"),
    [
        (Scenario(NEW, IN, ANS, Employee.KNOWN), ["create_deal", "attach_recording"]),
        (Scenario(OLD, IN, ANS, Employee.KNOWN), ["attach_recording", "note_who_answered"]),
        (Scenario(NEW, IN, MISS, Employee.NONE), ["create_deal", "create_task"]),
        (Scenario(OLD, IN, MISS, Employee.NONE), ["create_task"]),
        (Scenario(OLD, OUT, ANS, Employee.KNOWN), ["attach_recording"]),
        (Scenario(NEW, OUT, MISS, Employee.KNOWN), []),
        (
            Scenario(OLD, IN, ANS, Employee.UNKNOWN),
            ["attach_recording", "note_who_answered", "create_task"],
        ),
    ],
)
def test_default_plan(scenario: Scenario, actions: list[str]) -> None:
    steps = plan(default_matrix(), scenario, ALL)
    assert [s.action.type.value for s in steps] == actions
    assert all(s.skip is None for s in steps)


def test_missed_tasks_are_due_in_four_hours() -> None:
    steps = plan(default_matrix(), Scenario(NEW, IN, MISS, Employee.NONE), ALL)
    task = next(s.action for s in steps if s.action.type == "create_task")
    assert (task.assignee, task.due_in_minutes) == ("top_manager", 240)


def test_missing_capabilities_are_skipped_with_a_reason() -> None:
    steps = plan(default_matrix(), Scenario(NEW, IN, MISS, Employee.NONE), {Capability.LOG_CALL})
    assert [s.skip for s in steps] == [
        "the CRM cannot do this (no 'deals' capability)",
        "the CRM cannot do this (no 'tasks' capability)",
    ]


def test_capabilities_spelled_as_strings_are_refused() -> None:
    scenario = Scenario(NEW, IN, MISS, Employee.NONE)
    with pytest.raises(TypeError, match="'deals'"):
        plan(default_matrix(), scenario, {Capability.LOG_CALL, "deals"})  # type: ignore[arg-type]


def test_contact_cells_follow_the_policy_unless_overridden() -> None:
    scenario = Scenario(NEW, IN, MISS, Employee.NONE)
    assert contact_cell(default_matrix(), scenario, False, "policy says no").source == "policy"
    data = matrix_to_json(default_matrix())
    data["rules"][2]["actions"][0]["mode"] = "always"
    cell = contact_cell(parse_matrix(data), scenario, False, "policy says no")
    assert (cell.create, cell.source) == (True, "override")


def test_round_trip() -> None:
    assert parse_matrix(matrix_to_json(default_matrix())) == default_matrix()
    assert matrix_to_json(parse_matrix(DEFAULT_MATRIX_JSON))["rules"][0]["name"]


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ([], "$"),
        ({"rules": [], "colour": "red"}, "colour"),
        (
            {"rules": [{"actions": [{"type": "create_task", "due_in_minutes": True}]}]},
            "rules.0.actions.0.due_in_minutes",
        ),
        (
            {"rules": [{"actions": [{"type": "attach_recording", "to": ["invoice"]}]}]},
            "rules.0.actions.0.to",
        ),
        (
            {"rules": [{"actions": [{"type": "create_deal", "assignee": "agent"}]}]},
            "rules.0.actions.0.assignee",
        ),
        ({"rules": [{"actions": ["create_deal"]}]}, "rules.0.actions.0"),
    ],
)
def test_parser_names_the_path(data: object, where: str) -> None:
    with pytest.raises(MatrixError) as caught:
        parse_matrix(data)
    assert caught.value.path == where


def test_classify_voicemail_internal_and_employees() -> None:
    from datetime import UTC, datetime

    from callbridge.domain.call import Call, fold
    from callbridge.domain.event import CallEvent, EventKind
    from callbridge.rules.scenario import classify

    def call(kind: EventKind, direction: Direction) -> Call:
        return fold(
            [CallEvent("e", "c", kind, datetime(2026, 11, 22, tzinfo=UTC), direction=direction)]
        )

    voicemail = call(EventKind.VOICEMAIL, IN)
    missed = classify(voicemail, matched=True, agent_mapped=None)
    assert missed is not None and missed.key == "incoming.existing.missed.none"
    answered = classify(
        voicemail,
        matched=False,
        agent_mapped=False,
        voicemail_is_missed=False,
    )
    assert answered is not None and answered.key == "incoming.new.answered.unknown"
    internal = call(EventKind.ENDED, Direction.INTERNAL)
    assert classify(internal, matched=False, agent_mapped=True) is None
