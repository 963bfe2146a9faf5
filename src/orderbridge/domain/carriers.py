"""Carriers: one normalized code per US carrier and the names every party uses for it.

The same carrier is spelled differently by TikTok Shop (its shipping-provider list), by
Shopify (``trackingInfo.company``, where capitalization matters: "Lasership", not
"LaserShip") and by 3PLs and people ("AMZN_US", "UPS Ground", "Fed Ex"). This module keeps
those spellings in one table keyed by :class:`Carrier` (source: ``shared/docs/api/
logistics.md`` section 4) and answers three questions:

- ``resolve_carrier(name)``: which carrier a free-form name means, by exact match after
  normalization (casefold, letters and digits only). Unknown names give ``None``: a wrong
  carrier is worse than an exception a person resolves.
- ``match_tiktok_provider(carrier, providers)``: the TikTok provider id for a carrier in the
  per-delivery-option provider list (fetched and cached by the adapter).
- ``shopify_company(carrier, api_version)``: the exact Shopify company name, or ``None``
  when Shopify has no confirmed name (then the caller sends a tracking URL instead).

Names marked "unconfirmed" below come from third-party copies or from no source at all;
they are only ever used to *match* a list we were given, never sent to a vendor as facts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

__all__ = [
    "CARRIERS",
    "DEFAULT_SHOPIFY_API_VERSION",
    "Carrier",
    "CarrierInfo",
    "accepted_names",
    "match_tiktok_provider",
    "normalize_carrier_name",
    "resolve_carrier",
    "shopify_company",
]

DEFAULT_SHOPIFY_API_VERSION = "2026-10"
_SHOPIFY_VERSION = re.compile(r"[0-9]{4}-[0-9]{2}", re.ASCII)
_SHOPIFY_UNSTABLE = "unstable"


class Carrier(StrEnum):
    """Normalized US carrier codes (stored in the database; never rename a value)."""

    USPS = "usps"  # United States Postal Service, also the last mile of IMpb consolidators
    UPS = "ups"  # United Parcel Service (1Z numbers, waybills)
    FEDEX = "fedex"  # FedEx Express, Ground, Home Delivery, Ground Economy (ex-SmartPost)
    DHL_EXPRESS = "dhl_express"  # DHL Express (air waybills); TikTok calls it "DHL"
    DHL_ECOMMERCE = "dhl_ecommerce"  # DHL eCommerce (ex DHL Global Mail), USPS last mile
    AMAZON_LOGISTICS = "amazon_logistics"  # Amazon Logistics / Amazon Shipping (TBA numbers)
    ONTRAC = "ontrac"  # OnTrac (western US regional; merged with LaserShip in 2024)
    LASERSHIP = "lasership"  # LaserShip (eastern US regional; now part of OnTrac)
    SPEEDEE = "speedee"  # Spee-Dee Delivery (upper Midwest regional)
    GLS_US = "gls_us"  # GLS US (ex Golden State Overnight, western US)
    LSO = "lso"  # Lone Star Overnight (Texas and neighbours)
    TFORCE = "tforce"  # TForce Final Mile (ex TForce Logistics); not TForce Freight (LTL)
    AXLEHIRE = "axlehire"  # AxleHire, now branded Jitsu (urban same/next day)
    BETTER_TRUCKS = "better_trucks"  # Better Trucks (regional final mile)
    DELIVER_IT = "deliver_it"  # Deliver-it (regional final mile)
    WIZMO = "wizmo"  # Wizmo (regional final mile)
    GOFO = "gofo"  # GOFO Express (parcel final mile; GFUS numbers)
    UNIUNI = "uniuni"  # UniUni (parcel final mile)
    SPEEDX = "speedx"  # SpeedX (parcel final mile)
    VEHO = "veho"  # Veho (crowd-sourced final mile)


@dataclass(frozen=True, slots=True)
class CarrierInfo:
    """Every spelling of one carrier.

    ``shopify_company`` is the name to send to Shopify from ``shopify_since`` on;
    ``shopify_before`` is the name Shopify used in API versions older than that.
    ``aliases`` are names seen from 3PLs (Amazon MCF ``carrierCode``, ShipBob
    ``tracking.carrier``), other Shopify lists and people: used for matching only.
    """

    carrier: Carrier
    display_name: str
    tiktok_names: tuple[str, ...]
    shopify_company: str | None
    aliases: tuple[str, ...] = ()
    shopify_since: str | None = None
    shopify_before: str | None = None

    def names(self) -> tuple[str, ...]:
        """All names, TikTok's first (the order ``match_tiktok_provider`` tries them in)."""
        shopify = tuple(n for n in (self.shopify_company, self.shopify_before) if n)
        return (*self.tiktok_names, self.display_name, *shopify, *self.aliases)


