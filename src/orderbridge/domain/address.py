"""Recipient normalisation: TikTok's recipient address as a Shopify shipping address.

Phones become E.164 (``+1XXXXXXXXXX``), states their USPS code, names a first/last pair,
and the destination is classified (TikTok Shop US ships to the 50 states and DC only). Bad
input never raises: the functions answer ``None`` (or ``UNKNOWN``) and the caller warns.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from orderbridge.domain.order import Recipient, is_masked

__all__ = [
    "COUNTRY_CODE_US",
    "Destination",
    "ShippingAddress",
    "destination_kind",
    "normalise_phone_us",
    "split_name",
    "state_code",
    "to_shipping_address",
]

COUNTRY_CODE_US = "US"

_STATES = MappingProxyType(
    {
        "ALABAMA": "AL", "ALASKA": "AK", "ARIZONA": "AZ", "ARKANSAS": "AR", "CALIFORNIA": "CA",
        "COLORADO": "CO", "CONNECTICUT": "CT", "DELAWARE": "DE", "FLORIDA": "FL", "GEORGIA": "GA",
        "HAWAII": "HI", "IDAHO": "ID", "ILLINOIS": "IL", "INDIANA": "IN", "IOWA": "IA",
        "KANSAS": "KS", "KENTUCKY": "KY", "LOUISIANA": "LA", "MAINE": "ME", "MARYLAND": "MD",
        "MASSACHUSETTS": "MA", "MICHIGAN": "MI", "MINNESOTA": "MN", "MISSISSIPPI": "MS",
        "MISSOURI": "MO", "MONTANA": "MT", "NEBRASKA": "NE", "NEVADA": "NV",
        "NEW HAMPSHIRE": "NH", "NEW JERSEY": "NJ", "NEW MEXICO": "NM", "NEW YORK": "NY",
        "NORTH CAROLINA": "NC", "NORTH DAKOTA": "ND", "OHIO": "OH", "OKLAHOMA": "OK",
        "OREGON": "OR", "PENNSYLVANIA": "PA", "RHODE ISLAND": "RI", "SOUTH CAROLINA": "SC",
        "SOUTH DAKOTA": "SD", "TENNESSEE": "TN", "TEXAS": "TX", "UTAH": "UT", "VERMONT": "VT",
        "VIRGINIA": "VA", "WASHINGTON": "WA", "WEST VIRGINIA": "WV", "WISCONSIN": "WI",
        "WYOMING": "WY", "DISTRICT OF COLUMBIA": "DC", "WASHINGTON DC": "DC",
        "WASHINGTON D.C.": "DC", "D.C.": "DC",
    }
)  # fmt: skip
_STATE_CODES = frozenset(_STATES.values())
_TERRITORIES = MappingProxyType(
    {
        "PUERTO RICO": "PR", "GUAM": "GU", "U.S. VIRGIN ISLANDS": "VI", "VIRGIN ISLANDS": "VI",
        "US VIRGIN ISLANDS": "VI", "AMERICAN SAMOA": "AS", "NORTHERN MARIANA ISLANDS": "MP",
        "UNITED STATES MINOR OUTLYING ISLANDS": "UM", "U.S. MINOR OUTLYING ISLANDS": "UM",
    }
)  # fmt: skip
_TERRITORY_CODES = frozenset(_TERRITORIES.values())
# Armed Forces Americas / Europe / Pacific: the "states" of APO/FPO/DPO addresses.
_MILITARY_STATES = frozenset({"AA", "AE", "AP"})
_MILITARY_WORDS = re.compile(r"\b(?:APO|FPO|DPO)\b", re.IGNORECASE)
# ZIP prefixes: 006-009 Puerto Rico / Virgin Islands, 969 Guam / Northern Marianas (and the
# freely associated states), 96799 American Samoa; 090-098 AE, 340 AA, 962-966 AP.
_TERRITORY_ZIP = re.compile(r"^(?:00[6-9]|969|96799)")
_MILITARY_ZIP = re.compile(r"^(?:09[0-8]|340|96[2-6])")
_ZIP = re.compile(r"^(\d{5})(?:-?(\d{4}))?$")
_PHONE_FORMATTING = re.compile(r"[\s().\-]")
# Name parts that belong with the last name ("Juan de la Cruz", "John Smith Jr.").
_SURNAME_PARTICLES = frozenset({"de", "da", "del", "della", "der", "den", "di", "du", "la"})
_SURNAME_PARTICLES |= {"le", "van", "von", "dos", "das", "st", "st."}
_SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"})


class Destination(StrEnum):
    """Where a parcel goes, as far as TikTok Shop US is concerned."""

    DOMESTIC = "domestic"  # the 50 states and DC: shippable
    TERRITORY = "territory"  # PR, GU, VI, AS, MP, UM: TikTok Shop US does not ship there
    MILITARY = "military"  # APO/FPO/DPO (states AA, AE, AP): not supported either
    FOREIGN = "foreign"  # a region code other than US
    UNKNOWN = "unknown"  # not enough to tell (missing or masked state)


@dataclass(frozen=True, slots=True)
class ShippingAddress:
    """A Shopify shipping address (billing = shipping) for a domestic US recipient."""

    first_name: str
    last_name: str
    address1: str
    address2: str
    city: str
    province_code: str
    zip: str
    country_code: str = COUNTRY_CODE_US
    phone: str | None = None


def _squash(text: str) -> str:
    return " ".join(text.split())


def normalise_phone_us(raw: str | None) -> str | None:
    """A US/NANP phone as E.164 (``+14085550142``), or ``None`` if it is not one.

    Accepts TikTok's ``(+1)4085550142``, ``+1 408-555-0142``, ``4085550142`` and the like
    (spaces, dots, dashes, parentheses; a ``+`` only before the country code 1). NANP: the
    area code and the exchange start with 2-9, and the area code is not N11 (a service code).
    Masked, foreign, extension-bearing or otherwise odd input gives ``None``.
    """
    if raw is None:
        return None
    text = _PHONE_FORMATTING.sub("", raw)
    plus = text.startswith("+")
    digits = text.removeprefix("+")
    if not digits.isascii() or not digits.isdigit():
        return None
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    elif plus or len(digits) != 10:
        return None
    area, exchange = digits[:3], digits[3:6]
    if area[0] in "01" or exchange[0] in "01" or area[1:] == "11":
        return None
    return f"+1{digits}"


def state_code(name_or_code: str) -> str | None:
    """The USPS code of one of the 50 states or DC, from its name or code (any case)."""
    text = _squash(name_or_code).upper()
    if text in _STATE_CODES:
        return text
    return _STATES.get(text)


def _territory_code(name_or_code: str) -> str | None:
    text = _squash(name_or_code).upper()
    if text in _TERRITORY_CODES:
        return text
    return _TERRITORIES.get(text)


def destination_kind(
    region_code: str, state: str, address_lines: Sequence[str], postal_code: str
) -> Destination:
    """Classify a destination. Pass the city among ``address_lines`` (APO/FPO sit there).

    In order: a territory region code (PR, GU, ...) -> TERRITORY; any other region but US
    (or empty) -> FOREIGN; military state, APO/FPO/DPO words or a military ZIP -> MILITARY;
    a territory state or ZIP -> TERRITORY; one of the 50 states or DC -> DOMESTIC; else
    UNKNOWN. Evidence against DOMESTIC wins so an unsupported address is never created.
    """
    region = region_code.strip().upper()
    if region in _TERRITORY_CODES:
        return Destination.TERRITORY
    if region not in ("", COUNTRY_CODE_US):
        return Destination.FOREIGN
    zip5 = postal_code.strip()
    if (
        _squash(state).upper() in _MILITARY_STATES
        or any(_MILITARY_WORDS.search(line) for line in address_lines)
        or _MILITARY_ZIP.match(zip5)
    ):
        return Destination.MILITARY
    if _territory_code(state) or _TERRITORY_ZIP.match(zip5):
        return Destination.TERRITORY
    if state_code(state):
        return Destination.DOMESTIC
    return Destination.UNKNOWN


def split_name(name: str) -> tuple[str, str]:
    """Split a full name into Shopify's (first, last).

    The last word is the last name, with any suffix (Jr., III) and particles before it (de,
    van, ...); the rest is the first name. A single word is a last name: ``("", word)``
    (Shopify requires the last name). Empty input gives ``("", "")``.
    """
    words = _squash(name).split(" ") if name.strip() else []
    if len(words) < 2:
        return "", "".join(words)
    start = len(words) - 1
    if words[start].lower() in _SUFFIXES and start > 1:
        start -= 1
    while start > 1 and words[start - 1].lower() in _SURNAME_PARTICLES:
        start -= 1
    return " ".join(words[:start]), " ".join(words[start:])


def _zip(postal_code: str) -> str | None:
    match = _ZIP.match(postal_code.strip())
    if match is None:
        return None
    return match[1] if match[2] is None else f"{match[1]}-{match[2]}"


def to_shipping_address(recipient: Recipient | None) -> tuple[ShippingAddress | None, list[str]]:
    """Build the Shopify shipping address, with warnings (plain sentences).

    ``address1`` = line 1 (street), ``address2`` = line 2 (unit) plus any line 3/4 that does
    not repeat the city, state or county; city = district L3, state = L1 as its USPS code.
    ``None`` (with the reason) when there is no recipient, it is masked, it is not domestic
    or a required part (name, street, city, state, ZIP) is missing or invalid. A bad or
    masked phone, or a masked unit line, is dropped with a warning, never a reason to refuse
    the address: only the parts the address needs block it when TikTok masks them.
    """
    if recipient is None:
        return None, ["TikTok has not given the recipient address yet."]
    r = recipient
    if r.masked or any(is_masked(t) for t in (r.name, r.address_line1, r.city, r.postal_code)):
        return None, ["The recipient address is masked by TikTok."]
    lines = (r.address_line1, r.address_line2, r.address_line3, r.address_line4, r.city)
    destination = destination_kind(r.region_code, r.state, lines, r.postal_code)
    if destination is not Destination.DOMESTIC:
        return None, [f"The destination is {destination.value}, not the 50 states or DC."]
    if r.first_name.strip() and r.last_name.strip():
        first, last = _squash(r.first_name), _squash(r.last_name)
    else:
        first, last = split_name(r.name)
    province = state_code(r.state)
    zip_code = _zip(r.postal_code)
    missing = [
        part
        for part, value in (
            ("name", last),
            ("street", r.address_line1.strip()),
            ("city", r.city.strip()),
            ("state", province),
            ("ZIP code", zip_code),
        )
        if not value
    ]
    if missing or province is None or zip_code is None:
        return None, [f"The recipient address lacks a valid {', '.join(missing)}."]
    repeats = {_squash(t).upper() for t in (r.city, r.state, r.county) if t.strip()}
    # Lines 3 and 4 are rare in the US and often repeat the city or state: keep the rest.
    extras = [t for t in (r.address_line3, r.address_line4) if _squash(t).upper() not in repeats]
    units = [t for t in (r.address_line2, *extras) if t.strip()]
    address2 = ", ".join(_squash(t) for t in units if not is_masked(t))
    warnings: list[str] = []
    if any(is_masked(t) for t in units):
        warnings.append("A unit line of the recipient address is masked by TikTok; it was left off.")
    phone = normalise_phone_us(r.phone)
    if is_masked(r.phone):
        warnings.append("The recipient phone is masked by TikTok; it was left off.")
    elif phone is None and r.phone.strip():
        warnings.append("The recipient phone is not a valid US number; it was left off.")
    address = ShippingAddress(
        first_name=first,
        last_name=last,
        address1=_squash(r.address_line1),
        address2=address2,
        city=_squash(r.city),
        province_code=province,
        zip=zip_code,
        phone=phone,
    )
    return address, warnings
