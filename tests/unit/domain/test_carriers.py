"""The carrier table: names per party, resolution, TikTok provider matching, Shopify names."""

from __future__ import annotations

import pytest

from orderbridge.domain import carriers
from orderbridge.domain.carriers import (
    CARRIERS,
    Carrier,
    CarrierInfo,
    accepted_names,
    match_tiktok_provider,
    normalize_carrier_name,
    resolve_carrier,
    shopify_company,
)

ALL_NAMES = [(info.carrier, name) for info in CARRIERS.values() for name in info.names()]


def test_every_carrier_has_a_row_with_names() -> None:
    assert set(CARRIERS) == set(Carrier)
    for carrier, info in CARRIERS.items():
        assert info.carrier is carrier
        assert info.display_name.strip()
        assert info.tiktok_names
        assert all(name.strip() for name in info.names())


@pytest.mark.parametrize(("carrier", "name"), ALL_NAMES, ids=[f"{c}-{n}" for c, n in ALL_NAMES])
def test_resolve_carrier_round_trips_every_name(carrier: Carrier, name: str) -> None:
    assert resolve_carrier(name) is carrier
    assert resolve_carrier(name.upper()) is carrier
    assert resolve_carrier(f"  {name.lower()} ") is carrier


def test_no_name_belongs_to_two_carriers() -> None:
    owners: dict[str, set[Carrier]] = {}
    for carrier, name in ALL_NAMES:
        owners.setdefault(normalize_carrier_name(name), set()).add(carrier)
    assert {key: found for key, found in owners.items() if len(found) > 1} == {}
    assert "" not in owners


def test_the_index_refuses_a_name_claimed_twice() -> None:
    table = (
        CarrierInfo(Carrier.UPS, "UPS", ("UPS",), "UPS"),
        CarrierInfo(Carrier.USPS, "USPS", ("U.P.S.",), "USPS"),
    )
    with pytest.raises(ValueError, match="claimed by ups and usps"):
        carriers._index(table)


def test_the_index_tolerates_a_carrier_repeating_its_own_name() -> None:
    table = (CarrierInfo(Carrier.UPS, "UPS", ("UPS", "ups"), "UPS"),)
    assert dict(carriers._index(table)) == {"ups": Carrier.UPS}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Fed Ex", Carrier.FEDEX),
        ("FEDEX", Carrier.FEDEX),
        ("fedex ground", Carrier.FEDEX),
        ("FedEx SmartPost", Carrier.FEDEX),
        ("Fed-Ex Home Delivery", Carrier.FEDEX),
        ("UPS Ground", Carrier.UPS),
        ("U.P.S.", Carrier.UPS),
        ("usps", Carrier.USPS),
        ("AMZN_US", Carrier.AMAZON_LOGISTICS),
        ("AMZL", Carrier.AMAZON_LOGISTICS),
        ("Amazon Shipping", Carrier.AMAZON_LOGISTICS),
        ("Amazon", Carrier.AMAZON_LOGISTICS),
        ("Amazon Logistics US", Carrier.AMAZON_LOGISTICS),
        ("DHL", Carrier.DHL_EXPRESS),
        ("DHL Express", Carrier.DHL_EXPRESS),
        ("DHL eCommerce", Carrier.DHL_ECOMMERCE),
        ("DHLGM", Carrier.DHL_ECOMMERCE),
        ("OnTrac", Carrier.ONTRAC),
        ("Lasership", Carrier.LASERSHIP),
        ("LaserShip", Carrier.LASERSHIP),
        ("Spee-Dee Delivery", Carrier.SPEEDEE),
        ("speedee", Carrier.SPEEDEE),
        ("GLS", Carrier.GLS_US),
        ("GLS US", Carrier.GLS_US),
        ("LSO", Carrier.LSO),
        ("TForce Final Mile", Carrier.TFORCE),
        ("Deliver It", Carrier.DELIVER_IT),
        ("Jitsu", Carrier.AXLEHIRE),
    ],
)
def test_resolve_carrier_examples(name: str, expected: Carrier) -> None:
    assert resolve_carrier(name) is expected


@pytest.mark.parametrize("name", ["", "   ", "-", "Pony Express", "UPS Freight", "FedEx Freight",
                                  "DHL Parcel", "Royal Mail", "fedexx"])
def test_unknown_names_resolve_to_none(name: str) -> None:
    assert resolve_carrier(name) is None


def test_normalize_carrier_name() -> None:
    assert normalize_carrier_name(" Spee-Dee  Delivery! ") == "speedeedelivery"
    assert normalize_carrier_name("AMZN_US") == "amznus"
    assert normalize_carrier_name("") == ""


