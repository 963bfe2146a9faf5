"""The TikTok order model: statuses, classification, unit grouping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from orderbridge.domain.order import (
    CombinedListingSku,
    LineItem,
    OrderKind,
    Payment,
    Recipient,
    ShippingKind,
    TikTokOrder,
    TikTokStatus,
    classify,
    group_units,
    is_at_least,
    is_masked,
    parse_status,
)

S = TikTokStatus


def unit(
    line_id: str, sku: str = "A", price: str = "10.00", sale: str | None = None, **kw: Any
) -> LineItem:
    return LineItem(
        id=line_id,
        sku_id=sku,
        original_price=Decimal(price),
        sale_price=Decimal(sale or price),
        **kw,
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("AWAITING_SHIPMENT", S.AWAITING_SHIPMENT),
        ("  on_hold ", S.ON_HOLD),
        ("CANCELLED", S.CANCELLED),
        ("CANCEL", S.CANCELLED),
        ("cancel", S.CANCELLED),
        ("COMPLETED", S.COMPLETED),
        ("SHIPPED_BY_DRONE", S.UNKNOWN),
        ("", S.UNKNOWN),
    ],
)
def test_parse_status(raw: str, expected: TikTokStatus) -> None:
    assert parse_status(raw) is expected


def test_is_at_least_along_the_happy_path() -> None:
    path = [
        S.UNPAID,
        S.ON_HOLD,
        S.AWAITING_SHIPMENT,
        S.PARTIALLY_SHIPPING,
        S.AWAITING_COLLECTION,
        S.IN_TRANSIT,
        S.DELIVERED,
        S.COMPLETED,
    ]
    for i, status in enumerate(path):
        for j, other in enumerate(path):
            assert is_at_least(status, other) is (i >= j)


def test_is_at_least_off_the_path() -> None:
    assert is_at_least(S.CANCELLED, S.CANCELLED)
    assert not is_at_least(S.CANCELLED, S.UNPAID)
    assert not is_at_least(S.COMPLETED, S.CANCELLED)
    assert not is_at_least(S.UNKNOWN, S.UNKNOWN)
    assert not is_at_least(S.UNKNOWN, S.UNPAID)
    assert not is_at_least(S.DELIVERED, S.UNKNOWN)


def test_is_masked_is_about_asterisks_only() -> None:
    assert is_masked("J***n L**")
    assert not is_masked("Jordan Lee")


def order(**kw: Any) -> TikTokOrder:
    return TikTokOrder(id="1", status=S.AWAITING_SHIPMENT, **kw)


@pytest.mark.parametrize(
    ("fulfillment", "shipping", "kind"),
    [
        ("FULFILLMENT_BY_SELLER", "SELLER", OrderKind.SELLER_SHIPPED),
        ("FULFILLMENT_BY_SELLER", "TIKTOK", OrderKind.TIKTOK_SHIPPED),
        ("fulfillment_by_tiktok", "TIKTOK", OrderKind.FBT),
        ("FULFILLMENT_BY_TIKTOK", "SELLER", OrderKind.FBT),
        ("", " seller ", OrderKind.SELLER_SHIPPED),
        ("FULFILLMENT_BY_SELLER", "", OrderKind.UNKNOWN),
        ("SOMETHING_NEW", "DRONE", OrderKind.UNKNOWN),
    ],
)
def test_classify_by_types(fulfillment: str, shipping: str, kind: OrderKind) -> None:
    assert classify(order(fulfillment_type=fulfillment, shipping_type=shipping)) is kind


def test_classify_ignores_masking() -> None:
    masked = Recipient(name="J*** L**", phone="(+1)408*****42", masked=True)
    seller = order(
        fulfillment_type="FULFILLMENT_BY_SELLER", shipping_type="SELLER", recipient=masked
    )
    assert classify(seller) is OrderKind.SELLER_SHIPPED
    assert ShippingKind is OrderKind


def test_order_defaults_and_values() -> None:
    o = order()
    assert o.payment == Payment()
    assert o.payment.total_amount == 0
    assert o.payment.currency == "USD"
    assert o.recipient is None
    assert o.line_items == ()
    bundle = LineItem(
        id="9", sku_id="B", combined_listing_skus=(CombinedListingSku(sku_id="C", sku_count=2),)
    )
    assert bundle.combined_listing_skus[0].sku_count == 2


def test_order_times_must_be_aware_utc() -> None:
    when = datetime(2024, 11, 25, 16, 30, tzinfo=UTC)
    assert order(create_time=when, rts_sla_time=when).create_time == when
    with pytest.raises(ValueError, match="create_time"):
        order(create_time=datetime(2024, 11, 25, 16, 30))
    with pytest.raises(ValueError, match="paid_time"):
        order(paid_time=datetime(2024, 11, 25, 8, 30, tzinfo=timezone(timedelta(hours=-8))))


def test_group_units_by_sku_and_price_in_stable_order() -> None:
    units = [
        unit("1", "A", "24.99", seller_discount=Decimal("2.50"), tax=Decimal("1.63")),
        unit("2", "B", "18.00", platform_discount=Decimal("3.00"), tax=Decimal("1.09")),
        unit("3", "A", "24.990", seller_discount=Decimal("2.50"), tax=Decimal("1.63")),
        unit("4", "A", "19.99"),  # same SKU, another price: another line
        unit("5", "A", "24.99", sale="20.00"),  # same price, another sale price
        unit("6", "B", "18.00"),
    ]
    groups = group_units(units)
    assert [(g.sku_id, g.unit_price, g.quantity, g.line_ids) for g in groups] == [
        ("A", Decimal("24.99"), 2, ("1", "3")),
        ("B", Decimal("18.00"), 2, ("2", "6")),
        ("A", Decimal("19.99"), 1, ("4",)),
        ("A", Decimal("24.99"), 1, ("5",)),
    ]
    first = groups[0]
    assert first.seller_discount == Decimal("5.00")
    assert first.platform_discount == 0
    assert first.discount == Decimal("5.00")
    assert first.tax == Decimal("3.26")
    assert groups[1].discount == Decimal("3.00")


def test_group_titles_and_rates() -> None:
    rate = Decimal("0.0725")
    groups = group_units(
        [
            unit(
                "1", "A", product_name="Whisk", sku_name="Natural", seller_sku="MW", tax_rate=rate
            ),
            unit(
                "2", "A", product_name="Whisk", sku_name="Natural", seller_sku="MW", tax_rate=rate
            ),
            unit("3", "B", seller_sku="BOWL", tax_rate=rate),
            unit("4", "B", seller_sku="BOWL", tax_rate=Decimal("0.08")),
            unit("5", "C"),
        ]
    )
    assert [(g.title, g.variant_title, g.tax_rate) for g in groups] == [
        ("Whisk", "Natural", rate),
        ("BOWL", "", None),
        ("C", "", None),
    ]


def test_group_units_survives_non_numbers() -> None:
    groups = group_units([unit("1", price="NaN"), unit("2", price="NaN"), unit("3", price="1")])
    assert [g.line_ids for g in groups] == [("1", "2"), ("3",)]
    assert group_units([]) == ()
