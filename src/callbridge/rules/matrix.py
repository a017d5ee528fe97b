"""The scenario matrix: for each call scenario, the actions to take (docs/matrix.md).

A matrix is JSON edited through the API; :func:`parse_matrix` is the one validator, and names the
path of the first problem (``rules.2.actions.0.assignee``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from callbridge.domain.event import Direction
from callbridge.errors import MatrixError
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
    """Validate matrix JSON and return it; raise MatrixError naming the path of a problem."""
    obj = _object(data, "", {"rules", "deal", "voicemail_is_missed"})
    rules = _list(obj.get("rules"), "rules")
    deal = _object(obj.get("deal", {}), "deal", set(vars(DealSettings())))
    voicemail = obj.get("voicemail_is_missed", True)
    if not isinstance(voicemail, bool):
        raise MatrixError("voicemail_is_missed", "must be true or false")
    return Matrix(
        rules=tuple(_rule(item, f"rules.{i}") for i, item in enumerate(rules)),
        deal=_deal(deal),
        voicemail_is_missed=voicemail,
    )


def _object(data: Any, path: str, allowed: set[str]) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise MatrixError(path or "$", "must be an object")
    unknown = sorted(set(data) - allowed)
    if unknown:
        where = f"{path}.{unknown[0]}" if path else unknown[0]
        raise MatrixError(where, f"unknown field; expected one of {sorted(allowed)}")
    return data


def _list(data: Any, path: str) -> list[Any]:
    if not isinstance(data, list):
        raise MatrixError(path, "must be a list")
    return data


def _enum(name: str, value: Any, path: str) -> StrEnum:
    kind = _ENUMS[name]
    try:
        return kind(value)
    except ValueError:
        raise MatrixError(
            path, f"unknown {name} {value!r}; expected one of {[m.value for m in kind]}"
        ) from None


def _rule(data: Any, path: str) -> Rule:
    obj = _object(data, path, {"name", "when", "actions"})
    when = _object(obj.get("when", {}), f"{path}.when", set(vars(Condition())))
    fields: dict[str, Any] = {
        key: _enum(key, value, f"{path}.when.{key}") for key, value in when.items()
    }
    condition = Condition(**fields)
    actions = _list(obj.get("actions"), f"{path}.actions")
    return Rule(
        name=str(obj.get("name") or path),
        when=condition,
        actions=tuple(_action(a, f"{path}.actions.{i}") for i, a in enumerate(actions)),
    )


def _action(data: Any, path: str) -> Action:
    if not isinstance(data, Mapping) or "type" not in data:
        raise MatrixError(path, "must be an object with a type")
    kind = ActionType(_enum("type", data["type"], f"{path}.type"))
    obj = _object(data, path, {"type"} | _ACTION_KEYS[kind])
    values: dict[str, Any] = {"type": kind}
    for key, value in obj.items():
        if key in _ENUMS and key != "type":
            values[key] = _enum(key, value, f"{path}.{key}")
        elif key == "to":
            values[key] = _targets(value, f"{path}.to")
        elif key == "due_in_minutes":
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 525_600:
                raise MatrixError(f"{path}.{key}", "must be a whole number of minutes, 0 to 525600")
            values[key] = value
        elif key in ("title", "body"):
            if not isinstance(value, str) or not value.strip() or len(value) > 2000:
                raise MatrixError(
                    f"{path}.{key}", "must be a non-empty text of 2000 characters at most"
                )
            values[key] = value
    return Action(**values)


def _targets(value: Any, path: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not set(value) <= {"contact", "deal"}:
        raise MatrixError(path, "must be a non-empty list of 'contact' and 'deal'")
    return tuple(dict.fromkeys(value))


def _deal(obj: Mapping[str, Any]) -> DealSettings:
    for key in ("name_template", "pipeline", "stage"):
        if key in obj and obj[key] is not None and not isinstance(obj[key], str):
            raise MatrixError(f"deal.{key}", "must be a text or null")
    flag = obj.get("create_for_existing_without_open_deal", False)
    if not isinstance(flag, bool):
        raise MatrixError("deal.create_for_existing_without_open_deal", "must be true or false")
    return DealSettings(**obj)


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
