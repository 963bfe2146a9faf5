"""Tracking-number validation for the carrier the merchant named.

A number is checked against the formats of *that* carrier only (some numbers fit several
carriers; the named one is the truth and detection only warns). Each format is a shape (a
regular expression over the normalized number, with named groups ``serial``, ``check`` and
``country``) and, for most, a check digit computed from ``serial``.

The formats and algorithms follow the public definitions of jkeen/tracking_number_data
v2.0.0 (``shared/docs/api/logistics.md`` section 3); format ids are that dataset's ids, and
the two definitions it leaves without an id are called ``ups_waybill`` and
``lasership_1ls7_18`` here. The dataset itself is read only by the conformance test.

Deliberate choices:

- FedEx and DHL eCommerce also accept ``usps_impb_c`` (92/93/95 IMpb numbers): their
  SmartPost / Ground Economy and eCommerce labels are USPS-delivered IMpb numbers (the
  dataset had them as ``fedex_smartpost`` and ``dhl_ecommerce_30`` before v2.0.0).
- USPS accepts UPU S10 numbers of any issuing country (ePacket and other inbound items are
  delivered and tracked by USPS), but the country code must be an ISO 3166-1 code.
- FedEx SSCC-18 also accepts the 20-digit form with the ``00`` application identifier.
- Carriers without a public definition get ``generic``: 6-40 letters, digits or dashes,
  starting and ending with a letter or digit, no check digit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from orderbridge.domain.carriers import CARRIERS, Carrier

__all__ = [
    "CARRIER_FORMATS",
    "FORMATS",
    "GENERIC_FORMAT_ID",
    "Checksum",
    "ChecksumName",
    "Format",
    "TrackingCheck",
    "is_amazon_issued",
    "is_valid_format_id",
    "luhn",
    "matching_formats",
    "mod7",
    "mod10",
    "s10",
    "sum_product_with_weightings_and_modulo",
    "validate_tracking",
]

GENERIC_FORMAT_ID = "generic"
_S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
_S10_MODULO = 11
_WHITESPACE = re.compile(r"\s+")

# ISO 3166-1 alpha-2, officially assigned codes: the issuing country of an S10 number.
_ISO_3166_ALPHA_2 = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO
    BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ
    DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP
    GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG
    KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML
    MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE
    PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL
    SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM
    US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
"""
_COUNTRY_CODES = frozenset(_ISO_3166_ALPHA_2.split())


# --- check-digit algorithms: each returns the expected check digit of ``serial`` ---


def _digit_value(char: str) -> int:
    """0-9 for digits; letters by the datasets' rule ``(ord(c) - 3) % 10`` (A=2, B=3, ...)."""
    if "0" <= char <= "9":
        return ord(char) - ord("0")
    if "A" <= char <= "Z":
        return (ord(char) - 3) % 10
    raise ValueError(f"not a tracking-number character: {char!r}")


def mod10(serial: str, *, evens_multiplier: int, odds_multiplier: int, reverse: bool = False) -> int:
    """Weighted mod 10: 0-based positions (counted from the end if ``reverse``)."""
    chars = serial[::-1] if reverse else serial
    total = sum(
        _digit_value(c) * (odds_multiplier if i % 2 else evens_multiplier)
        for i, c in enumerate(chars)
    )
    return (10 - total % 10) % 10


def mod7(serial: str) -> int:
    """The serial as a number, modulo 7 (DHL Express air waybills)."""
    return int(serial) % 7


def s10(serial: str) -> int:
    """UPU S10: weights 8,6,4,2,3,5,9,7 on 8 digits; remainder 1 gives 0, 0 gives 5."""
    remainder = sum(_digit_value(c) * w for c, w in zip(serial, _S10_WEIGHTS, strict=True))
    check = _S10_MODULO - remainder % _S10_MODULO
    return {10: 0, 11: 5}.get(check, check)


