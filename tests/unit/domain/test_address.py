"""Recipient normalisation: phones, states, destinations, names, the Shopify address."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orderbridge.domain.address import (
    Destination,
    ShippingAddress,
    destination_kind,
    normalise_phone_us,
    split_name,
    state_code,
    to_shipping_address,
)
from orderbridge.domain.order import Recipient


@pytest.mark.parametrize(
    "raw",
    [
        "(+1)4085550142",
        "+1 408-555-0142",
        "4085550142",
        "14085550142",
        "(408) 555-0142",
        "408.555.0142",
        "+1 (408) 555 0142",
        " 1-408-555-0142 ",
    ],
)
def test_phone_forms_tiktok_sends(raw: str) -> None:
    assert normalise_phone_us(raw) == "+14085550142"


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "   ",
        "(+1)408*****42",  # masked
        "+44 20 7946 0958",  # foreign
        "+4085550142",  # a plus needs the country code
        "408555014",  # too short
        "240855501420",  # too long
        "24085550142",  # 11 digits not starting with 1
        "0085550142",  # area code starts with 0
        "1085550142",  # area code starts with 1
        "4080550142",  # exchange starts with 0
        "4081550142",  # exchange starts with 1
        "9115550142",  # N11 area code
        "408-555-0142 x12",  # extension
        "1+4085550142",
        "४०८५५५०१४२",  # not ASCII digits
    ],
)
def test_bad_phones_are_none(raw: str | None) -> None:
    assert normalise_phone_us(raw) is None


@settings(deadline=None)
@given(
    st.integers(2, 9),
    st.integers(0, 99).filter(lambda n: n != 11),
    st.integers(200, 999),
    st.integers(0, 9999),
)
def test_every_valid_nanp_number_normalises(area: int, rest: int, exchange: int, line: int) -> None:
    digits = f"{area}{rest:02d}{exchange}{line:04d}"
    assert normalise_phone_us(f"({digits[:3]}) {digits[3:6]}-{digits[6:]}") == f"+1{digits}"
    assert normalise_phone_us(f"(+1){digits}") == f"+1{digits}"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("California", "CA"),
        ("CALIFORNIA", "CA"),
        ("new  york", "NY"),
        ("ca", "CA"),
        (" TX ", "TX"),
        ("District of Columbia", "DC"),
        ("Washington D.C.", "DC"),
        ("dc", "DC"),
        ("West Virginia", "WV"),
        ("Puerto Rico", None),
        ("PR", None),
        ("AE", None),
        ("Ontario", None),
        ("", None),
    ],
)
def test_state_code(text: str, code: str | None) -> None:
    assert state_code(text) == code


def test_all_fifty_states_and_dc() -> None:
    codes = {state_code(name) for name in _STATE_NAMES}
    assert len(codes) == 51
    assert None not in codes
    assert {state_code(code) for code in codes if code} == codes


@pytest.mark.parametrize(
    ("region", "state", "lines", "postal", "kind"),
    [
        ("US", "California", ["1199 Coleman Ave", "San Jose"], "95110", Destination.DOMESTIC),
        ("", "CA", ["1199 Coleman Ave"], "95110-1234", Destination.DOMESTIC),
        ("us", "Hawaii", ["1 Ala Moana Blvd", "Honolulu"], "96814", Destination.DOMESTIC),
        ("US", "Alaska", ["1 Main St", "Juneau"], "99801", Destination.DOMESTIC),
        ("US", "District of Columbia", ["1600 Pennsylvania Ave NW"], "20500", Destination.DOMESTIC),
        ("PR", "", ["Calle 1"], "00901", Destination.TERRITORY),
        ("GU", "", [], "", Destination.TERRITORY),
        ("US", "Puerto Rico", ["Calle 1", "San Juan"], "00901", Destination.TERRITORY),
        ("US", "VI", ["1 Main St"], "", Destination.TERRITORY),
        ("US", "American Samoa", [], "", Destination.TERRITORY),
        ("US", "Northern Mariana Islands", [], "", Destination.TERRITORY),
        ("US", "UM", [], "", Destination.TERRITORY),
        ("US", "California", ["1 Main St"], "00802", Destination.TERRITORY),  # VI ZIP
        ("US", "", ["1 Marine Dr"], "96910", Destination.TERRITORY),  # Guam ZIP
        ("US", "", [], "96799", Destination.TERRITORY),  # American Samoa ZIP
        ("US", "AE", ["Unit 2050 Box 4190"], "09096", Destination.MILITARY),
        ("US", "AP", ["PSC 450 Box 12"], "96206", Destination.MILITARY),
        ("US", "AA", ["Unit 1 Box 1"], "34001", Destination.MILITARY),
        ("US", "New York", ["Unit 2050 Box 4190", "APO"], "10001", Destination.MILITARY),
        ("US", "", ["PSC 1 Box 2", "fpo"], "", Destination.MILITARY),
        ("US", "", ["USS Ship", "DPO"], "", Destination.MILITARY),
        ("US", "Virginia", [], "09012", Destination.MILITARY),  # AE ZIP
        ("CA", "Ontario", ["1 Yonge St"], "M5E 1E5", Destination.FOREIGN),
        ("MX", "California", [], "", Destination.FOREIGN),
        ("US", "", ["1 Main St"], "95110", Destination.UNKNOWN),
        ("US", "C*******", ["1 Main St"], "951**", Destination.UNKNOWN),
        ("US", "California", ["Apolo Street 3"], "95***", Destination.DOMESTIC),
    ],
)
def test_destination_kind(
    region: str, state: str, lines: list[str], postal: str, kind: Destination
) -> None:
    assert destination_kind(region, state, lines, postal) is kind


@pytest.mark.parametrize(
    ("name", "first", "last"),
    [
        ("Jordan Lee", "Jordan", "Lee"),
        ("  Jordan   Lee  ", "Jordan", "Lee"),
        ("Mary Ann Smith", "Mary Ann", "Smith"),
        ("Juan de la Cruz", "Juan", "de la Cruz"),
        ("Ludwig van Beethoven", "Ludwig", "van Beethoven"),
        ("John Smith Jr.", "John", "Smith Jr."),
        ("Jr. Smith", "Jr.", "Smith"),
        ("De La", "De", "La"),
        ("Madonna", "", "Madonna"),
        ("", "", ""),
        ("   ", "", ""),
    ],
)
def test_split_name(name: str, first: str, last: str) -> None:
    assert split_name(name) == (first, last)


@settings(deadline=None)
@given(st.lists(st.text(alphabet="abcXYZ.", min_size=1, max_size=6), min_size=1, max_size=6))
def test_split_name_keeps_every_word(words: list[str]) -> None:
    first, last = split_name(" ".join(words))
    assert " ".join(w for w in (first, last) if w) == " ".join(words)
    assert last


JORDAN = Recipient(
    name="Jordan Lee",
    first_name="Jordan",
    last_name="Lee",
    phone="(+1)4085550142",
    address_line1="1199 Coleman Ave",
    address_line2="Apt 12",
    city="San Jose",
    state="California",
    county="Santa Clara",
    postal_code="95110",
    region_code="US",
    full_address="1199 Coleman Ave Apt 12, San Jose, CA 95110",
)


def test_shipping_address_of_the_example_order() -> None:
    address, warnings = to_shipping_address(JORDAN)
    assert warnings == []
    assert address == ShippingAddress(
        first_name="Jordan",
        last_name="Lee",
        address1="1199 Coleman Ave",
        address2="Apt 12",
        city="San Jose",
        province_code="CA",
        zip="95110",
        country_code="US",
        phone="+14085550142",
    )


def test_shipping_address_details() -> None:
    recipient = replace(
        JORDAN,
        first_name="",
        name="Mary  Ann Smith",
        address_line2="",
        address_line3="Building C",
        address_line4="san jose",  # repeats the city: left out
        postal_code="951101234",
        phone="",
        state="ca",
    )
    address, warnings = to_shipping_address(recipient)
    assert warnings == []
    assert address is not None
    assert (address.first_name, address.last_name) == ("Mary Ann", "Smith")
    assert address.address2 == "Building C"
    assert address.zip == "95110-1234"
    assert address.province_code == "CA"
    assert address.phone is None


def test_bad_phone_is_dropped_with_a_warning_not_a_block() -> None:
    address, warnings = to_shipping_address(replace(JORDAN, phone="+44 20 7946 0958"))
    assert address is not None
    assert address.phone is None
    assert warnings == ["The recipient phone is not a valid US number; it was left off."]


@pytest.mark.parametrize(
    ("recipient", "reason"),
    [
        (None, "not given the recipient address yet"),
        (replace(JORDAN, masked=True), "masked"),
        (replace(JORDAN, name="J*** L**", first_name="", last_name=""), "masked"),
        (replace(JORDAN, postal_code="951**"), "masked"),
        (replace(JORDAN, region_code="PR", state="Puerto Rico"), "territory"),
        (replace(JORDAN, state="AE", city="APO"), "military"),
        (replace(JORDAN, region_code="CA"), "foreign"),
        (replace(JORDAN, state=""), "unknown"),
        (replace(JORDAN, name="", first_name="", last_name=""), "lacks a valid name"),
        (replace(JORDAN, address_line1=" "), "lacks a valid street"),
        (replace(JORDAN, city=""), "lacks a valid city"),
        (replace(JORDAN, postal_code="9511"), "lacks a valid ZIP code"),
        (replace(JORDAN, city="", postal_code="ABCDE"), "lacks a valid city, ZIP code"),
    ],
)
def test_unusable_addresses_give_none_and_a_reason(
    recipient: Recipient | None, reason: str
) -> None:
    address, warnings = to_shipping_address(recipient)
    assert address is None
    assert len(warnings) == 1
    assert reason in warnings[0]


_STATE_NAMES = [
    "Alabama", "Alaska", "Arizona", "Arkansas", "California", "Colorado", "Connecticut",
    "Delaware", "Florida", "Georgia", "Hawaii", "Idaho", "Illinois", "Indiana", "Iowa",
    "Kansas", "Kentucky", "Louisiana", "Maine", "Maryland", "Massachusetts", "Michigan",
    "Minnesota", "Mississippi", "Missouri", "Montana", "Nebraska", "Nevada", "New Hampshire",
    "New Jersey", "New Mexico", "New York", "North Carolina", "North Dakota", "Ohio",
    "Oklahoma", "Oregon", "Pennsylvania", "Rhode Island", "South Carolina", "South Dakota",
    "Tennessee", "Texas", "Utah", "Vermont", "Virginia", "Washington", "West Virginia",
    "Wisconsin", "Wyoming", "District of Columbia",
]  # fmt: skip


def test_a_masked_phone_or_unit_line_is_dropped_not_a_block() -> None:
    """Only the parts an address needs block it when masked: a starred phone or unit line is
    left off with a warning and the street address is still written."""
    address, warnings = to_shipping_address(replace(JORDAN, phone="(+1)408*****42", address_line2="A** 12"))
    assert address is not None
    assert (address.address1, address.address2, address.phone) == ("1199 Coleman Ave", "", None)
    assert warnings == ["A unit line of the recipient address is masked by TikTok; it was left off.",
                        "The recipient phone is masked by TikTok; it was left off."]
