"""Tracking-number validation: the algorithms, each format, and the per-carrier verdicts."""

from __future__ import annotations

import dataclasses

import pytest

from orderbridge.domain.carriers import Carrier
from orderbridge.domain.tracking import (
    CARRIER_FORMATS,
    FORMATS,
    GENERIC_FORMAT_ID,
    Checksum,
    ChecksumName,
    TrackingCheck,
    is_amazon_issued,
    is_valid_format_id,
    luhn,
    matching_formats,
    mod7,
    mod10,
    s10,
    sum_product_with_weightings_and_modulo,
    validate_tracking,
)

# --- algorithms, with examples worked by hand ---


def test_mod10_ups() -> None:
    # 1Z5R89390357567127: serial 5R8939035756712, R -> (82 - 3) % 10 = 9.
    # even positions x1: 5+8+3+0+5+5+7+2 = 35; odd positions x2: (9+9+9+3+7+6+1) * 2 = 88;
    # 123 -> check (10 - 3) % 10 = 7.
    assert mod10("5R8939035756712", evens_multiplier=1, odds_multiplier=2) == 7


def test_mod10_reverse_counts_positions_from_the_end() -> None:
    # "12": forward 1*3 + 2*1 = 5 -> 5; reversed 2*3 + 1*1 = 7 -> 3.
    assert mod10("12", evens_multiplier=3, odds_multiplier=1) == 5
    assert mod10("12", evens_multiplier=3, odds_multiplier=1, reverse=True) == 3


def test_mod10_letters_and_zero_sum() -> None:
    assert mod10("A", evens_multiplier=1, odds_multiplier=1) == 8  # A -> 62 % 10 = 2
    assert mod10("I", evens_multiplier=1, odds_multiplier=1) == 0  # I -> 70 % 10 = 0
    assert mod10("0000", evens_multiplier=3, odds_multiplier=1) == 0


def test_mod10_refuses_other_characters() -> None:
    with pytest.raises(ValueError, match="not a tracking-number character"):
        mod10("1#", evens_multiplier=1, odds_multiplier=2)
    with pytest.raises(ValueError, match="not a tracking-number character"):
        mod10("1a", evens_multiplier=1, odds_multiplier=2)


def test_mod7() -> None:
    assert mod7("331881002") == 5  # 331881002 = 7 * 47411571 + 5
    assert mod7("7") == 0


def test_s10() -> None:
    # 1*8 + 2*6 + 3*4 + 4*2 + 5*3 + 6*5 + 7*9 + 8*7 = 204 = 18*11 + 6 -> 11 - 6 = 5.
    assert s10("12345678") == 5
    assert s10("00000000") == 5  # remainder 0 -> 5
    assert s10("00060000") == 0  # 6*2 = 12, remainder 1 -> 0
    assert s10("00000001") == 4  # 7, remainder 7 -> 4


def test_s10_needs_eight_digits() -> None:
    with pytest.raises(ValueError, match="longer"):
        s10("1234567")


def test_sum_product_fedex_12() -> None:
    # 98657878885 with 3,1,7,...: 27+8+42+15+7+56+21+8+56+24+5 = 269; 269 % 11 = 5; 5 % 10 = 5.
    weights = (3, 1, 7, 3, 1, 7, 3, 1, 7, 3, 1)
    assert sum_product_with_weightings_and_modulo(
        "98657878885", weightings=weights, modulo1=11, modulo2=10
    ) == 5
    # 10 % 11 % 10 = 0: the second modulo folds a remainder of 10 into 0.
    assert sum_product_with_weightings_and_modulo(
        "10", weightings=(10, 0), modulo1=11, modulo2=10
    ) == 0


def test_luhn() -> None:
    assert luhn("7992739871") == 3  # the textbook example: 79927398713
    assert luhn("0") == 0
    assert luhn("5") == 9  # 5*2 = 10 -> 1 + 0 = 1 -> 9


@pytest.mark.parametrize(
    ("checksum", "serial", "expected"),
    [
        (Checksum(ChecksumName.MOD10, evens_multiplier=1, odds_multiplier=2), "5R8939035756712", 7),
        (Checksum(ChecksumName.MOD7), "331881002", 5),
        (Checksum(ChecksumName.S10), "12345678", 5),
        (Checksum(ChecksumName.SUM_PRODUCT, weightings=(3, 1, 7) * 3 + (3, 1)), "98657878885", 5),
        (Checksum(ChecksumName.LUHN), "7992739871", 3),
    ],
    ids=lambda value: value.name if isinstance(value, Checksum) else None,
)
def test_checksum_dispatches_to_its_algorithm(checksum: Checksum, serial: str, expected: int) -> None:
    assert checksum.digit(serial) == expected


