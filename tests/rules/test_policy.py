"""The six creation options by the four call types (docs/behaviour.md), and the contact's name."""

from __future__ import annotations

import pytest

from callbridge.domain.call import CallType
from callbridge.rules.policy import CreationPolicy, contact_name, decide_creation

IN, OUT, MISS, ANS = CallType.INCOMING, CallType.OUTGOING, CallType.MISSED, CallType.ANSWERED
# The four kinds of call that exist, as the sets of call types they belong to.
INCOMING_MISSED = frozenset({IN, MISS})
INCOMING_ANSWERED = frozenset({IN, ANS})
OUTGOING_ANSWERED = frozenset({OUT, ANS})
OUTGOING_UNANSWERED = frozenset({OUT})

TABLE = {
    #                      in-missed, in-answered, out-answered, out-unanswered
    CreationPolicy.ALL: (True, True, True, True),
    CreationPolicy.INCOMING: (True, True, False, False),
    CreationPolicy.OUTGOING: (False, False, True, True),
    CreationPolicy.MISSED: (True, False, False, False),
    CreationPolicy.ANSWERED: (False, True, True, False),
    CreationPolicy.NONE: (False, False, False, False),
}
CALLS = (INCOMING_MISSED, INCOMING_ANSWERED, OUTGOING_ANSWERED, OUTGOING_UNANSWERED)


@pytest.mark.parametrize(
    ("policy", "call", "expected"),
    [(policy, call, row[i]) for policy, row in TABLE.items() for i, call in enumerate(CALLS)],
)
def test_policy_table(policy: CreationPolicy, call: frozenset[CallType], expected: bool) -> None:
    decision = decide_creation(policy, call)
    assert decision.create is expected
    assert decision.reason


@pytest.mark.parametrize("policy", list(CreationPolicy))
def test_internal_calls_never_create(policy: CreationPolicy) -> None:
    assert decide_creation(policy, frozenset()).create is False


def test_the_table_covers_exactly_the_six_options() -> None:
    assert set(TABLE) == set(CreationPolicy)
    assert [p.value for p in CreationPolicy] == [
        "all",
        "incoming",
        "outgoing",
        "missed",
        "answered",
        "none",
    ]


@pytest.mark.parametrize(
    ("language", "template", "expected"),
    [
        ("en", None, "New Callbridge Contact"),
        ("fr", None, "Nouveau contact Callbridge"),
        ("es", None, "Nuevo contacto Callbridge"),
        ("de", None, "New Callbridge Contact"),
        ("en", "Caller {phone}", "Caller +1 415-555-0134"),
        ("fr", "{default} ({phone})", "Nouveau contact Callbridge (+1 415-555-0134)"),
    ],
)
def test_contact_name(language: str, template: str | None, expected: str) -> None:
    assert contact_name(language, template, "+1 415-555-0134") == expected
