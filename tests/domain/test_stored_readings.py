"""Numbers stored in a CRM: every plausible reading, the usual one first, no look-alike matched."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from callbridge.domain.phone import PhoneNumber, normalize, stored_readings

_REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)
_TYPES = [PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.TOLL_FREE]


@st.composite
def valid_numbers(draw: st.DrawFn) -> phonenumbers.PhoneNumber:
    """Draw a valid example number of a fixed line, mobile or toll-free kind, of any region."""
    region = draw(st.sampled_from(_REGIONS))
    kinds = [t for t in _TYPES if phonenumbers.example_number_for_type(region, t) is not None]
    number = phonenumbers.example_number_for_type(region, draw(st.sampled_from(kinds)))
    assert number is not None
    return number


def _e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("33612345607", "DE", ["+4933612345607", "+33612345607"]),
        ("4915123456109", "DE", ["+494915123456109", "+4915123456109"]),
        ("33612345678", "AT", ["+4333612345678", "+33612345678"]),
        ("33612345678", "IT", ["+3933612345678", "+33612345678"]),
        ("33612345678", "LU", ["+35233612345678", "+33612345678"]),
        ("33612345678", "FR", ["+33612345678"]),
        ("06 12 34 56 78", "FR", ["+33612345678"]),
        ("2015550123", "US", ["+12015550123"]),
        ("+33 6 12 34 56 78", "DE", ["+33612345678"]),
        ("anonymous", "DE", []),
        (None, "DE", []),
    ],
)
def test_readings_of_stored_numbers(raw: str | None, region: str, expected: list[str]) -> None:
    readings = stored_readings(raw, region)
    assert [r.number.e164 for r in readings] == expected
    assert [r.ambiguous for r in readings] == [False, True][: len(expected)]


@given(number=valid_numbers(), region=st.sampled_from(_REGIONS))
def test_digits_stored_without_their_plus_are_found_in_any_region(
    number: phonenumbers.PhoneNumber, region: str
) -> None:
    e164 = _e164(number)
    readings = [r.number.e164 for r in stored_readings(e164[1:], region)]
    nanp_national = readings[:1] and readings[0].startswith("+1") and len(e164) == 11
    assert e164 in readings or nanp_national, (e164, region, readings)


@given(
    number=valid_numbers(),
    region=st.sampled_from(_REGIONS),
    number_format=st.sampled_from(
        [PhoneNumberFormat.NATIONAL, PhoneNumberFormat.INTERNATIONAL, PhoneNumberFormat.E164]
    ),
)
def test_the_first_reading_is_normalize_and_a_second_is_the_digits_with_a_plus(
    number: phonenumbers.PhoneNumber, region: str, number_format: int
) -> None:
    raw = phonenumbers.format_number(number, number_format)
    readings = stored_readings(raw, region)
    usual = normalize(raw, region)
    if not isinstance(usual, PhoneNumber):
        assert readings == ()
        return
    assert readings[0].number == usual and not readings[0].ambiguous
    digits = "".join(c for c in raw if c.isdigit())
    for second in readings[1:]:
        assert second.ambiguous and second.number.e164 == "+" + digits
    assert len(readings) <= 2


@given(
    number=valid_numbers(),
    region=st.sampled_from(_REGIONS),
    position=st.integers(min_value=0, max_value=3),
    digit=st.sampled_from("0123456789"),
)
def test_a_look_alike_sharing_the_last_digits_matches_no_reading(
    number: phonenumbers.PhoneNumber, region: str, position: int, digit: str
) -> None:
    stored = _e164(number)[1:]
    if position >= len(stored) - 4 or stored[position] == digit:
        return
    look_alike = "+" + stored[:position] + digit + stored[position + 1 :]
    readings = {r.number.e164 for r in stored_readings(stored, region)}
    assert look_alike not in readings