# --- one format at a time ---


def test_format_check_outcomes() -> None:
    ups = FORMATS["ups"]
    assert ups.check("1z 5r8 939 0357 5671 27") == TrackingCheck(
        True, "1Z5R89390357567127", "ups", ""
    )
    wrong = ups.check("1Z5R89390357567128")
    assert wrong == TrackingCheck(
        False, "1Z5R89390357567128", None, "not a ups number: the check digit is wrong"
    )
    shape = ups.check("1Z5R8939035756712")
    assert not shape.valid
    assert shape.reason.startswith("not a ups number: it is not 1Z")


def test_ontrac_prepends_the_letter_value() -> None:
    # C11031500001879: serial 1103150000187 becomes 41103150000187 (C -> 4);
    # evens 4+1+3+5+0+0+8 = 21, odds (1+0+1+0+0+1+7)*2 = 20; 41 -> 9.
    assert FORMATS["ontrac_c"].check("C11031500001879").valid
    # Without the prepended 4 the check digit would be 6.
    assert not FORMATS["ontrac_c"].check("C11031500001876").valid


def test_usps_legacy_prepends_91_only_when_missing() -> None:
    assert FORMATS["usps_legacy"].check("9101 1234 5678 9000 0000 13").valid
    assert FORMATS["usps_legacy"].check("7196 9010 7560 0307 7385").valid


def test_s10_needs_a_known_country() -> None:
    assert FORMATS["s10"].check("RB123456785US").valid
    assert FORMATS["s10"].check("lx123456785cn").valid
    assert FORMATS["s10"].check("RB123456785XX").reason == (
        "not a s10 number: XX is not a known country code"
    )


def test_fedex_sscc_accepts_the_00_application_identifier() -> None:
    assert FORMATS["fedex_ground_sscc_18"].check("000123450000000027").valid
    assert FORMATS["fedex_ground_sscc_18"].check("00000123450000000027").valid
    assert not FORMATS["fedex_ground_sscc_18"].check("01000123450000000027").valid


def test_usps_routing_prefix_is_accepted() -> None:
    assert FORMATS["usps_impb_n"].check("420787459400111206206406260787").valid
    assert FORMATS["usps_impb_c"].check("4201028200009261290113185417468510").valid


CHECKED_EXAMPLES = [
    ("ups", "1Z5R89390357567127"),
    ("ups_waybill", "K1506235620"),
    ("usps_impb_n", "9400111206206406260787"),
    ("usps_impb_c", "9261292700768711948021"),
    ("usps_legacy", "9101123456789000000013"),
    ("usps_20", "03071790000523483741"),
    ("s10", "RB123456785US"),
    ("fedex_12", "986578788855"),
    ("fedex_ground", "568283610012734"),
    ("fedex_ground_sscc_18", "000123450000000027"),
    ("fedex_ground_96", "9611020987654312345672"),
    ("fedex_34", "1001921334250001000300779017972697"),
    ("fedex_ground_gsn", "9622001900000000000000776632517510"),
    ("fedex_astra_32", "32971514560102447849175802862014"),
    ("dhl_express", "3318810025"),
    ("ontrac_c", "C11031500001879"),
    ("ontrac_d", "D10011354453707"),
]


@pytest.mark.parametrize(("format_id", "number"), CHECKED_EXAMPLES)
def test_every_other_check_digit_is_refused(format_id: str, number: str) -> None:
    fmt = FORMATS[format_id]
    assert fmt.checksum is not None
    assert fmt.check(number).valid
    found = fmt.pattern.fullmatch(number)
    assert found is not None
    at = found.start("check")
    for digit in "0123456789":
        if digit != number[at]:
            typo = number[:at] + digit + number[at + 1 :]
            assert fmt.check(typo).reason.endswith("the check digit is wrong"), typo


def test_every_checked_format_has_an_example() -> None:
    checked = {f.id for f in FORMATS.values() if f.checksum is not None}
    assert checked == {format_id for format_id, _ in CHECKED_EXAMPLES}


