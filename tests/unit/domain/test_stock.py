"""TikTok's quantity from Shopify's stock."""

from decimal import Decimal

import pytest

from orderbridge.domain.stock import SafetyBuffer, tiktok_quantity

LEVELS = {"loc-1": 30, "loc-2": 12, "loc-3": 7}


def test_the_mapped_locations_are_summed_and_others_ignored() -> None:
    assert tiktok_quantity(LEVELS, ["loc-1", "loc-2"], 0) == 42
    assert tiktok_quantity(LEVELS, ["loc-3"], 0) == 7
    assert tiktok_quantity(LEVELS, ["loc-9"], 0) == 0  # a mapped location that stocks nothing


def test_units_of_unmirrored_tiktok_orders_are_taken_off() -> None:
    assert tiktok_quantity(LEVELS, ["loc-1"], 4) == 26


def test_never_below_zero_and_never_above_the_ceiling() -> None:
    assert tiktok_quantity(LEVELS, ["loc-3"], 9) == 0
    assert tiktok_quantity({"loc-1": -3, "loc-2": 2}, ["loc-1", "loc-2"], 0) == 0
    assert tiktok_quantity({"loc-1": -3, "loc-2": 5}, ["loc-1", "loc-2"], 0) == 2
    assert tiktok_quantity(LEVELS, ["loc-1"], 0, maximum=25) == 25
    assert tiktok_quantity(LEVELS, ["loc-3"], 0, maximum=25) == 7


def test_a_fixed_buffer_a_percent_buffer_and_the_larger_of_both() -> None:
    assert tiktok_quantity(LEVELS, ["loc-1"], 0, SafetyBuffer(units=5)) == 25
    assert tiktok_quantity(LEVELS, ["loc-1"], 0, SafetyBuffer(percent=Decimal(10))) == 27
    assert tiktok_quantity(LEVELS, ["loc-3"], 0, SafetyBuffer(percent=Decimal(10))) == 6  # 0.7 rounds up to 1
    assert tiktok_quantity(LEVELS, ["loc-1"], 0, SafetyBuffer(units=2, percent=Decimal(10))) == 27
    assert tiktok_quantity(LEVELS, ["loc-1"], 0, SafetyBuffer(units=4, percent=Decimal(10))) == 26
    assert tiktok_quantity({"loc-1": -4}, ["loc-1"], 0, SafetyBuffer(percent=Decimal(50))) == 0


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        SafetyBuffer(units=-1)
    with pytest.raises(ValueError, match="between 0 and 100"):
        SafetyBuffer(percent=Decimal(101))
    with pytest.raises(ValueError, match="between 0 and 100"):
        SafetyBuffer(percent=Decimal(-1))
    with pytest.raises(ValueError, match="unmirrored"):
        tiktok_quantity(LEVELS, ["loc-1"], -1)
