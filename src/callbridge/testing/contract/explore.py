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

import phonenumbers
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from callbridge.domain.activity import ActivityDraft
from callbridge.domain.phone import stored_readings


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
# Never a short number: a fake numbers its objects 1, 2, 3…, and the examples of a test share
# one CRM, so "2" may be the record an earlier example stored (CI once found it).
FOREIGN_IDS = st.one_of(
    st.uuids().map(str),
    st.integers(10**12, 2**63 - 1).map(str),
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=255).filter(
        lambda text: not (text.strip().isdigit() and len(text.strip()) < 12)
    ),
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


# (integration's region, caller's country) pairs where the caller's mobile number typed without
# its "+" is also a valid national number of the region (read so by libphonenumber's metadata):
# ``33612345607`` in Germany. Regions with a fixed national length (FR, GB, US…) have none.
BARE_PAIRS = (
    ("DE", "FR"), ("DE", "GB"), ("DE", "IT"), ("DE", "ES"), ("DE", "CH"), ("DE", "PL"),
    ("DE", "IN"), ("DE", "BR"), ("DE", "JP"), ("DE", "AU"), ("AT", "FR"), ("AT", "US"),
    ("AT", "NL"), ("AT", "BR"), ("IT", "FR"), ("IT", "BE"), ("LU", "FR"), ("LU", "CH"),
    ("LU", "SE"), ("CN", "RU"),
)  # fmt: skip
# Country codes a look-alike is given in front of the caller's last digits.
LOOK_ALIKE_CODES = ("1", "44", "39", "61", "7", "81", "86", "55", "90", "27")


@dataclass(frozen=True)
class BareNumber:
    """A caller's number stored without its "+" where those digits are also a national number."""

    region: str  # the integration's region
    stored: str  # the caller's digits with the country code, no "+"
    e164: str  # the caller
    look_alike: str  # another number ending with the caller's last nine or ten digits


class FreshBareNumbers:
    """Hand each case a bare-stored number of a drawn (region, country) pair, never used before.

    The country and region are drawn by Hypothesis; the last digits count up, so replayed and
    shrunk cases store numbers of their own too.
    """

    def fresh_bare_number(self, region: str, country: str) -> BareNumber:
        """Return the next number of ``country`` ambiguous in ``region``, with a look-alike."""
        example = phonenumbers.example_number_for_type(country, phonenumbers.PhoneNumberType.MOBILE)
        assert example is not None, f"libphonenumber has no mobile example for {country}"
        significant = str(example.national_number)
        while True:
            count: int = self.__dict__.get("_bare_given", 0)
            self.__dict__["_bare_given"] = count + 1
            e164 = f"+{example.country_code}{significant[:-4]}{count % 10_000:04d}"
            found = _bare_number(region, e164)
            if found is not None:
                return found


def _bare_number(region: str, e164: str) -> BareNumber | None:
    """Return ``e164`` stored bare in ``region`` if both readings are valid, with a look-alike."""
    readings = [r.number.e164 for r in stored_readings(e164[1:], region)]
    if not phonenumbers.is_valid_number(phonenumbers.parse(e164)) or readings[-1:] != [e164]:
        return None
    if len(readings) < 2:  # the usual reading and the ambiguous one
        return None
    for code in LOOK_ALIKE_CODES:
        for tail in (e164[-10:], e164[-9:]):
            look_alike = f"+{code}{tail}"
            number = phonenumbers.parse(look_alike)
            if phonenumbers.is_valid_number(number) and look_alike not in readings:
                return BareNumber(region, e164[1:], e164, look_alike)
    return None
