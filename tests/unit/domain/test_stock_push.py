"""The stock push's decisions: per-warehouse plan, unmirrored units, debounce, errors, diff."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orderbridge.domain.stock import SafetyBuffer
from orderbridge.domain.stock_push import (
    MAX_TIKTOK_STOCK,
    PROMOTION_LOCKED_CODE,
    SkuErrorKind,
    StockDiff,
    WarehouseMap,
    classify_sku_error,
    debounced_due,
    diff_stock,
    plan_sku,
    readback_needs_push,
    retry_delay,
    unmirrored_units,
)

T0 = datetime(2026, 11, 16, 17, 0, tzinfo=UTC)
LEVELS = {"gid://shopify/Location/1": 30, "gid://shopify/Location/2": 12}


def test_without_a_mapping_the_default_warehouse_sells_every_location() -> None:
    assert plan_sku(LEVELS, WarehouseMap(), 0) == (("", 42),)


def test_a_mapping_sums_its_locations_per_warehouse_and_takes_unmirrored_off_each() -> None:
    mapping = WarehouseMap.of({"WH-B": ["gid://shopify/Location/2"],
                               "WH-A": ["gid://shopify/Location/1", "gid://shopify/Location/2"]})
    assert mapping.warehouses[0][0] == "WH-A"
    assert plan_sku(LEVELS, mapping, 5) == (("WH-A", 37), ("WH-B", 7))
    assert plan_sku(LEVELS, mapping, 0, SafetyBuffer(units=2), maximum=40) == (("WH-A", 40), ("WH-B", 10))


def test_zero_is_pushed_when_nothing_is_left() -> None:
    assert plan_sku({"gid://shopify/Location/1": -2}, WarehouseMap(), 3) == (("", 0),)
    assert plan_sku({}, WarehouseMap(), 0) == (("", 0),)


def test_unmirrored_takes_the_larger_estimate() -> None:
    assert unmirrored_units(3, None, 0) == 3  # TikTok not read
    assert unmirrored_units(3, 10, 4) == 6  # TikTok knows of orders the engine has not seen
    assert unmirrored_units(3, 5, 4) == 3
    assert unmirrored_units(0, 2, 6) == 0  # stale snapshots never make it negative


def test_errors_are_classified() -> None:
    assert classify_sku_error(36009002) is SkuErrorKind.RETRY
    assert classify_sku_error(PROMOTION_LOCKED_CODE) is SkuErrorKind.PROMOTION_LOCKED
    assert classify_sku_error(12052394) is SkuErrorKind.SHARED_INVENTORY
    assert classify_sku_error(12019024) is SkuErrorKind.REJECTED


def test_debounce_pushes_at_once_then_at_most_once_a_window() -> None:
    window = timedelta(seconds=2)
    assert debounced_due(T0, None, window) == T0  # never pushed: at once
    assert debounced_due(T0, None, window, last_pushed=T0 - window) == T0  # pushed long enough ago
    pushed = T0 - timedelta(seconds=0.5)
    assert debounced_due(T0, None, window, last_pushed=pushed) == pushed + window  # inside the window
    assert debounced_due(T0, T0 + timedelta(seconds=1), window, last_pushed=pushed) == T0 + timedelta(seconds=1)
    assert debounced_due(T0, T0 + timedelta(hours=1), window) == T0  # a retry pause is cut short


def test_retry_delays_double_up_to_a_cap() -> None:
    assert retry_delay(1) == timedelta(seconds=5)
    assert retry_delay(3) == timedelta(seconds=20)
    assert retry_delay(500) == timedelta(minutes=15)
    with pytest.raises(ValueError, match="from 1"):
        retry_delay(0)


def test_readback() -> None:
    assert readback_needs_push(5, 6)
    assert not readback_needs_push(5, 5)
    assert not readback_needs_push(5, 2)  # TikTok sold some meanwhile


def test_diff_lists_only_disagreements() -> None:
    expected = {"s1": (("", 5),), "s2": (("WH-A", 3), ("WH-B", 0)), "s3": (("", 1),)}
    tiktok = {"s1": {"WH-A": 5}, "s2": {"WH-A": 4}}
    found = diff_stock(expected, tiktok)
    assert found == [StockDiff("s2", "WH-A", 3, 4), StockDiff("s2", "WH-B", 0, None),
                     StockDiff("s3", "", 1, None)]
    assert [d.delta for d in found] == [1, 0, -1]


@given(levels=st.dictionaries(st.sampled_from("abcd"), st.integers(-50, 10_000), max_size=4),
       unmirrored=st.integers(0, 500), units=st.integers(0, 20), percent=st.integers(0, 100))
def test_never_more_than_shopify_can_ship(levels: dict[str, int], unmirrored: int, units: int,
                                          percent: int) -> None:
    [(_w, quantity)] = plan_sku(levels, WarehouseMap(), unmirrored,
                                SafetyBuffer(units=units, percent=Decimal(percent)))
    assert 0 <= quantity <= min(MAX_TIKTOK_STOCK, max(sum(levels.values()) - unmirrored, 0))
