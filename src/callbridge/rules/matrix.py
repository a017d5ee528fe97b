"""The scenario matrix: for each call scenario, the actions to take (docs/matrix.md).

A matrix is JSON edited through the API; :func:`parse_matrix` is the one validator, and names
every problem it finds, each by its path (``rules.2.actions.0.assignee``): a field's problem does
not hide another field's, except inside what cannot be read at all (an action of an unknown type,
a rule or a list that is not one).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from callbridge.domain.event import Direction
from callbridge.errors import MatrixError
from callbridge.refusal_codes import refusal
from callbridge.rules.scenario import Client, Employee, Outcome, Scenario


class ActionType(StrEnum):
    """What a matrix cell can ask for."""

    CREATE_CONTACT = "create_contact"
    CREATE_DEAL = "create_deal"
    ATTACH_RECORDING = "attach_recording"
    SET_DEAL_OWNER = "set_deal_owner"
    CREATE_TASK = "create_task"
    NOTE_WHO_ANSWERED = "note_who_answered"


class Assignee(StrEnum):
    """Who a task or a deal goes to."""

    RESPONSIBLE = "responsible"
    TOP_MANAGER = "top_manager"
    AGENT = "agent"


class ContactMode(StrEnum):
    """A create-contact cell: follow the integration's creation policy, or override it."""

    FOLLOW = "follow"
    ALWAYS = "always"
    NEVER = "never"


@dataclass(frozen=True)
class Condition:
    """Which scenarios a rule applies to; None matches anything."""

    direction: Direction | None = None
    client: Client | None = None
    outcome: Outcome | None = None
    employee: Employee | None = None

    def matches(self, scenario: Scenario) -> bool:
        """Tell whether ``scenario`` satisfies every set field."""
        return all(
            want is None or want == got
            for want, got in (
                (self.direction, scenario.direction),
                (self.client, scenario.client),
                (self.outcome, scenario.outcome),
                (self.employee, scenario.employee),
            )
        )


@dataclass(frozen=True)
class Action:
    """One action of a rule, with the parameters its type uses."""

    type: ActionType
    mode: ContactMode = ContactMode.FOLLOW
    owner: Assignee | None = None
    to: tuple[str, ...] = ("contact", "deal")
    assignee: Assignee = Assignee.RESPONSIBLE
    due_in_minutes: int = 240
    title: str = "Call back {phone}"
    body: str = "{direction} call from {phone} on {started_at}, {outcome}. Agent: {agent}."


@dataclass(frozen=True)
class Rule:
    """A named rule: when its condition holds, its actions run (every matching rule runs)."""

    name: str
    when: Condition
    actions: tuple[Action, ...]


@dataclass(frozen=True)
class DealSettings:
    """How deals are named and placed."""

    name_template: str = "Call from {phone}"
    pipeline: str | None = None
    stage: str | None = None
    create_for_existing_without_open_deal: bool = False


@dataclass(frozen=True)
class Matrix:
    """The whole matrix of an integration."""

    rules: tuple[Rule, ...]
    deal: DealSettings = field(default_factory=DealSettings)
    voicemail_is_missed: bool = True


_ENUMS: dict[str, type[StrEnum]] = {
    "direction": Direction,
    "client": Client,
    "outcome": Outcome,
    "employee": Employee,
    "type": ActionType,
    "mode": ContactMode,
    "owner": Assignee,
    "assignee": Assignee,
}
_ACTION_KEYS = {
    ActionType.CREATE_CONTACT: {"mode"},
    ActionType.CREATE_DEAL: {"owner"},
    ActionType.ATTACH_RECORDING: {"to"},
    ActionType.SET_DEAL_OWNER: {"owner"},
    ActionType.CREATE_TASK: {"assignee", "due_in_minutes", "title", "body"},
    ActionType.NOTE_WHO_ANSWERED: set(),
}


def parse_matrix(data: Any) -> Matrix:
    """Validate matrix JSON and return it; raise MatrixError listing every problem by its path."""
    found: list[Problem] = []
    matrix = _matrix(data, found)
    if found or matrix is None:
        raise MatrixError(*found[0], problems=found)
    return matrix


#: A problem of a matrix: the JSON path of the field (``rules.2.actions.0.assignee``) and what.
Problem = tuple[str, str]


def _matrix(data: Any, found: list[Problem]) -> Matrix | None:
    obj = _object(data, "", {"rules", "deal", "voicemail_is_missed"}, found)
    if obj is None:
        return None
    before = len(found)
    items = _list(obj.get("rules"), "rules", found) or []
    rules = [_rule(item, f"rules.{i}", found) for i, item in enumerate(items)]
    deal = _deal(obj.get("deal", {}), found)
    voicemail = obj.get("voicemail_is_missed", True)
    if not isinstance(voicemail, bool):
        found.append(("voicemail_is_missed", refusal("matrix_not_bool")))
    if len(found) > before or deal is None:
        return None
    return Matrix(
        rules=tuple(rule for rule in rules if rule is not None),
        deal=deal,
        voicemail_is_missed=voicemail,
    )


