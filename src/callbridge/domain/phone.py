"""Phone numbers: turn a raw caller id into E.164, or say why it is not an external number.

Every comparison of numbers in Callbridge goes through :func:`normalize`, so that a number stored
in a CRM as ``06 12 34 56 78`` matches a call from ``+33612345678``. Parsing, validation and
formatting are libphonenumber's (the ``phonenumbers`` port); nothing here builds E.164 by hand.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneMetadata, PhoneNumberFormat, shortnumberinfo

# Longer than any real number, tel: or sip: URI; keeps junk out of the parser and the cache.
_MAX_RAW_LENGTH = 128
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
# Digits with the usual separators and nothing else: no "+", no IDD, no letters.
_BARE_DIGITS = re.compile(r"[0-9][0-9 .\-()]*")
_EXTENSION = re.compile(r"[0-9]{2,6}")
_PHONE_LIKE = re.compile(r"\+?[0-9 .\-()]+")
_SIP_URI = re.compile(r"sips?:(?P<user>[^@;]*)", re.IGNORECASE)


class NoNumberReason(StrEnum):
    """Why a call's other party has no external number to search or create in a CRM."""

    MISSING = "missing"
    ANONYMOUS = "anonymous"
    WITHHELD = "withheld"
    UNKNOWN = "unknown"
    CLIENT_IDENTIFIER = "client_identifier"
    SHORT_CODE = "short_code"
    EMERGENCY = "emergency"
    INTERNAL_EXTENSION = "internal_extension"
    OWN_NUMBER = "own_number"
    INVALID = "invalid"


# Caller-id labels that platforms and carriers send instead of a number, lower-cased.
_LABELS: dict[str, NoNumberReason] = {
    "anonymous": NoNumberReason.ANONYMOUS,
    "withheld": NoNumberReason.WITHHELD,
    "number withheld": NoNumberReason.WITHHELD,
    "private": NoNumberReason.WITHHELD,
    "private number": NoNumberReason.WITHHELD,
    "restricted": NoNumberReason.WITHHELD,
    "hidden": NoNumberReason.WITHHELD,
    "blocked": NoNumberReason.WITHHELD,
    "unknown": NoNumberReason.UNKNOWN,
    "unavailable": NoNumberReason.UNKNOWN,
}


@dataclass(frozen=True)
class PhoneNumber:
    """A valid external phone number in E.164, with the extension dialled after it, if any."""

    e164: str
    extension: str | None = None

    def __post_init__(self) -> None:
        if not _E164.fullmatch(self.e164):
            raise ValueError(f"{self.e164!r} is not E.164: expected '+' then 2 to 15 digits")

    def national_digits(self) -> str:
        """Return the national significant number, with Italy's leading zero when it has one."""
        return _national_digits(self.e164)

    def international(self) -> str:
        """Return the number in INTERNATIONAL format, e.g. ``+33 6 12 34 56 78 ext. 12``."""
        return _international(self.e164, self.extension)


# A sync formats and searches its caller's number several times (its filter groups, its
# activity's title and body): libphonenumber parses once a number, not once a use. The parse
# that made the number (``normalize``) is kept too, so a new caller's number is parsed once.
# The numbers parsed lately, least recently asked for first: a number a sync asks for is back
# within a second, for its other formats.
_PARSED: OrderedDict[str, phonenumbers.PhoneNumber] = OrderedDict()
_PARSED_KEPT = 4096
_PARSED_LOCK = threading.Lock()


def _parsed(e164: str) -> phonenumbers.PhoneNumber:
    """Return a valid E.164 number parsed, without extension (shared: copy it to change it)."""
    with _PARSED_LOCK:
        number = _PARSED.get(e164)
        if number is not None:
            _PARSED.move_to_end(e164)
            return number
    number = phonenumbers.parse(e164, None)
    _keep_parsed(e164, number)
    return number


def _keep_parsed(e164: str, number: phonenumbers.PhoneNumber) -> None:
    """Keep a parsed number, without its extension, for the formats asked of it next."""
    if number.extension:
        number = _copied(number, None)
    with _PARSED_LOCK:  # units run in threads: one change of the order at a time
        _PARSED[e164] = number
        _PARSED.move_to_end(e164)
        if len(_PARSED) > _PARSED_KEPT:
            _PARSED.popitem(last=False)


def _copied(number: phonenumbers.PhoneNumber, extension: str | None) -> phonenumbers.PhoneNumber:
    """Return a copy of a parsed number carrying ``extension``."""
    copy = phonenumbers.PhoneNumber()
    copy.merge_from(number)
    copy.extension = extension
    return copy


