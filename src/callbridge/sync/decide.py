"""The one decision of a sync, shared with explain: scenario, records, contact, plan (no I/O).

Given what was read (:mod:`callbridge.sync.inputs`), :func:`decide` says everything a run will
do: the scenario and the matrix version (the call's first run's, once there was one), the
records the call goes to and why, whether a contact is created, and the plan's steps with the
reason any is skipped. The sync carries it out; explain shows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from callbridge.domain.capability import Capability
from callbridge.domain.phone import PhoneNumber
from callbridge.domain.record import CrmRecord, ObjectType
from callbridge.rules import agent_choice, match_reason
from callbridge.rules.automatic_pick import pick
from callbridge.rules.match_reason import MatchReason, Why
from callbridge.rules.matrix import Assignee, Matrix, parse_matrix
from callbridge.rules.plan import ContactCell, Step, contact_owner, decide_contact, plan
from callbridge.rules.policy import CreationPolicy, decide_creation
from callbridge.rules.scenario import Scenario, classify
from callbridge.sync import writes
from callbridge.sync.inputs import Found, Loaded


class Source(StrEnum):
    """What chose the records a call goes to."""

    CHOICE = "agent's choice"
    KEPT = "kept links"
    CLICK_TO_DIAL = "click-to-dial"
    RULE = "automatic rule"


@dataclass(frozen=True)
class Targets:
    """The records the call is logged on, what chose them, and the links it moves away from."""

    records: tuple[CrmRecord, ...]
    reason: MatchReason
    source: Source
    moves: tuple[str, ...] = ()  # records the call was logged on that the agent's choice drops

    @property
    def rule(self) -> str:
        """Return why, in English, as the API says it."""
        return self.reason.text


@dataclass(frozen=True)
class Decision:
    """Everything a run of one call's sync will do, decided before it writes anything."""

    matrix_version: int
    matrix: Matrix
    scenario: Scenario | None  # None: an internal call, nothing is written
    reused: bool  # the scenario and matrix version are the call's first run's
    matched: tuple[CrmRecord, ...]  # found by the number (not the contact this call created)
    created: CrmRecord | None  # the contact an interrupted earlier run of this call created
    targets: Targets
    creation: ContactCell | None  # when no record is found: is a contact created, and why
    steps: tuple[Step, ...]
    # Who owns the contact created for the caller: whoever the plan gives its deal.
    contact_owner: Assignee | None = None


NOTHING = Targets((), MatchReason(Why.NO_MATCH), Source.RULE)


def decide(loaded: Loaded, number: PhoneNumber, found: Found) -> Decision:
    """Decide the call's scenario, records, contact creation and plan from what was read."""
    ctx = loaded.ctx
    matrix = parsed(ctx.integration_id, loaded.matrix_version, loaded.matrix_json)
    candidates = list(found.candidates)
    created = writes.created_by_this_call(ctx, candidates, number)
    matched = tuple(c for c in candidates if created is None or c.id != created.id)
    scenario = _scenario(loaded, matrix, bool(matched), found)
    if scenario is None:
        return Decision(
            loaded.matrix_version, matrix, None, False, matched, created, NOTHING, None, ()
        )
    targets = _targets(loaded, found, matched)
    creation = None
    if not targets.records and created is None:
        policy = decide_creation(
            CreationPolicy(ctx.integration["creation_policy"]), ctx.call.call_types()
        )
        creation = decide_contact(
            matrix,
            scenario,
            (policy.create, policy.reason),
            declined=loaded.declined,
            can_create=Capability.CREATE_CONTACT in found.capabilities,
        )
    steps = tuple(plan(matrix, scenario, found.capabilities))
    return Decision(
        loaded.matrix_version,
        matrix,
        scenario,
        loaded.decided is not None,
        matched,
        created,
        targets,
        creation,
        steps,
        contact_owner(steps) if creation is not None and creation.create else None,
    )


def _scenario(loaded: Loaded, matrix: Matrix, matched: bool, found: Found) -> Scenario | None:
    """Classify once per call: a retry or late data reuses the first run's scenario."""
    if loaded.decided is not None:
        return Scenario.from_key(loaded.decided[0])
    return classify(
        loaded.ctx.call,
        matched=matched,
        agent_mapped=found.people.agent_mapped,
        voicemail_is_missed=matrix.voicemail_is_missed,
    )


def _targets(loaded: Loaded, found: Found, matched: tuple[CrmRecord, ...]) -> Targets:
    """The agent's choice (moving earlier logs), else the kept links, else click-to-dial/rule."""
    ctx, given = loaded.ctx, found.given
    if found.chosen is not None and given is not None:
        if not given.records:
            return _by_number(matched, given.missing, Why.CHOSEN_NOT_IN_CRM)
        moves = agent_choice.stale(ctx.links, given.records)
        reason = agent_choice.reason(found.chosen.how, found.chosen.who)
        return Targets(tuple(given.records), reason, Source.CHOICE, tuple(moves))
    if ctx.links:
        known = {c.id: c for c in found.candidates}
        kept = tuple(
            known.get(record_id) or CrmRecord(record_id, ObjectType(row["object_type"]), "")
            for record_id, row in ctx.links.items()
        )
        return Targets(kept, MatchReason(Why.KEPT), Source.KEPT)
    clicked = ctx.call.crm_record_id
    if clicked is not None and given is not None:
        if not given.records:
            return _by_number(matched, given.missing, Why.CLICKED_NOT_IN_CRM)
        reason = pick(given.records, clicked).reason
        return Targets(tuple(given.records), reason, Source.CLICK_TO_DIAL)
    selection = pick(matched)
    return Targets(selection.records, selection.reason, Source.RULE)


def _by_number(matched: Sequence[CrmRecord], missing: Sequence[str], given: Why) -> Targets:
    """Fall back to the automatic rule when the records given by id are not in the CRM."""
    selection = pick(matched)
    reason = match_reason.fallback(given, tuple(missing), selection.reason)
    return Targets(selection.records, reason, Source.RULE)


# Matrix versions never change once saved, so each is parsed once per process.
_MATRICES: dict[tuple[str, int], Matrix] = {}
#: The version number of a matrix not saved yet (the dry run of a draft): parsed every time.
DRAFT_VERSION = -1


def parsed(integration_id: str, version: int, data: dict[str, Any]) -> Matrix:
    """Return a stored matrix version, parsed (once per process); a draft is never cached."""
    if version == DRAFT_VERSION:
        return parse_matrix(data)
    key = (integration_id, version)
    matrix = _MATRICES.get(key)
    if matrix is None:
        if len(_MATRICES) > 1024:
            _MATRICES.clear()
        matrix = _MATRICES[key] = parse_matrix(data)
    return matrix