def sum_product_with_weightings_and_modulo(
    serial: str, *, weightings: tuple[int, ...], modulo1: int, modulo2: int
) -> int:
    """``sum(digit * weight) % modulo1 % modulo2`` (FedEx Express)."""
    total = sum(_digit_value(c) * w for c, w in zip(serial, weightings, strict=True))
    return total % modulo1 % modulo2


def luhn(serial: str) -> int:
    """Luhn: from the right, every other digit doubled (digits of products summed)."""
    total = 0
    for i, c in enumerate(reversed(serial)):
        value = _digit_value(c) * (2 if i % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return (10 - total % 10) % 10


class ChecksumName(StrEnum):
    """Check-digit algorithms, named as in the dataset's ``validation.checksum.name``."""

    MOD10 = "mod10"  # weighted mod 10 (UPS, USPS, FedEx Ground, OnTrac)
    MOD7 = "mod7"  # serial modulo 7 (DHL Express)
    S10 = "s10"  # UPU S10 mod 11 (international postal items)
    SUM_PRODUCT = "sum_product_with_weightings_and_modulo"  # FedEx Express
    LUHN = "luhn"  # Luhn mod 10 (in the dataset, not used by any US format)


@dataclass(frozen=True, slots=True)
class Checksum:
    """One algorithm with its constants (unused constants keep their defaults)."""

    name: ChecksumName
    evens_multiplier: int = 1
    odds_multiplier: int = 1
    reverse: bool = False
    weightings: tuple[int, ...] = ()
    modulo1: int = 11
    modulo2: int = 10

    def digit(self, serial: str) -> int:
        """The check digit this algorithm expects for ``serial``."""
        if self.name is ChecksumName.MOD10:
            return mod10(
                serial,
                evens_multiplier=self.evens_multiplier,
                odds_multiplier=self.odds_multiplier,
                reverse=self.reverse,
            )
        if self.name is ChecksumName.MOD7:
            return mod7(serial)
        if self.name is ChecksumName.S10:
            return s10(serial)
        if self.name is ChecksumName.SUM_PRODUCT:
            return sum_product_with_weightings_and_modulo(
                serial, weightings=self.weightings, modulo1=self.modulo1, modulo2=self.modulo2
            )
        return luhn(serial)


@dataclass(frozen=True, slots=True)
class TrackingCheck:
    """The verdict on one number: ``reason`` is empty when valid, a sentence otherwise."""

    valid: bool
    normalized: str
    format_id: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class Format:
    """One tracking-number format.

    ``prepend`` is put before the serial unless the serial already starts with it (the
    dataset's ``prepend_if``). ``keep_dashes``: dashes are part of the number, otherwise
    they are separators and removed.
    """

    id: str
    carrier: Carrier | None  # the issuer; None for the generic fallback
    shape: str  # for people: what the format looks like
    pattern: re.Pattern[str]
    checksum: Checksum | None = None
    prepend: str = ""
    keep_dashes: bool = False

    def _problem(self, number: str) -> tuple[str, str | None] | None:
        """``None`` if the shape does not fit; else (normalized, problem or ``None``)."""
        candidate = _compact(number, keep_dashes=self.keep_dashes)
        found = self.pattern.fullmatch(candidate)
        if found is None:
            return None
        groups = found.groupdict()
        country = groups.get("country")
        if country is not None and country not in _COUNTRY_CODES:
            return candidate, f"{country} is not a known country code"
        if self.checksum is not None:
            serial = groups["serial"]
            if not serial.startswith(self.prepend):
                serial = self.prepend + serial
            if self.checksum.digit(serial) != int(groups["check"]):
                return candidate, "the check digit is wrong"
        return candidate, None

    def check(self, number: str) -> TrackingCheck:
        """Validate ``number`` against this format alone."""
        result = self._problem(number)
        if result is None:
            reason = f"not a {self.id} number: it is not {self.shape}"
            return TrackingCheck(False, _compact(number), None, reason)
        normalized, problem = result
        if problem is not None:
            return TrackingCheck(False, normalized, None, f"not a {self.id} number: {problem}")
        return TrackingCheck(True, normalized, self.id, "")


def _compact(number: str, *, keep_dashes: bool = True) -> str:
    """Uppercase, without whitespace (and without dashes unless they are kept)."""
    compact = _WHITESPACE.sub("", number).upper()
    return compact if keep_dashes else compact.replace("-", "")


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.ASCII)