_TABLE: tuple[CarrierInfo, ...] = (
    CarrierInfo(
        Carrier.USPS,
        "USPS",
        ("USPS",),
        "USPS",
        (
            "United States Postal Service",
            "US Postal Service",
            "USPS Priority Mail",
            "USPS Priority Mail Express",
            "USPS First Class",
            "USPS First Class Mail",
            "USPS Ground Advantage",
            "USPS Parcel Select",
            "USPS Media Mail",
        ),
    ),
    CarrierInfo(
        Carrier.UPS,
        "UPS",
        ("UPS",),
        "UPS",
        (
            "United Parcel Service",
            "UPS Ground",
            "UPS Ground Saver",
            "UPS SurePost",
            "UPS Next Day Air",
            "UPS 2nd Day Air",
            "UPS 3 Day Select",
        ),
    ),
    CarrierInfo(
        Carrier.FEDEX,
        "FedEx",
        ("FedEx",),
        "FedEx",
        (
            "Federal Express",
            "FedEx Ground",
            "FedEx Home Delivery",
            "FedEx Express",
            "FedEx SmartPost",
            "FedEx Ground Economy",
            "FedEx 2Day",
            "FedEx Priority Overnight",
            "FedEx Standard Overnight",
        ),
    ),
    # TikTok's "DHL" is from one source only (4seller); it is the Express service.
    CarrierInfo(
        Carrier.DHL_EXPRESS, "DHL Express", ("DHL",), "DHL Express", ("DHL Express Worldwide",)
    ),
    CarrierInfo(
        Carrier.DHL_ECOMMERCE,
        "DHL eCommerce",
        ("DHL eCommerce",),
        "DHL eCommerce",
        ("DHL eCommerce Solutions", "DHL Global Mail", "DHLGM", "DHL SmartMail"),
    ),
    # TikTok's own page says "Amazon Shipping"; SKU IQ's list says "Amazon Logistics".
    # MCF carrierCode strings are unconfirmed (logistics.md); these are the usual ones.
    CarrierInfo(
        Carrier.AMAZON_LOGISTICS,
        "Amazon Logistics",
        ("Amazon Logistics", "Amazon Shipping"),
        "Amazon",
        ("AMZN_US", "AMZN", "AMZL", "AMZL_US", "Amazon Logistics US"),
        shopify_since="2025-10",
        shopify_before="Amazon Logistics US",
    ),
    CarrierInfo(Carrier.ONTRAC, "OnTrac", ("OnTrac",), "OnTrac", ("OnTrac Logistics",)),
    CarrierInfo(Carrier.LASERSHIP, "LaserShip", ("LaserShip",), "Lasership"),
    # Shopify has no official Spee-Dee name; "Spee-Dee Delivery Service" is a third-party copy.
    CarrierInfo(
        Carrier.SPEEDEE,
        "Spee-Dee Delivery",
        ("Spee-Dee Delivery",),
        None,
        ("Spee-Dee", "Spee-Dee Delivery Service"),
    ),
    CarrierInfo(
        Carrier.GLS_US,
        "GLS US",
        ("GLS US",),
        "GLS",
        ("General Logistics Systems US", "Golden State Overnight", "GSO"),
    ),
    # Shopify lists both "Lone Star Overnight" (global list) and "LSO" (US list).
    CarrierInfo(
        Carrier.LSO, "Lone Star Overnight", ("Lone Star Overnight",), "Lone Star Overnight", ("LSO",)
    ),
    CarrierInfo(Carrier.TFORCE, "TForce", ("TForce",), "TForce Final Mile", ("TForce Logistics",)),
    # Shopify names of the next three are third-party copies only (unconfirmed): match only.
    CarrierInfo(Carrier.AXLEHIRE, "AxleHire", ("AxleHire",), None, ("Jitsu",)),
    CarrierInfo(Carrier.BETTER_TRUCKS, "Better Trucks", ("Better Trucks",), None),
    CarrierInfo(Carrier.DELIVER_IT, "Deliver-it", ("Deliver-it",), None),
    CarrierInfo(Carrier.WIZMO, "Wizmo", ("Wizmo",), "Wizmo"),
    # Not in logistics.md section 4 at all: TikTok names unconfirmed, no Shopify name.
    CarrierInfo(Carrier.GOFO, "GOFO Express", ("GOFO Express", "GOFO"), None),
    CarrierInfo(Carrier.UNIUNI, "UniUni", ("UniUni",), None),
    CarrierInfo(Carrier.SPEEDX, "SpeedX", ("SpeedX",), None),
    CarrierInfo(Carrier.VEHO, "Veho", ("Veho",), None),
)