@pytest.mark.parametrize(
    ("format_id", "good", "bad"),
    [
        ("dhl_express_piece_id", "JJD0099999999", "JJ0099999999"),
        ("dhl_ecommerce", "GM2951173225174494", "GMA951173225174494"),
        ("dhl_ecommerce_14", "60120172242323", "6012017224232"),
        ("lasership_lx", "LX17635036", "LX47635036"),
        ("lasership_1ls7", "1LS717793482164", "1LS737793482164"),
        ("lasership_1ls7_18", "1LS7119013618127-1", "1LS71190136181271"),
        ("lasership_1lscx", "1LSCXVE005BUEFX", "1LSCXVE005BUEF"),
        ("amazon_logistics", "TBA000000000000", "TBD000000000000"),
        ("amazon_international", "A1234567890", "B1234567890"),
        ("speedee", "SP029692510000920746", "SP02969251000092074"),
        ("gofo_us", "GFUS01011884214464", "GFUS0101188421446"),
        ("generic", "ABC-123", "-ABC12"),
    ],
)
def test_shape_only_formats(format_id: str, good: str, bad: str) -> None:
    assert FORMATS[format_id].checksum is None
    assert FORMATS[format_id].check(good).valid
    assert not FORMATS[format_id].check(bad).valid


def test_format_registry() -> None:
    assert all(format_id == fmt.id for format_id, fmt in FORMATS.items())
    assert is_valid_format_id("usps_impb_n")
    assert is_valid_format_id(GENERIC_FORMAT_ID)
    assert not is_valid_format_id("usps_91")
    assert not is_valid_format_id("")


def test_carrier_formats() -> None:
    assert set(CARRIER_FORMATS) == set(Carrier)
    used = {f for formats in CARRIER_FORMATS.values() for f in formats}
    assert used == set(FORMATS)
    for fmt in FORMATS.values():
        if fmt.carrier is not None:
            assert fmt.id in CARRIER_FORMATS[fmt.carrier]
    generic = {c for c, formats in CARRIER_FORMATS.items() if formats == (GENERIC_FORMAT_ID,)}
    assert generic == {
        Carrier.GLS_US, Carrier.LSO, Carrier.TFORCE, Carrier.AXLEHIRE, Carrier.BETTER_TRUCKS,
        Carrier.DELIVER_IT, Carrier.WIZMO, Carrier.UNIUNI, Carrier.SPEEDX, Carrier.VEHO,
    }
    assert CARRIER_FORMATS[Carrier.FEDEX][-1] == "usps_impb_c"
    assert CARRIER_FORMATS[Carrier.DHL_ECOMMERCE][-1] == "usps_impb_c"
    assert "usps_impb_c" not in CARRIER_FORMATS[Carrier.UPS]


# --- validate_tracking ---


@pytest.mark.parametrize(
    ("carrier", "number", "normalized", "format_id"),
    [
        (Carrier.UPS, "1z5r89390357567127", "1Z5R89390357567127", "ups"),
        (Carrier.UPS, " 1Z-5R8-939-0357-5671-27\n", "1Z5R89390357567127", "ups"),
        (Carrier.UPS, "1Z 5R8\t939 0357 5671 27", "1Z5R89390357567127", "ups"),
        (Carrier.UPS, "1Z\u00a05R8939035756712 7", "1Z5R89390357567127", "ups"),
        (Carrier.USPS, "9400 1112 0620 6406 2607 87", "9400111206206406260787", "usps_impb_n"),
        (Carrier.USPS, "0307 1790 0005 2348 3741", "03071790000523483741", "usps_20"),
        (Carrier.USPS, "rb123456785us", "RB123456785US", "s10"),
        (Carrier.FEDEX, "9261292700768711948021", "9261292700768711948021", "usps_impb_c"),
        (Carrier.DHL_ECOMMERCE, "9261292700768711948021", "9261292700768711948021", "usps_impb_c"),
        (Carrier.LASERSHIP, "1ls7119013618127-1", "1LS7119013618127-1", "lasership_1ls7_18"),
        (Carrier.LASERSHIP, "lx-176-35036", "LX17635036", "lasership_lx"),
        (Carrier.GLS_US, " abc-123 ", "ABC-123", GENERIC_FORMAT_ID),
        (Carrier.VEHO, "A" * 40, "A" * 40, GENERIC_FORMAT_ID),
        (Carrier.GOFO, "gfus 0101 1884 2144 64", "GFUS01011884214464", "gofo_us"),
    ],
)
def test_valid_numbers(carrier: Carrier, number: str, normalized: str, format_id: str) -> None:
    assert validate_tracking(carrier, number) == TrackingCheck(True, normalized, format_id, "")


