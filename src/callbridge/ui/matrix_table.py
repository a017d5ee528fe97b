"""The matrix as the screen's table: one row per rule, one column per action type, and back.

The table only carries values to the API: :func:`matrix_of` turns the posted form into matrix
JSON as typed (a wrong number stays a text), and the API's validator
(:func:`callbridge.rules.matrix.parse_matrix`, behind ``PUT /integrations/{id}/matrix``) judges
it; :func:`field_of` puts the path of its refusal back on the table's field.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData

from callbridge.rules.matrix import Action, ActionType, Assignee, ContactMode, DealSettings

#: The table's action columns, in the order a row's actions are written.
COLUMNS = tuple(ActionType)
#: The parameters each action column edits, and the condition fields of the "when" columns.
PARAMETERS = {
    ActionType.CREATE_CONTACT: ("mode",),
    ActionType.CREATE_DEAL: ("owner",),
    ActionType.ATTACH_RECORDING: ("to",),
    ActionType.SET_DEAL_OWNER: ("owner",),
    ActionType.CREATE_TASK: ("assignee", "due_in_minutes", "title", "body"),
    ActionType.NOTE_WHO_ANSWERED: (),
}
CONDITIONS = ("direction", "client", "outcome", "employee")
CHOICES: dict[str, tuple[str, ...]] = {
    "mode": tuple(ContactMode),
    "owner": tuple(Assignee),
    "assignee": tuple(Assignee),
}
DEAL_TEXTS = ("name_template", "pipeline", "stage")
#: How many rules the table posts at most (a matrix longer than that is edited as JSON).
MAX_ROWS = 100


@dataclass
class Row:
    """One rule as the table shows it; ``raw`` holds a rule the columns cannot show."""

    name: str
    when: dict[str, str]
    actions: dict[str, dict[str, Any]] = field(default_factory=dict)  # column → its parameters
    raw: str | None = None  # the rule's JSON, when it has two actions of one type
    order: list[str] = field(default_factory=list)  # the rule's action types in its own order

    def ordered(self) -> list[str]:
        """Return the ticked columns: in the rule's own order, then new ones in column order."""
        kept = [c for c in self.order if c in self.actions]
        return kept + [c for c in COLUMNS if c in self.actions and c not in kept]

    def cell(self, column: str) -> dict[str, Any]:
        """Return the column's parameters: the rule's own, else the defaults (unticked)."""
        return self.actions.get(column) or _defaults(ActionType(column))


def _defaults(kind: ActionType) -> dict[str, Any]:
    action = Action(kind)
    return {key: _plain(getattr(action, key)) for key in PARAMETERS[kind]}


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def rows_of(matrix: dict[str, Any]) -> list[Row]:
    """Return the rules of a matrix (JSON as stored) as table rows."""
    rows = []
    for rule in matrix.get("rules", []):
        types = [a.get("type") for a in rule.get("actions", [])]
        row = Row(str(rule.get("name", "")), dict(rule.get("when", {})))
        if len(set(types)) < len(types):
            row.raw = json.dumps(rule)
        else:
            row.actions = {a["type"]: a for a in rule.get("actions", [])}
            row.order = [str(t) for t in types]
        rows.append(row)
    return rows


def rows_posted(form: FormData) -> list[Row]:
    """Return the table's rows as posted, the removed ones left out."""
    rows = []
    for at in range(min(_count(form), MAX_ROWS)):
        prefix = f"r{at}-"
        if form.get(prefix + "remove"):
            continue
        raw = form.get(prefix + "raw")
        when = {k: str(form.get(prefix + k)) for k in CONDITIONS if form.get(prefix + k)}
        row = Row(str(form.get(prefix + "name") or ""), when)
        if isinstance(raw, str) and raw:
            row.raw = raw
        else:
            row.actions = {c: _cell(form, prefix + c, c) for c in COLUMNS if form.get(prefix + c)}
            row.order = str(form.get(prefix + "order") or "").split()
        rows.append(row)
    return rows


def _count(form: FormData) -> int:
    count = form.get("rows")
    return int(count) if isinstance(count, str) and count.isdigit() else 0


def _cell(form: FormData, prefix: str, column: ActionType) -> dict[str, Any]:
    """Return one ticked action's JSON as typed (validation is the API's)."""
    action: dict[str, Any] = {"type": column.value}
    for key in PARAMETERS[column]:
        if key == "to":
            action[key] = [str(v) for v in form.getlist(f"{prefix}-to")]
            continue
        value = form.get(f"{prefix}-{key}")
        if not isinstance(value, str) or (key == "owner" and not value):
            continue
        action[key] = int(value) if key == "due_in_minutes" and value.isdigit() else value
    return action


def settings_posted(form: FormData) -> dict[str, Any]:
    """Return the matrix's settings as posted (voicemail, deals)."""
    deal: dict[str, Any] = {k: form.get(f"deal-{k}") or None for k in DEAL_TEXTS}
    deal["create_for_existing_without_open_deal"] = bool(form.get("deal-create_for_existing"))
    return {"voicemail_is_missed": bool(form.get("voicemail_is_missed")), "deal": deal}


def settings_of(matrix: dict[str, Any]) -> dict[str, Any]:
    """Return the settings of a stored matrix, with the defaults filled in."""
    deal = {**vars(DealSettings()), **matrix.get("deal", {})}
    return {"voicemail_is_missed": matrix.get("voicemail_is_missed", True), "deal": deal}


def matrix_of(rows: Sequence[Row], settings: dict[str, Any]) -> dict[str, Any]:
    """Return the matrix JSON the table says (a raw rule that is not JSON stays a text)."""
    rules: list[Any] = []
    for row in rows:
        if row.raw is not None:
            rules.append(_loaded(row.raw))
            continue
        actions = [row.actions[c] for c in row.ordered()]
        rules.append({"name": row.name, "when": row.when, "actions": actions})
    return {**settings, "rules": rules}


def _loaded(raw: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def field_of(loc: Sequence[str | int], rows: Sequence[Row]) -> str | None:
    """Return the id of the table's field a refusal's ``loc`` (after ``body``) points at."""
    match list(loc):
        case ["voicemail_is_missed"]:
            return "voicemail_is_missed"
        case ["deal", "create_for_existing_without_open_deal"]:
            return "deal-create_for_existing"
        case ["deal", str(key), *_]:
            return f"deal-{key}"
        case ["rules", int(at), *rest] if at < len(rows):
            return _rule_field(at, rest, rows[at])
    return None


def _rule_field(at: int, rest: list[str | int], row: Row) -> str:
    if row.raw is not None or not rest:
        return f"r{at}-name"
    match rest:
        case ["when", str(key), *_] if key in CONDITIONS:
            return f"r{at}-{key}"
        case ["actions", int(index), *tail] if index < len(row.actions):
            column = row.ordered()[index]
            key = tail[0] if tail and tail[0] in PARAMETERS[ActionType(column)] else ""
            return f"r{at}-{column}" + (f"-{key}" if key else "")
    return f"r{at}-name"