def _object(
    data: Any, path: str, allowed: set[str], found: list[Problem]
) -> Mapping[str, Any] | None:
    """Return ``data`` when it is an object; note each field it has that is not ``allowed``."""
    if not isinstance(data, Mapping):
        found.append((path or "$", refusal("matrix_not_object")))
        return None
    for unknown in sorted(set(data) - allowed, key=str):
        where = f"{path}.{unknown}" if path else str(unknown)
        found.append((where, refusal("matrix_unknown_field", expected=str(sorted(allowed)))))
    return data


def _list(data: Any, path: str, found: list[Problem]) -> list[Any] | None:
    if not isinstance(data, list):
        found.append((path, refusal("matrix_not_list")))
        return None
    return data


def _enum(name: str, value: Any, path: str, found: list[Problem]) -> StrEnum | None:
    kind = _ENUMS[name]
    try:
        return kind(value)
    except ValueError:
        expected = str([m.value for m in kind])
        found.append(
            (path, refusal("matrix_unknown_value", name=name, value=repr(value), expected=expected))
        )
        return None


def _rule(data: Any, path: str, found: list[Problem]) -> Rule | None:
    obj = _object(data, path, {"name", "when", "actions"}, found)
    if obj is None:
        return None
    before = len(found)
    keys = set(vars(Condition()))
    when = _object(obj.get("when", {}), f"{path}.when", keys, found) or {}
    fields: dict[str, Any] = {
        key: _enum(key, value, f"{path}.when.{key}", found)
        for key, value in when.items()
        if key in keys
    }
    items = _list(obj.get("actions"), f"{path}.actions", found) or []
    actions = [_action(a, f"{path}.actions.{i}", found) for i, a in enumerate(items)]
    if len(found) > before:
        return None
    return Rule(
        name=str(obj.get("name") or path),
        when=Condition(**fields),
        actions=tuple(action for action in actions if action is not None),
    )


def _action(data: Any, path: str, found: list[Problem]) -> Action | None:
    if not isinstance(data, Mapping) or "type" not in data:
        found.append((path, refusal("matrix_action_untyped")))
        return None
    kind = _enum("type", data["type"], f"{path}.type", found)
    if kind is None:  # the other fields depend on the type: nothing more can be said of them
        return None
    before = len(found)
    allowed = _ACTION_KEYS[ActionType(kind)]
    _object(data, path, {"type"} | allowed, found)
    values: dict[str, Any] = {"type": kind}
    for key in sorted(allowed & set(data)):
        values[key] = _parameter(key, data[key], f"{path}.{key}", found)
    return None if len(found) > before else Action(**values)


def _parameter(key: str, value: Any, path: str, found: list[Problem]) -> Any:
    """Return an action's parameter as read; note the problem when it is not one."""
    if key in _ENUMS:
        return _enum(key, value, path, found)
    if key == "to":
        return _targets(value, path, found)
    if key == "due_in_minutes":
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 525_600:
            found.append((path, refusal("matrix_minutes")))
        return value
    if not isinstance(value, str) or not value.strip() or len(value) > 2000:  # title, body
        found.append((path, refusal("matrix_text")))
    return value


def _targets(value: Any, path: str, found: list[Problem]) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not set(value) <= {"contact", "deal"}:
        found.append((path, refusal("matrix_targets")))
        return ()
    return tuple(dict.fromkeys(value))


def _deal(data: Any, found: list[Problem]) -> DealSettings | None:
    keys = set(vars(DealSettings()))
    obj = _object(data, "deal", keys, found)
    if obj is None:
        return None
    before = len(found)
    for key in ("name_template", "pipeline", "stage"):
        if key in obj and obj[key] is not None and not isinstance(obj[key], str):
            found.append((f"deal.{key}", refusal("matrix_text_or_null")))
    flag = obj.get("create_for_existing_without_open_deal", False)
    if not isinstance(flag, bool):
        found.append(("deal.create_for_existing_without_open_deal", refusal("matrix_not_bool")))
    if len(found) > before:
        return None
    return DealSettings(**{key: value for key, value in obj.items() if key in keys})


def matrix_to_json(matrix: Matrix) -> dict[str, Any]:
    """Return the JSON form of a matrix (what :func:`parse_matrix` reads back)."""
    return {
        "voicemail_is_missed": matrix.voicemail_is_missed,
        "deal": dict(vars(matrix.deal)),
        "rules": [
            {
                "name": rule.name,
                "when": {k: v.value for k, v in vars(rule.when).items() if v is not None},
                "actions": [_action_json(action) for action in rule.actions],
            }
            for rule in matrix.rules
        ],
    }


def _action_json(action: Action) -> dict[str, Any]:
    data: dict[str, Any] = {"type": action.type.value}
    for key in sorted(_ACTION_KEYS[action.type]):
        value = getattr(action, key)
        if value is not None:
            data[key] = (
                list(value)
                if isinstance(value, tuple)
                else (value.value if isinstance(value, StrEnum) else value)
            )
    return data
