"""Phone number normalization: accepted formats, every no-number reason, and round trips."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from callbridge.domain.phone import (
    NoExternalNumber,
    NoNumberReason,
    PhoneNumber,
    normalize,
    parse_e164,
    warm_up,
)

ACCEPTED = [
    # (raw, region, e164, extension)
    ("+33612345678", "FR", "+33612345678", None),
    ("+33 6 12 34 56 78", "US", "+33612345678", None),
    ("0033612345678", "FR", "+33612345678", None),
    ("0033 6 12 34 56 78", "FR", "+33612345678", None),
    ("06 12 34 56 78", "FR", "+33612345678", None),
    ("06.12.34.56.78", "FR", "+33612345678", None),
    ("+33 (0)6 12 34 56 78", "FR", "+33612345678", None),
    ("+33 (0)6 12 34 56 78", "US", "+33612345678", None),
    ("33612345678", "FR", "+33612345678", None),
    ("33612345678", "US", "+33612345678", None),
    ("  +33612345678\n", "FR", "+33612345678", None),
    ("(201) 555-0199", "US", "+12015550199", None),
    ("201-555-0123", "US", "+12015550123", None),
    ("1 201 555 0123", "US", "+12015550123", None),
    ("12015550123", "FR", "+12015550123", None),
    ("011 33 6 12 34 56 78", "US", "+33612345678", None),
    ("067 123 45 67", "UA", "+380671234567", None),
    ("+380 67 123 45 67", "UA", "+380671234567", None),
    ("380671234567", "UA", "+380671234567", None),
    ("020 7946 0958", "GB", "+442079460958", None),
    ("+44 (0)20 7946 0958", "FR", "+442079460958", None),
    ("06 1234 5678", "IT", "+390612345678", None),
    ("+39 06 1234 5678", "FR", "+390612345678", None),
    ("tel:+1-415-555-0134", "FR", "+14155550134", None),
    ("tel:+33-6-12-34-56-78", "US", "+33612345678", None),
    ("tel:+1-415-555-0134;ext=12", "US", "+14155550134", "12"),
    ("+1 415 555 0134;ext=12", "US", "+14155550134", "12"),
    ("+1 415 555 0134 ext. 12", "US", "+14155550134", "12"),
    ("06 12 34 56 78 ext. 301", "FR", "+33612345678", "301"),
    ("sip:+33612345678@trunk.example.com;user=phone", "FR", "+33612345678", None),
    ("+33612345678", "fr", "+33612345678", None),
]


@pytest.mark.parametrize(("raw", "region", "e164", "extension"), ACCEPTED)
def test_accepted_formats_become_e164(
    raw: str, region: str, e164: str, extension: str | None
) -> None:
    assert normalize(raw, region) == PhoneNumber(e164, extension)


REJECTED = [
    # (raw, region, reason)
    (None, "FR", NoNumberReason.MISSING),
    ("", "FR", NoNumberReason.MISSING),
    ("   ", "FR", NoNumberReason.MISSING),
    ("anonymous", "US", NoNumberReason.ANONYMOUS),
    ("Anonymous", "US", NoNumberReason.ANONYMOUS),
    ("<anonymous>", "US", NoNumberReason.ANONYMOUS),
    ("sip:anonymous@anonymous.invalid", "FR", NoNumberReason.ANONYMOUS),
    ("withheld", "GB", NoNumberReason.WITHHELD),
    ("WITHHELD", "GB", NoNumberReason.WITHHELD),
    ("private", "FR", NoNumberReason.WITHHELD),
    ("Restricted", "US", NoNumberReason.WITHHELD),
    ("hidden", "UA", NoNumberReason.WITHHELD),
    ("unknown", "US", NoNumberReason.UNKNOWN),
    ("<unknown>", "US", NoNumberReason.UNKNOWN),
    ("client:alice", "US", NoNumberReason.CLIENT_IDENTIFIER),
    ("Client:Bob", "US", NoNumberReason.CLIENT_IDENTIFIER),
    ("sip:alice@pbx.example.com", "FR", NoNumberReason.CLIENT_IDENTIFIER),
    ("sips:alice@pbx.example.com", "FR", NoNumberReason.CLIENT_IDENTIFIER),
    ("alice@pbx.example.com", "FR", NoNumberReason.CLIENT_IDENTIFIER),
    ("112", "FR", NoNumberReason.EMERGENCY),
    ("112", "GB", NoNumberReason.EMERGENCY),
    ("15", "FR", NoNumberReason.EMERGENCY),
    ("911", "US", NoNumberReason.EMERGENCY),
    ("999", "GB", NoNumberReason.EMERGENCY),
    ("tel:112", "IT", NoNumberReason.EMERGENCY),
    ("3631", "FR", NoNumberReason.SHORT_CODE),
    ("116000", "FR", NoNumberReason.SHORT_CODE),
    ("201", "US", NoNumberReason.INTERNAL_EXTENSION),
    ("1234", "US", NoNumberReason.INTERNAL_EXTENSION),
    ("22", "UA", NoNumberReason.INTERNAL_EXTENSION),
    ("sip:1001@pbx.example.com", "US", NoNumberReason.INTERNAL_EXTENSION),
    ("0612", "FR", NoNumberReason.INTERNAL_EXTENSION),
    ("(555) 010-0199", "US", NoNumberReason.INVALID),
    ("+1234", "US", NoNumberReason.INVALID),
    ("1234567", "US", NoNumberReason.INVALID),
    ("06 12 34", "FR", NoNumberReason.INVALID),
    ("12 34", "US", NoNumberReason.INVALID),
    ("1234567", "FR", NoNumberReason.INVALID),
    ("+33 6 12 34 56 78 90 12", "FR", NoNumberReason.INVALID),
    ("not a number", "FR", NoNumberReason.INVALID),
    ("5", "US", NoNumberReason.INVALID),
    ("06 12 34 56 78", "ZZ", NoNumberReason.INVALID),
    ("+" + "1" * 200, "US", NoNumberReason.INVALID),
]


@pytest.mark.parametrize(("raw", "region", "reason"), REJECTED)
def test_non_external_numbers_say_why(raw: str | None, region: str, reason: NoNumberReason) -> None:
    assert normalize(raw, region) == NoExternalNumber(reason, raw)


CONFIGURED = [
    # (raw, region, own_numbers, extensions, reason)
    ("+33 1 23 45 67 89", "FR", ["01 23 45 67 89"], [], NoNumberReason.OWN_NUMBER),
    ("0123456789", "FR", ["+33123456789"], [], NoNumberReason.OWN_NUMBER),
    ("tel:+1-201-555-0100", "US", ["(201) 555-0100", "garbage"], [], NoNumberReason.OWN_NUMBER),
    ("+1 201 555 0100 ext. 7", "US", ["+12015550100"], [], NoNumberReason.OWN_NUMBER),
    ("1001", "FR", [], ["1001"], NoNumberReason.INTERNAL_EXTENSION),
    (" 42 ", "US", [], ["42 "], NoNumberReason.INTERNAL_EXTENSION),
    ("sip:1001@pbx.example.com", "FR", [], ["1001"], NoNumberReason.INTERNAL_EXTENSION),
]


@pytest.mark.parametrize(("raw", "region", "own", "extensions", "reason"), CONFIGURED)
def test_own_numbers_and_extensions_are_not_external(
    raw: str, region: str, own: list[str], extensions: list[str], reason: NoNumberReason
) -> None:
    result = normalize(raw, region, own_numbers=own, extensions=extensions)
    assert result == NoExternalNumber(reason, raw)


def test_other_numbers_pass_the_own_number_check() -> None:
    result = normalize("06 12 34 56 78", "FR", own_numbers=["01 23 45 67 89"], extensions=["12"])
    assert result == PhoneNumber("+33612345678")


@pytest.mark.parametrize(
    ("number", "national", "international"),
    [
        (PhoneNumber("+33612345678"), "612345678", "+33 6 12 34 56 78"),
        (PhoneNumber("+390612345678"), "0612345678", "+39 06 1234 5678"),
        (PhoneNumber("+442079460958"), "2079460958", "+44 20 7946 0958"),
        (PhoneNumber("+380671234567"), "671234567", "+380 67 123 4567"),
        (PhoneNumber("+14155550134", "12"), "4155550134", "+1 415-555-0134 ext. 12"),
    ],
)
def test_phone_number_formats(number: PhoneNumber, national: str, international: str) -> None:
    assert number.national_digits() == national
    assert number.international() == international


@pytest.mark.parametrize("value", ["+33612345678", "+390612345678", "+15550100199"])
def test_parse_e164_accepts_canonical_form(value: str) -> None:
    assert parse_e164(value) == PhoneNumber(value)


@pytest.mark.parametrize(
    "value",
    ["0612345678", "33612345678", "+33 6 12 34 56 78", "+330612345678", "+1234", "", "+", "tel:+1"],
)
def test_parse_e164_rejects_anything_else(value: str) -> None:
    with pytest.raises(ValueError, match=r"E\.164"):
        parse_e164(value)


def test_phone_number_rejects_a_non_e164_value() -> None:
    with pytest.raises(ValueError, match=r"E\.164"):
        PhoneNumber("0612345678")


def test_warm_up_loads_metadata_and_normalize_still_works() -> None:
    warm_up()
    assert normalize("112", "DE") == NoExternalNumber(NoNumberReason.EMERGENCY, "112")


_TYPES = [
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.MOBILE,
    PhoneNumberType.TOLL_FREE,
    PhoneNumberType.PREMIUM_RATE,
    PhoneNumberType.SHARED_COST,
    PhoneNumberType.VOIP,
    PhoneNumberType.PERSONAL_NUMBER,
    PhoneNumberType.PAGER,
    PhoneNumberType.UAN,
    PhoneNumberType.VOICEMAIL,
]
_REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)


@st.composite
def example_numbers(draw: st.DrawFn) -> tuple[str, phonenumbers.PhoneNumber]:
    """Draw a region and a valid example number of some type from that region."""
    region = draw(st.sampled_from(_REGIONS))
    types = [t for t in _TYPES if phonenumbers.example_number_for_type(region, t) is not None]
    number = phonenumbers.example_number_for_type(region, draw(st.sampled_from(types)))
    assert number is not None
    return region, number


_FORMATS = [
    PhoneNumberFormat.INTERNATIONAL,
    PhoneNumberFormat.NATIONAL,
    PhoneNumberFormat.RFC3966,
    PhoneNumberFormat.E164,
]


@given(example=example_numbers(), number_format=st.sampled_from(_FORMATS))
def test_formatted_numbers_normalize_back_to_their_e164(
    example: tuple[str, phonenumbers.PhoneNumber], number_format: int
) -> None:
    region, number = example
    expected = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    result = normalize(phonenumbers.format_number(number, number_format), region)
    assert result == PhoneNumber(expected)


@given(
    example=example_numbers(),
    number_format=st.sampled_from(
        [PhoneNumberFormat.INTERNATIONAL, PhoneNumberFormat.RFC3966, PhoneNumberFormat.E164]
    ),
    dialled_from=st.sampled_from(_REGIONS),
)
def test_international_forms_do_not_depend_on_the_region(
    example: tuple[str, phonenumbers.PhoneNumber], number_format: int, dialled_from: str
) -> None:
    _, number = example
    expected = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    result = normalize(phonenumbers.format_number(number, number_format), dialled_from)
    assert result == PhoneNumber(expected)


@given(raw=st.text(), region=st.sampled_from([*_REGIONS[:20], "FR", "US", "UA", "ZZ"]))
def test_normalize_is_idempotent_and_never_raises(raw: str, region: str) -> None:
    result = normalize(raw, region)
    assert isinstance(result, PhoneNumber | NoExternalNumber)
    if isinstance(result, PhoneNumber):
        assert normalize(result.e164, region) == PhoneNumber(result.e164)
        assert parse_e164(result.e164) == PhoneNumber(result.e164)
    else:
        assert result.raw == raw


@given(raw=st.text(alphabet="+0123456789 ().-;ext=:tel", max_size=30))
def test_normalize_never_raises_on_number_like_text(raw: str) -> None:
    result = normalize(raw, "FR", own_numbers=["01 23 45 67 89"], extensions=["1001"])
    assert isinstance(result, PhoneNumber | NoExternalNumber)


@given(
    example=example_numbers(),
    number_format=st.sampled_from(_FORMATS),
    extension=st.none() | st.from_regex(r"[0-9]{1,5}", fullmatch=True),
)
def test_a_number_is_formatted_as_a_fresh_parse_would_whatever_read_it_first(
    example: tuple[str, phonenumbers.PhoneNumber], number_format: int, extension: str | None
) -> None:
    """The parse ``normalize`` keeps (from any written form, with an extension or not) gives
    the same national digits and international form as parsing the E.164 anew."""
    region, number = example
    written = phonenumbers.format_number(number, number_format)
    if extension:
        written += f" ext. {extension}"
    result = normalize(written, region)
    assert isinstance(result, PhoneNumber)
    fresh = phonenumbers.parse(result.e164, None)
    assert result.national_digits() == phonenumbers.national_significant_number(fresh)
    bare = phonenumbers.format_number(fresh, PhoneNumberFormat.INTERNATIONAL)
    fresh.extension = result.extension
    international = phonenumbers.format_number(fresh, PhoneNumberFormat.INTERNATIONAL)
    assert result.international() == international
    assert PhoneNumber(result.e164).international() == bare