@lru_cache(maxsize=4096)
def _national_digits(e164: str) -> str:
    """Return the national significant number of a valid E.164 number."""
    return phonenumbers.national_significant_number(_parsed(e164))


@lru_cache(maxsize=4096)
def _international(e164: str, extension: str | None) -> str:
    """Return a valid E.164 number (with its extension) in INTERNATIONAL format."""
    number = _copied(_parsed(e164), extension)
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)


@dataclass(frozen=True)
class NoExternalNumber:
    """The other party of a call has no number we may search or create; ``reason`` says why."""

    reason: NoNumberReason
    raw: str | None


def warm_up() -> None:
    """Load every region's full and short-number metadata now, not on the first call."""
    PhoneMetadata.load_all()
    for region in shortnumberinfo.SUPPORTED_SHORT_REGIONS:
        PhoneMetadata.short_metadata_for_region(region)


def normalize(
    raw: str | None,
    region: str,
    *,
    own_numbers: Collection[str] = (),
    extensions: Collection[str] = (),
) -> PhoneNumber | NoExternalNumber:
    """Normalize a raw number dialled or shown in ``region``; never raise.

    ``own_numbers`` (the company's lines, in any format) and ``extensions`` (the PBX's internal
    extensions, compared as written) turn into ``OWN_NUMBER`` and ``INTERNAL_EXTENSION``.

    >>> normalize("06 12 34 56 78", "FR")
    PhoneNumber(e164='+33612345678', extension=None)
    """
    if raw is None or not raw.strip():
        return NoExternalNumber(NoNumberReason.MISSING, raw)
    text = raw.strip()
    label = _LABELS.get(text.strip("<>").strip().lower())
    if label is not None:
        return NoExternalNumber(label, raw)
    sip = _SIP_URI.match(text)
    if sip is not None:
        return _normalize_sip_user(raw, sip["user"], region, own_numbers, extensions)
    if text.lower().startswith("client:") or "@" in text:
        return NoExternalNumber(NoNumberReason.CLIENT_IDENTIFIER, raw)
    if text in {extension.strip() for extension in extensions}:
        return NoExternalNumber(NoNumberReason.INTERNAL_EXTENSION, raw)
    if len(text) > _MAX_RAW_LENGTH:
        return NoExternalNumber(NoNumberReason.INVALID, raw)
    result = _classify(text, region.upper())
    if isinstance(result, NoNumberReason):
        return NoExternalNumber(result, raw)
    if result.e164 in _own_e164s(own_numbers, region.upper()):
        return NoExternalNumber(NoNumberReason.OWN_NUMBER, raw)
    return result


@dataclass(frozen=True)
class Reading:
    """One way to read a number stored in a CRM: its E.164 form, and whether it is the second."""

    number: PhoneNumber
    ambiguous: bool  # read as international digits without their "+", beside a national reading


def stored_readings(raw: str | None, region: str) -> tuple[Reading, ...]:
    """Return every plausible E.164 reading of a number stored in a CRM, the usual one first.

    CRMs hold numbers as people typed them. ``33612345607`` is +33 6 12 34 56 07 with its "+"
    dropped, but with region DE it is also a valid German national number, and :func:`normalize`
    reads it so. A stored number is matched against both readings: the national one (what
    :func:`normalize` answers) and, for bare digits that are also valid once a "+" is put in
    front, the international one, marked ``ambiguous``. Both readings are valid numbers made of
    exactly the stored digits, so a caller sharing only the last digits matches neither.

    >>> [r.number.e164 for r in stored_readings("4915123456109", "DE")]
    ['+494915123456109', '+4915123456109']
    """
    if raw is None:
        return ()
    return _stored_readings(raw, region)


# Pure and asked for again and again (every stored number of every record a search finds, the
# caller's own digits for each search's filter): the readings of a number are kept once made.
@lru_cache(maxsize=4096)
def _stored_readings(raw: str, region: str) -> tuple[Reading, ...]:
    """Return the readings of a stored number (see :func:`stored_readings`)."""
    first = normalize(raw, region)
    if not isinstance(first, PhoneNumber):
        return ()
    readings = [Reading(first, ambiguous=False)]
    text = raw.strip()
    digits = re.sub(r"[^0-9]", "", text)
    if _has_second_reading(text, digits, first):
        # Classified as the caller's own E.164 is (kept): a sync asking whether its caller's
        # digits, stored without "+", read two ways parses nothing more.
        second = _classify("+" + digits, region)
        if isinstance(second, PhoneNumber) and second.e164 != first.e164:
            readings.append(Reading(second, ambiguous=True))
    return tuple(readings)


