"""What the contract suites explore: numbers as people type them, names, texts, foreign ids.

Hypothesis runs several cases on one harness (one CRM account): each case uses its own numbers
and external ids. Every connector's test class runs the same methods, each on its own harness:
the executors differ by design.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from callbridge.domain.activity import ActivityDraft


@dataclass(frozen=True)
class Numbers:
    """Numbers the suites use: one typed in a national format, its E.164 form, one unknown."""

    national: str = "(415) 555-0134"
    e164: str = "+14155550134"
    unknown: str = "+14155550199"


def draft(
    record_id: str, external_id: str = "callbridge:contract-1", **changes: Any
) -> ActivityDraft:
    """Return a call activity for ``record_id``."""
    values: dict[str, Any] = {
        "external_id": external_id,
        "record_id": record_id,
        "direction": "incoming",
        "status": "answered",
        "subject": "Incoming call from +1 415-555-0134",
        "started_at": datetime(2026, 11, 22, 9, 0, tzinfo=UTC),
        "duration": 42,
        "agent": "ann@example.com",
        "recording_url": None,
        "notes": None,
        "tags": (),
        "disposition": None,
    }
    values.update(changes)
    return ActivityDraft(**values)


def external_id(kind: str) -> str:
    """Return an external id no earlier case used."""
    return f"callbridge:{kind}:{uuid.uuid4()}"


@st.composite
def layouts(draw: st.DrawFn) -> str:
    """Return how people type a US number: separators, parentheses, with or without +1."""
    separator = draw(st.sampled_from(["", " ", "-", "."]))
    prefix = draw(st.sampled_from(["", "1", "1 ", "1-", "+1", "+1 ", "+1-"]))
    area_code = "({area}) " if draw(st.booleans()) else "{area}" + separator
    return prefix + area_code + "{exchange}" + separator + "{line}"


def typed(e164: str, layout: str) -> str:
    """Return a US number in E.164 form typed in ``layout`` (from :func:`layouts`)."""
    return layout.format(area=e164[2:5], exchange=e164[5:8], line=e164[8:])


# Words of any script: letters (and digits) only, since CRMs trim and split names on spaces.
WORDS = st.text(st.characters(categories=("L", "Nd")), min_size=1, max_size=20)
NAMES = st.builds("{} {}".format, WORDS, WORDS)
# A title or a body as an agent or a rule writes one: words, spaces and plain punctuation.
TEXTS = st.text(
    st.characters(categories=("L", "Nd"), include_characters=" .,-:"), min_size=1, max_size=80
).filter(lambda text: text == text.strip() and text != "")

# Ids a CRM does not have: another account's, deleted ones, or never ids of this CRM at all.
FOREIGN_IDS = st.one_of(
    st.uuids().map(str),
    st.integers(1, 2**63 - 1).map(str),
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=255),
)

_SHARED = [HealthCheck.function_scoped_fixture, HealthCheck.differing_executors]
# Each case is several round trips to the CRM (a real server for some): a few cases each.
FEW = settings(max_examples=4, deadline=None, suppress_health_check=_SHARED)
SOME = settings(max_examples=10, deadline=None, suppress_health_check=_SHARED)


# Area codes of fresh numbers: never 415, the area of :class:`Numbers`.
AREAS = ("628", "650", "510", "408", "925", "707", "831", "209")


class FreshNumbers:
    """Hand each case of one test a number no earlier case of that test (on its harness) used.

    Not drawn by Hypothesis: a failing case replays, and shrinks, on numbers of its own too.
    """

    def fresh_number(self) -> str:
        """Return the E.164 form of a fictional US number (555-0100 to 555-0199) not used yet."""
        count: int = self.__dict__.get("_numbers_given", 0)
        self.__dict__["_numbers_given"] = count + 1
        area = AREAS[count // 100 % len(AREAS)]
        return f"+1{area}5550{100 + count % 100}"
