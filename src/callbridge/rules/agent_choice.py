"""The agent's choice of record(s) for a call (docs/selection.md): validate it, gate it, apply it.

Pure: values in, values out. The automatic rule lives in :mod:`callbridge.rules.automatic_pick`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from callbridge.domain.record import CrmRecord, ObjectType
from callbridge.errors import ChoiceConflict
from callbridge.refusal_codes import refusal
from callbridge.rules.automatic_pick import TYPE_PRIORITY
from callbridge.rules.match_reason import MatchReason, Why

PERMISSION = "is_multicrm_sync"
OPTION = "select_contact_manually"
GRACE_OPTION = "selection_grace_seconds"
DEFAULT_GRACE_SECONDS = 60.0


class How(StrEnum):
    """How a record was chosen for a call."""

    PRE_CALL = "pre-call"
    IN_CALL = "in-call"
    CLICK_TO_DIAL = "click-to-dial"
    AUTOMATIC = "automatic rule"


@dataclass(frozen=True)
class Choice:
    """One record an agent chose in one integration."""

    integration_id: str
    record_id: str
    object_type: ObjectType
    name: str = ""


def validate(choices: Sequence[Choice]) -> tuple[Choice, ...]:
    """Drop repeats and refuse two records of one object type in one integration."""
    kept: dict[tuple[str, ObjectType], tuple[int, Choice]] = {}
    result: list[Choice] = []
    for index, item in enumerate(choices):
        if item in result:
            continue
        key = (item.integration_id, item.object_type)
        if key in kept:
            first, other = kept[key]
            field = f"choices[{index}]"
            two = refusal(
                "two_records_of_a_type", field=field, object_type=item.object_type.value,
                record_id=other.record_id, first=first, other_id=item.record_id,
            )  # fmt: skip
            raise ChoiceConflict(field, two)
        kept[key] = (index, item)
        result.append(item)
    return tuple(result)


def resolve(
    requested: Sequence[tuple[str, str]], candidates: Mapping[str, Sequence[CrmRecord]]
) -> tuple[Choice, ...]:
    """Turn (integration, record id) pairs into choices among the number's candidates."""
    chosen = []
    for index, (integration_id, record_id) in enumerate(requested):
        found = [r for r in candidates.get(integration_id, ()) if r.id == record_id]
        if not found:
            field = f"choices[{index}].record_id"
            raise ChoiceConflict(
                field,
                refusal(
                    "not_a_candidate",
                    field=field,
                    record_id=record_id,
                    integration_id=integration_id,
                ),
            )
        record = found[0]
        chosen.append(Choice(integration_id, record.id, record.object_type, record.name))
    return validate(chosen)


#: Why manual selection is off, by code: the text :func:`gate` gives (screens translate the code).
GATE_REASONS = {
    "no_permission": f"the agent's team lacks the permission {PERMISSION!r}",
    "option_off": f"the integration option {OPTION!r} (select the contact manually) is off",
}


def gate(permissions: Iterable[str] | None, option_on: bool) -> str | None:
    """Say which condition of manual selection is missing; None when selection is enabled.

    ``permissions`` is None for an admin, who needs no team permission.
    """
    if permissions is not None and PERMISSION not in permissions:
        return GATE_REASONS["no_permission"]
    if not option_on:
        return GATE_REASONS["option_off"]
    return None


def grace_seconds(config: dict[str, object]) -> float:
    """Return how long after hang-up a choice is still honoured before the sync."""
    value = config.get(GRACE_OPTION, DEFAULT_GRACE_SECONDS)
    return float(value) if isinstance(value, int | float) else DEFAULT_GRACE_SECONDS


def choice_window(enabled: bool, decided: bool, config: dict[str, object]) -> float:
    """Return how long after a call is final its agent may still choose: the grace window.

    Zero when selection is off for the agent or something was chosen already.
    """
    return grace_seconds(config) if enabled and not decided else 0.0


def wait_for_choice(until: datetime | None, now: datetime, undecided: bool, matches: int) -> float:
    """Return how long a sync waits for the agent's choice (0: it goes on now).

    It waits only while the grace window (ending ``until``) is open, nothing decided the
    records yet (``undecided``: no choice, no click-to-dial, no earlier log) and there is a
    choice to make: two records or more match the number in the integration.
    """
    if until is None or not undecided or matches < 2:
        return 0.0
    return max(0.0, (until - now).total_seconds())


def binds(
    intent_call_id: str | None,
    intent_created: datetime,
    window: timedelta,
    call_id: str,
    call_started: datetime | None,
) -> bool:
    """Tell whether a dial intent belongs to a call: same call id, else the next call in time."""
    if intent_call_id is not None:
        return intent_call_id == call_id
    if call_started is None:
        return False
    return intent_created - timedelta(seconds=5) <= call_started <= intent_created + window


def as_records(choices: Sequence[Choice], candidates: Sequence[CrmRecord]) -> list[CrmRecord]:
    """Return the chosen records, with their CRM details when the number still matches them."""
    known = {record.id: record for record in candidates}
    return [
        known.get(item.record_id) or CrmRecord(item.record_id, item.object_type, item.name)
        for item in choices
    ]


def stale(linked: Iterable[str], targets: Sequence[CrmRecord]) -> list[str]:
    """Return the records a call was logged on that the choice no longer names."""
    wanted = {record.id for record in targets}
    return [record_id for record_id in linked if record_id not in wanted]


_WHY = {How.PRE_CALL: Why.PRE_CALL, How.IN_CALL: Why.IN_CALL, How.CLICK_TO_DIAL: Why.CLICK_TO_DIAL}


def reason(how: str, who: str | None) -> MatchReason:
    """Say, for the call's page, who chose the records and how."""
    return MatchReason(_WHY.get(How(how), Why.CHOSEN), who=who or None)


def rule(how: str, who: str | None) -> str:
    """Describe, in English, who chose the records and how."""
    return reason(how, who).text


def group(
    candidates: Iterable[tuple[str, CrmRecord]], only: ObjectType | None = None
) -> dict[str, list[tuple[str, CrmRecord]]]:
    """Group (integration, record) candidates by object type, in the automatic rule's order."""
    groups: dict[str, list[tuple[str, CrmRecord]]] = {t.value: [] for t in TYPE_PRIORITY}
    for integration_id, record in candidates:
        if only is None or record.object_type is only:
            groups[record.object_type.value].append((integration_id, record))
    return {kind: items for kind, items in groups.items() if items}


def connector_config(config: Mapping[str, object]) -> dict[str, object]:
    """Return an integration's config without the selection options, which no connector reads."""
    return {key: value for key, value in config.items() if key not in (OPTION, GRACE_OPTION)}