CARRIERS: Mapping[Carrier, CarrierInfo] = MappingProxyType({i.carrier: i for i in _TABLE})


def normalize_carrier_name(name: str) -> str:
    """Casefolded letters and digits only: "Fed-Ex " and "FEDEX" are both "fedex"."""
    return "".join(ch for ch in name.casefold() if ch.isalnum())


def _index(table: Sequence[CarrierInfo]) -> Mapping[str, Carrier]:
    """Normalized name -> carrier; a name claimed by two carriers is a bug in the table."""
    index: dict[str, Carrier] = {}
    for info in table:
        for name in info.names():
            key = normalize_carrier_name(name)
            owner = index.setdefault(key, info.carrier)
            if owner is not info.carrier:
                raise ValueError(f"carrier name {name!r} is claimed by {owner} and {info.carrier}")
    return MappingProxyType(index)


_BY_NAME = _index(_TABLE)


def resolve_carrier(name: str) -> Carrier | None:
    """The carrier a free-form name means (TikTok, Shopify, 3PL or human spelling).

    Exact match after normalization only; anything unknown is ``None``, never a guess.
    """
    return _BY_NAME.get(normalize_carrier_name(name))


def match_tiktok_provider(carrier: Carrier, providers: Sequence[tuple[str, str]]) -> str | None:
    """The id of ``carrier`` in TikTok's provider list of ``(id, name)`` pairs, or ``None``.

    Our names for the carrier are tried in order (TikTok's own names first), each against
    the whole list, so that an exact TikTok spelling wins over an alias.
    """
    by_name: dict[str, str] = {}
    for provider_id, provider_name in providers:
        by_name.setdefault(normalize_carrier_name(provider_name), provider_id)
    for name in CARRIERS[carrier].names():
        found = by_name.get(normalize_carrier_name(name))
        if found is not None:
            return found
    return None


def shopify_company(carrier: Carrier, api_version: str = DEFAULT_SHOPIFY_API_VERSION) -> str | None:
    """The exact Shopify ``trackingInfo.company`` for ``carrier`` in ``api_version``.

    ``None`` when Shopify has no confirmed name for it: send a tracking URL instead.
    ``api_version`` is ``YYYY-MM`` or ``unstable``; anything else is a ``ValueError``.
    """
    if api_version != _SHOPIFY_UNSTABLE and not _SHOPIFY_VERSION.fullmatch(api_version):
        raise ValueError(f"not a Shopify API version: {api_version!r}")
    info = CARRIERS[carrier]
    # "YYYY-MM" strings order like the dates they name; "unstable" is newer than all.
    if (
        info.shopify_since is not None
        and api_version != _SHOPIFY_UNSTABLE
        and api_version < info.shopify_since
    ):
        return info.shopify_before
    return info.shopify_company


def accepted_names(providers: Sequence[tuple[str, str]]) -> list[str]:
    """The provider names of a TikTok list, in TikTok's order, without blanks or repeats.

    Used to name the accepted carriers in an UNSUPPORTED_CARRIER exception.
    """
    names: list[str] = []
    for _provider_id, provider_name in providers:
        name = provider_name.strip()
        if name and name not in names:
            names.append(name)
    return names