def _mod10(evens: int, odds: int, *, reverse: bool = False) -> Checksum:
    return Checksum(ChecksumName.MOD10, evens_multiplier=evens, odds_multiplier=odds, reverse=reverse)


def _weighted(weights: tuple[int, ...], length: int) -> Checksum:
    repeated = (weights * length)[:length]
    return Checksum(ChecksumName.SUM_PRODUCT, weightings=repeated, modulo1=11, modulo2=10)


_C = Carrier
# Regexes run with fullmatch on the normalized number; "420 + ZIP(+4)" is the IMpb routing
# prefix, and its lookaheads pick the same split of the digits as the dataset does.
_FORMAT_LIST: tuple[Format, ...] = (
    Format("ups", _C.UPS, "1Z + 15 letters or digits + check digit",
           _re(r"1Z(?P<serial>[A-Z0-9]{15})(?P<check>[0-9])"), _mod10(1, 2)),
    Format("ups_waybill", _C.UPS, "A/H/J/K/T/V + 10 digits",
           _re(r"[AHJKTV](?P<serial>[0-9]{9})(?P<check>[0-9])"), _mod10(1, 2)),
    Format("usps_impb_n", _C.USPS, "94 + 20, 24 or 28 digits, optionally after 420 + ZIP",
           _re(r"(?:420(?:[0-9]{9}(?=[0-9]{22}\Z)|[0-9]{5}(?=[0-9]{22}\Z|[0-9]{26}\Z)))?"
               r"(?P<serial>94[0-9]{3}"
               r"(?:9[0-9]{8}(?:[0-9]{15}|[0-9]{11}|[0-9]{7})|[0-8][0-9]{5}(?:[0-9]{14}|[0-9]{10})))"
               r"(?P<check>[0-9])"),
           _mod10(3, 1, reverse=True)),
    Format("usps_impb_c", _C.USPS, "92/93/95 + 20 or 24 digits, optionally after 420 + ZIP",
           _re(r"(?:420(?:[0-9]{9}(?=[0-9]{22}\Z)|[0-9]{5}))?"
               r"(?P<serial>(?:92(?=[0-9]{3}9)|93(?=[0-9]{3}[0-8])|95)[0-9]{3}"
               r"(?:9[0-9]{8}(?:[0-9]{11}|[0-9]{7})|[0-8][0-9]{5}(?:[0-9]{14}|[0-9]{10})))"
               r"(?P<check>[0-9])"),
           _mod10(3, 1)),
    Format("usps_legacy", _C.USPS, "20 digits or 91 + 20 digits, optionally after 420 + ZIP",
           _re(r"(?:420[0-9]{5}(?:[0-9]{4})?)?(?P<serial>(?:91)?[0-9]{19})(?P<check>[0-9])"),
           _mod10(3, 1), prepend="91"),
    Format("usps_20", _C.USPS, "20 digits",
           _re(r"(?P<serial>[0-9]{19})(?P<check>[0-9])"), _mod10(3, 1)),
    Format("s10", _C.USPS, "2 letters + 9 digits + country code, like RB123456785US",
           _re(r"[A-Z]{2}(?P<serial>[0-9]{8})(?P<check>[0-9])(?P<country>[A-Z]{2})"),
           Checksum(ChecksumName.S10)),
    Format("fedex_12", _C.FEDEX, "12 digits",
           _re(r"(?P<serial>[0-9]{11})(?P<check>[0-9])"), _weighted((3, 1, 7), 11)),
    Format("fedex_ground", _C.FEDEX, "15 digits",
           _re(r"(?P<serial>[0-9]{14})(?P<check>[0-9])"), _mod10(1, 3)),
    Format("fedex_ground_sscc_18", _C.FEDEX, "18 digits, or 00 + 18 digits",
           _re(r"(?:00)?[0-9]{2}(?P<serial>[0-9]{15})(?P<check>[0-9])"), _mod10(3, 1)),
    Format("fedex_ground_96", _C.FEDEX, "96 + 20 digits",
           _re(r"96[0-9]{5}(?P<serial>[0-9]{14})(?P<check>[0-9])"), _mod10(1, 3)),
    Format("fedex_34", _C.FEDEX, "34 digits not starting with 9",
           _re(r"[0-8][0-9]{19}(?P<serial>[0-9]{13})(?P<check>[0-9])"), _weighted((1, 7, 3), 13)),
    Format("fedex_ground_gsn", _C.FEDEX, "96 + 32 digits",
           _re(r"96[0-9]{18}(?P<serial>[0-9]{13})(?P<check>[0-9])"), _weighted((1, 7, 3), 13)),
    Format("fedex_astra_32", _C.FEDEX, "3 + 31 digits",
           _re(r"3[0-9]{15}(?P<serial>[0-9]{11})(?P<check>[0-9])[0-9]{4}"),
           _weighted((3, 1, 7), 11)),
    Format("dhl_express", _C.DHL_EXPRESS, "10 or 11 digits",
           _re(r"(?P<serial>[0-9]{9,10})(?P<check>[0-9])"), Checksum(ChecksumName.MOD7)),
    Format("dhl_express_piece_id", _C.DHL_EXPRESS, "J + 2 or 3 letters + 9 or 10 digits",
           _re(r"J[A-Z]{2,3}[0-9]{9,10}")),
    Format("dhl_ecommerce", _C.DHL_ECOMMERCE,
           "GM/LX/RX/UV/CN/SG/TH/IN/HK/MY + a digit + 9-38 letters or digits",
           _re(r"(?:GM|LX|RX|UV|CN|SG|TH|IN|HK|MY)[0-9][0-9A-Z]{9,38}")),
    Format("dhl_ecommerce_14", _C.DHL_ECOMMERCE, "14 digits", _re(r"[0-9]{14}")),
    Format("ontrac_c", _C.ONTRAC, "C + 14 digits",
           _re(r"C(?P<serial>[0-9]{13})(?P<check>[0-9])"), _mod10(1, 2), prepend="4"),
    Format("ontrac_d", _C.ONTRAC, "D + 14 digits",
           _re(r"D(?P<serial>[0-9]{13})(?P<check>[0-9])"), _mod10(1, 2), prepend="5"),
    Format("lasership_lx", _C.LASERSHIP, "L + A/I/E/H/N/X + 1-3 + 7 digits",
           _re(r"L[AIEHNX][1-3][0-9]{7}")),
    Format("lasership_1ls7", _C.LASERSHIP, "1LS7 + 11 digits", _re(r"1LS7[12][0-9]{10}")),
    Format("lasership_1ls7_18", _C.LASERSHIP, "1LS7 + 12 digits + -1",
           _re(r"1LS7[12][0-9]{2}01[1-4][0-9]{6}-1"), keep_dashes=True),
    Format("lasership_1lscx", _C.LASERSHIP, "1LSCX + 10 letters or digits",
           _re(r"1LSCX[0-9A-Z]{10}")),
    Format("amazon_logistics", _C.AMAZON_LOGISTICS, "TBA/TBC/TBM + 12 digits",
           _re(r"TB[ACM][0-9]{12}")),
    Format("amazon_international", _C.AMAZON_LOGISTICS, "A/F/C + 10 digits",
           _re(r"[AFC][0-9]{10}")),
    Format("speedee", _C.SPEEDEE, "SP + 18 digits", _re(r"SP[0-9]{18}")),
    Format("gofo_us", _C.GOFO, "GFUS + 14 digits", _re(r"GFUS[0-9]{14}")),
    Format(GENERIC_FORMAT_ID, None, "6 to 40 letters, digits or dashes",
           _re(r"[A-Z0-9][A-Z0-9-]{4,38}[A-Z0-9]"), keep_dashes=True),
)

