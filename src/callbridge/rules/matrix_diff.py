"""What changed between two versions of a matrix: rules and actions added, removed or edited.

Both sides are matrix JSON as :func:`~callbridge.rules.matrix.matrix_to_json` writes it (the
form every stored version has). Rules are paired by name, then by position among the unnamed
ones; actions of a rule by type, in order.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class ChangeKind(StrEnum):
    """What a change did."""

    RULE_ADDED = "rule_added"
    RULE_REMOVED = "rule_removed"
    CONDITION_CHANGED = "condition_changed"
    ACTION_ADDED = "action_added"
    ACTION_REMOVED = "action_removed"
    ACTION_CHANGED = "action_changed"
    SETTING_CHANGED = "setting_changed"
    RULES_REORDERED = "rules_reordered"


@dataclass(frozen=True)
class Change:
    """One change: its kind, the rule (or setting) it touched, the action and the fields."""

    kind: ChangeKind
    rule: str = ""
    action: str = ""
    fields: tuple[str, ...] = ()

    def summary(self) -> str:
        """Return the change as one English line (the UI translates it from its parts)."""
        what = {
            ChangeKind.RULE_ADDED: "rule “{rule}” added",
            ChangeKind.RULE_REMOVED: "rule “{rule}” removed",
            ChangeKind.CONDITION_CHANGED: "rule “{rule}”: condition changed",
            ChangeKind.ACTION_ADDED: "rule “{rule}”: {action} added",
            ChangeKind.ACTION_REMOVED: "rule “{rule}”: {action} removed",
            ChangeKind.ACTION_CHANGED: "rule “{rule}”: {action} changed ({fields})",
            ChangeKind.SETTING_CHANGED: "setting {rule} changed",
            ChangeKind.RULES_REORDERED: "rules reordered",
        }[self.kind]
        return what.format(rule=self.rule, action=self.action, fields=", ".join(self.fields))


def changes(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    """Return what turned ``before`` into ``after``, settings first, then rule by rule."""
    found = list(_settings(before, after))
    old, new = _named(before.get("rules", [])), _named(after.get("rules", []))
    for name in old:
        if name not in new:
            found.append(Change(ChangeKind.RULE_REMOVED, name))
    for name, rule in new.items():
        if name not in old:
            found.append(Change(ChangeKind.RULE_ADDED, name))
            continue
        if old[name].get("when", {}) != rule.get("when", {}):
            found.append(Change(ChangeKind.CONDITION_CHANGED, name))
        found.extend(_actions(name, old[name].get("actions", []), rule.get("actions", [])))
    kept = [name for name in old if name in new]
    if kept != [name for name in new if name in old]:
        found.append(Change(ChangeKind.RULES_REORDERED))
    return found


def _named(rules: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Return the rules by name; a repeated name gets its rank (``name #2``)."""
    named: dict[str, dict[str, Any]] = {}
    for rule in rules:
        name, rank = str(rule.get("name", "")), 1
        while (key := name if rank == 1 else f"{name} #{rank}") in named:
            rank += 1
        named[key] = rule
    return named


def _settings(before: dict[str, Any], after: dict[str, Any]) -> Iterator[Change]:
    if before.get("voicemail_is_missed", True) != after.get("voicemail_is_missed", True):
        yield Change(ChangeKind.SETTING_CHANGED, "voicemail_is_missed")
    old, new = before.get("deal", {}), after.get("deal", {})
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            yield Change(ChangeKind.SETTING_CHANGED, f"deal.{key}")


def _actions(
    rule: str, before: list[dict[str, Any]], after: list[dict[str, Any]]
) -> Iterator[Change]:
    """Pair the actions of one rule by type, in order, and say what differs."""
    left = _by_type(before)
    right = _by_type(after)
    for kind in dict.fromkeys([*left, *right]):
        olds, news = left.get(kind, []), right.get(kind, [])
        for old, new in zip(olds, news, strict=False):
            fields = tuple(sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k)))
            if fields:
                yield Change(ChangeKind.ACTION_CHANGED, rule, kind, fields)
        for _ in news[len(olds) :]:
            yield Change(ChangeKind.ACTION_ADDED, rule, kind)
        for _ in olds[len(news) :]:
            yield Change(ChangeKind.ACTION_REMOVED, rule, kind)


def _by_type(actions: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for action in actions:
        grouped.setdefault(str(action.get("type")), []).append(action)
    return grouped