TIKTOK_PROVIDERS = [
    ("7117858858072016686", "USPS"),
    ("7117859084333778734", "UPS"),
    ("7129720299146184490", "FedEx"),
    ("7132708441138546475", "DHL"),
    ("7132721393761781506", "DHL eCommerce"),
    ("7248600717110282027", "Amazon Shipping"),
    ("7212608507307099950", "LaserShip"),
    ("7212611208288798510", "Ontrac"),
    ("7254084300678399750", "Spee-Dee Delivery"),
    ("7254084300678399751", "GLS US"),
]


@pytest.mark.parametrize(
    ("carrier", "expected"),
    [
        (Carrier.USPS, "7117858858072016686"),
        (Carrier.FEDEX, "7129720299146184490"),
        (Carrier.DHL_EXPRESS, "7132708441138546475"),
        (Carrier.DHL_ECOMMERCE, "7132721393761781506"),
        (Carrier.AMAZON_LOGISTICS, "7248600717110282027"),
        (Carrier.LASERSHIP, "7212608507307099950"),
        (Carrier.ONTRAC, "7212611208288798510"),
        (Carrier.SPEEDEE, "7254084300678399750"),
        (Carrier.GLS_US, "7254084300678399751"),
        (Carrier.LSO, None),
        (Carrier.VEHO, None),
    ],
)
def test_match_tiktok_provider(carrier: Carrier, expected: str | None) -> None:
    assert match_tiktok_provider(carrier, TIKTOK_PROVIDERS) == expected


def test_match_tiktok_provider_prefers_tiktok_names_over_aliases() -> None:
    providers = [("alias", "UPS Ground"), ("exact", "UPS")]
    assert match_tiktok_provider(Carrier.UPS, providers) == "exact"
    assert match_tiktok_provider(Carrier.UPS, providers[:1]) == "alias"


def test_match_tiktok_provider_takes_the_first_of_equal_names() -> None:
    assert match_tiktok_provider(Carrier.UPS, [("a", "U P S"), ("b", "ups")]) == "a"


def test_match_tiktok_provider_on_an_empty_list() -> None:
    assert match_tiktok_provider(Carrier.USPS, []) is None


@pytest.mark.parametrize(
    ("carrier", "version", "expected"),
    [
        (Carrier.AMAZON_LOGISTICS, "2025-10", "Amazon"),
        (Carrier.AMAZON_LOGISTICS, "2026-01", "Amazon"),
        (Carrier.AMAZON_LOGISTICS, "unstable", "Amazon"),
        (Carrier.AMAZON_LOGISTICS, "2025-07", "Amazon Logistics US"),
        (Carrier.AMAZON_LOGISTICS, "2024-01", "Amazon Logistics US"),
        (Carrier.LASERSHIP, "2025-10", "Lasership"),
        (Carrier.USPS, "2024-01", "USPS"),
        (Carrier.FEDEX, "unstable", "FedEx"),
        (Carrier.DHL_EXPRESS, "2025-10", "DHL Express"),
        (Carrier.GLS_US, "2025-10", "GLS"),
        (Carrier.TFORCE, "2025-10", "TForce Final Mile"),
        (Carrier.SPEEDEE, "2025-10", None),
        (Carrier.AXLEHIRE, "2025-10", None),
    ],
)
def test_shopify_company(carrier: Carrier, version: str, expected: str | None) -> None:
    assert shopify_company(carrier, version) == expected


def test_shopify_company_defaults_to_the_current_version() -> None:
    assert shopify_company(Carrier.AMAZON_LOGISTICS) == "Amazon"


@pytest.mark.parametrize("version", ["", "2025-1", "latest", "2025-10-01", "v2025-10"])
def test_shopify_company_refuses_a_malformed_version(version: str) -> None:
    with pytest.raises(ValueError, match="not a Shopify API version"):
        shopify_company(Carrier.UPS, version)


def test_every_shopify_name_resolves_back() -> None:
    for version in ("2024-01", "2025-10"):
        for carrier in Carrier:
            name = shopify_company(carrier, version)
            assert name is None or resolve_carrier(name) is carrier


def test_accepted_names_keeps_order_and_drops_blanks_and_repeats() -> None:
    providers = [("1", " USPS "), ("2", "UPS"), ("3", ""), ("4", "USPS"), ("5", "  ")]
    assert accepted_names(providers) == ["USPS", "UPS"]
    assert accepted_names([]) == []