FORMATS: Mapping[str, Format] = MappingProxyType({f.id: f for f in _FORMAT_LIST})


def _formats_of(carrier: Carrier, *extra: str) -> tuple[str, ...]:
    own = tuple(f.id for f in _FORMAT_LIST if f.carrier is carrier)
    return (*own, *extra) if own or extra else (GENERIC_FORMAT_ID,)


# Formats accepted per named carrier, in the order they are tried.
CARRIER_FORMATS: Mapping[Carrier, tuple[str, ...]] = MappingProxyType(
    {
        c: _formats_of(c, "usps_impb_c") if c in (_C.FEDEX, _C.DHL_ECOMMERCE) else _formats_of(c)
        for c in Carrier
    }
)


def is_valid_format_id(format_id: str) -> bool:
    """Whether ``format_id`` names a format of :data:`FORMATS`."""
    return format_id in FORMATS


def validate_tracking(carrier: Carrier, number: str) -> TrackingCheck:
    """Check ``number`` against the formats of ``carrier`` (the carrier named, not a guess).

    Valid: ``normalized`` is the number to upload, ``format_id`` the format that took it.
    Invalid: ``reason`` says why, e.g. "not a UPS tracking number: the check digit is wrong".
    """
    label = CARRIERS[carrier].display_name
    if not _compact(number):
        return TrackingCheck(False, "", None, f"not a {label} tracking number: it is empty")
    problem: tuple[str, str] | None = None
    for format_id in CARRIER_FORMATS[carrier]:
        result = FORMATS[format_id]._problem(number)
        if result is None:
            continue
        normalized, found = result
        if found is None:
            return TrackingCheck(True, normalized, format_id, "")
        problem = problem or (normalized, found)
    if problem is not None:
        normalized, found = problem
        return TrackingCheck(False, normalized, None, f"not a {label} tracking number: {found}")
    shapes = "; ".join(FORMATS[f].shape for f in CARRIER_FORMATS[carrier])
    return TrackingCheck(
        False,
        _compact(number),
        None,
        f"not a {label} tracking number: it matches none of the {label} formats ({shapes})",
    )


def matching_formats(number: str) -> list[tuple[Carrier, str]]:
    """Every (carrier, format id) whose shape and check digit accept ``number``.

    For warnings only ("this looks like a FedEx number"): several carriers can fit one
    number. The permissive ``generic`` format is left out, it would fit almost anything.
    """
    return [
        (carrier, format_id)
        for carrier, format_ids in CARRIER_FORMATS.items()
        for format_id in format_ids
        if format_id != GENERIC_FORMAT_ID and FORMATS[format_id].check(number).valid
    ]


def is_amazon_issued(number: str, carrier: Carrier | None = None) -> bool:
    """Whether ``number`` may be uploaded for an Amazon MCF warehouse.

    Accepted: any Amazon Logistics number (TBA/TBC/TBM + 12 digits), whatever carrier was
    named; and, when the named carrier is Amazon, any number valid for Amazon (so also the
    ``amazon_international`` shape). A UPS or USPS number is never Amazon-issued by its
    shape: the caller may still trust one that it read from MCF's own API.
    """
    if FORMATS["amazon_logistics"].check(number).valid:
        return True
    amazon = Carrier.AMAZON_LOGISTICS
    return carrier is amazon and validate_tracking(amazon, number).valid