@pytest.mark.parametrize(
    ("carrier", "number", "reason"),
    [
        (Carrier.UPS, "", "not a UPS tracking number: it is empty"),
        (Carrier.UPS, " \t\n", "not a UPS tracking number: it is empty"),
        (Carrier.UPS, "1Z5R89390357567128", "not a UPS tracking number: the check digit is wrong"),
        (Carrier.USPS, "0307 1790 0005 2348 3742",
         "not a USPS tracking number: the check digit is wrong"),
        (Carrier.USPS, "RB123456785XX", "not a USPS tracking number: XX is not a known country code"),
        (Carrier.DHL_EXPRESS, "3318810010", "not a DHL Express tracking number: the check digit is wrong"),
    ],
)
def test_invalid_numbers_say_why(carrier: Carrier, number: str, reason: str) -> None:
    check = validate_tracking(carrier, number)
    assert not check.valid
    assert check.format_id is None
    assert check.reason == reason


@pytest.mark.parametrize(
    ("carrier", "number"),
    [
        (Carrier.UPS, "1Z5R8939035756712"),  # one character short
        (Carrier.UPS, "1Z5R893903575671277"),  # one character long
        (Carrier.UPS, "9400111206206406260787"),  # a USPS number named as UPS
        (Carrier.FEDEX, "98657878885A"),  # a letter in a digits-only format
        (Carrier.FEDEX, "1Z5R89390357567127"),
        (Carrier.USPS, "TBA000000000000"),
        (Carrier.AMAZON_LOGISTICS, "TBA00000000000"),
        (Carrier.GLS_US, "ab"),  # too short
        (Carrier.GLS_US, "A" * 41),  # too long
        (Carrier.GLS_US, "-ABC12"),  # starts with a dash
        (Carrier.GLS_US, "ABC#123"),  # not a letter, digit or dash
    ],
)
def test_numbers_of_no_shape_of_the_carrier(carrier: Carrier, number: str) -> None:
    check = validate_tracking(carrier, number)
    assert not check.valid
    assert check.format_id is None
    assert " formats (" in check.reason
    assert check.normalized == "".join(number.split()).upper()


def test_the_reason_lists_the_shapes_of_the_named_carrier() -> None:
    check = validate_tracking(Carrier.UPS, "hello")
    assert check.reason == (
        "not a UPS tracking number: it matches none of the UPS formats "
        "(1Z + 15 letters or digits + check digit; A/H/J/K/T/V + 10 digits)"
    )
    generic = validate_tracking(Carrier.GLS_US, "ab")
    assert generic.reason == (
        "not a GLS US tracking number: it matches none of the GLS US formats "
        "(6 to 40 letters, digits or dashes)"
    )


def test_tracking_check_is_frozen() -> None:
    check = validate_tracking(Carrier.UPS, "1Z5R89390357567127")
    with pytest.raises(dataclasses.FrozenInstanceError):
        check.valid = False  # type: ignore[misc]


# --- matching_formats and is_amazon_issued ---


def test_matching_formats_lists_every_fit() -> None:
    assert matching_formats("1Z5R89390357567127") == [(Carrier.UPS, "ups")]
    assert matching_formats("9261292700768711948021") == [
        (Carrier.USPS, "usps_impb_c"),
        (Carrier.FEDEX, "usps_impb_c"),
        (Carrier.DHL_ECOMMERCE, "usps_impb_c"),
    ]
    # A SSCC of zeros is also a valid USPS 20: detection is ambiguous by nature.
    assert matching_formats("00000000000000000000") == [
        (Carrier.USPS, "usps_20"),
        (Carrier.FEDEX, "fedex_ground_sscc_18"),
    ]


def test_matching_formats_leaves_the_generic_format_out() -> None:
    assert matching_formats("ABC-123") == []
    assert matching_formats("") == []


@pytest.mark.parametrize(
    ("number", "carrier", "expected"),
    [
        ("TBA000000000000", None, True),
        ("tbm 502887274000", None, True),
        ("TBC000000000000", Carrier.UPS, True),
        ("C1004444443", Carrier.AMAZON_LOGISTICS, True),
        ("C1004444443", None, False),
        ("1Z5R89390357567127", None, False),
        ("1Z5R89390357567127", Carrier.AMAZON_LOGISTICS, False),
        ("9400111206206406260787", Carrier.USPS, False),
        ("TBB000000000000", Carrier.AMAZON_LOGISTICS, False),
        ("", Carrier.AMAZON_LOGISTICS, False),
    ],
)
def test_is_amazon_issued(number: str, carrier: Carrier | None, expected: bool) -> None:
    assert is_amazon_issued(number, carrier) is expected