def _has_second_reading(text: str, digits: str, first: PhoneNumber) -> bool:
    """Tell whether bare stored digits may also be an international number without its "+".

    Not for a trunk-prefixed national number (``0…``), nor for the ten digits of a North
    American number: in the NANP a national number is always written so, and ten digits read
    with a "+" would turn ``2015550123`` into an Egyptian number.
    """
    if not _BARE_DIGITS.fullmatch(text) or text.startswith("0") or len(text) > _MAX_RAW_LENGTH:
        return False
    return not (first.e164.startswith("+1") and len(digits) == 10)


def parse_e164(value: str) -> PhoneNumber:
    """Parse a number already in E.164 (``+33612345678``); raise ValueError on any other form.

    This checks the form and the length for the country, not whether the range is allocated:
    stored numbers must keep loading when libphonenumber's metadata changes.
    """
    if not _E164.fullmatch(value):
        raise ValueError(f"{value!r} is not E.164: expected '+' then 2 to 15 digits")
    try:
        number = phonenumbers.parse(value, None)
    except NumberParseException as err:
        raise ValueError(f"{value!r} is not E.164: {err}") from err
    if not phonenumbers.is_possible_number(number):
        raise ValueError(f"{value!r} is not E.164: wrong length for its country code")
    if phonenumbers.format_number(number, PhoneNumberFormat.E164) != value:
        raise ValueError(f"{value!r} is not E.164: not in canonical form")
    return PhoneNumber(value)


def _normalize_sip_user(
    raw: str,
    user: str,
    region: str,
    own_numbers: Collection[str],
    extensions: Collection[str],
) -> PhoneNumber | NoExternalNumber:
    """Classify the user part of a SIP URI: a number or label as such, anything else a client."""
    is_label = user.strip("<>").strip().lower() in _LABELS
    if not user or not (is_label or _PHONE_LIKE.fullmatch(user)):
        return NoExternalNumber(NoNumberReason.CLIENT_IDENTIFIER, raw)
    result = normalize(user, region, own_numbers=own_numbers, extensions=extensions)
    if isinstance(result, NoExternalNumber):
        return NoExternalNumber(result.reason, raw)
    return result


def _own_e164s(own_numbers: Collection[str], region: str) -> set[str]:
    """Return the E.164 forms of the company's own numbers that parse as valid numbers."""
    e164s = set()
    for own in own_numbers:
        text = own.strip()
        if not text or len(text) > _MAX_RAW_LENGTH:
            continue
        parsed = _classify(text, region)
        if isinstance(parsed, PhoneNumber):
            e164s.add(parsed.e164)
    return e164s


@lru_cache(maxsize=4096)
def _classify(text: str, region: str) -> PhoneNumber | NoNumberReason:
    """Parse a stripped raw number in ``region`` into a valid number or the reason it is none."""
    number = _parse(text, region)
    if number is not None and phonenumbers.is_valid_number(number):
        return _to_value(number)
    if not text.startswith("+"):
        if shortnumberinfo.is_emergency_number(text, region):
            return NoNumberReason.EMERGENCY
        if number is not None and shortnumberinfo.is_valid_short_number_for_region(number, region):
            return NoNumberReason.SHORT_CODE
    if _BARE_DIGITS.fullmatch(text):
        # Providers often drop the "+" of international numbers: 33612345678 is +33 6 12 34 56 78;
        # and most PBXs dial abroad with "00" even where the region's own prefix differs (US: 011).
        international = text[2:] if text.startswith("00") else text
        retried = _parse("+" + international, region)
        if retried is not None and phonenumbers.is_valid_number(retried):
            return _to_value(retried)
    if _EXTENSION.fullmatch(text):
        return NoNumberReason.INTERNAL_EXTENSION
    return NoNumberReason.INVALID


def _parse(text: str, region: str) -> phonenumbers.PhoneNumber | None:
    """Parse with libphonenumber, or return None when it cannot read a number at all."""
    try:
        return phonenumbers.parse(text, region)
    except NumberParseException:
        return None


def _to_value(number: phonenumbers.PhoneNumber) -> PhoneNumber:
    """Convert a valid parsed number into the domain value (its parse kept for its formats)."""
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    _keep_parsed(e164, number)
    return PhoneNumber(e164=e164, extension=number.extension or None)
