"""CreateShopifyOrder -> OrderSpec: what the Shopify order carries, and its money."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orderbridge.adapters.shopify.builders import build_order_create_variables
from orderbridge.adapters.tiktok.models import Order
from orderbridge.adapters.tiktok.translate import to_domain_order
from orderbridge.domain.actions import CreateShopifyOrder
from orderbridge.domain.decide.core import decide
from orderbridge.domain.link import LinkMemory
from orderbridge.domain.money import plan_money
from orderbridge.domain.observed import Observed, SkuResolution, SkuState
from orderbridge.domain.order import LineItem, Payment, TikTokOrder, TikTokStatus
from orderbridge.domain.policy import CustomerNameMode, Policy, TikTokShippedOrders
from orderbridge.engine.specs import (
    BYPASS_INVENTORY,
    CLAIM_INVENTORY,
    DISCOUNT_CODE,
    order_spec,
    spec_total,
)
from tests.unit.tiktok.test_translate import DOC_ORDER

NOW = datetime(2024, 11, 25, 17, 45, tzinfo=UTC)
WHISK_SKU = "1729400000000000001"
BOWL_SKU = "1729400000000000002"
VARIANT = "gid://shopify/ProductVariant/7"


def doc_order() -> TikTokOrder:
    return to_domain_order(Order.model_validate(DOC_ORDER))


def create_action(order: TikTokOrder, policy: Policy | None = None) -> CreateShopifyOrder:
    skus = {WHISK_SKU: SkuResolution(state=SkuState.MAPPED, variant_id=VARIANT)}
    decision = decide(
        LinkMemory(),
        Observed(tiktok=order, skus=skus),
        policy or Policy(tiktok_shop_id="7495000000000000001"),
        NOW,
    )
    [action] = [a for a in decision.actions if isinstance(a, CreateShopifyOrder)]
    return action


def test_the_documented_order() -> None:
    action = create_action(doc_order())
    spec = order_spec(action, location_id="gid://shopify/Location/1", now=NOW)
    assert spec_total(spec) == action.money.expected_total == Decimal("68.32")

    whisk, bowl = spec.line_items
    assert whisk.variant_id == VARIANT
    assert whisk.quantity == 2
    assert whisk.unit_price == Decimal("24.99")  # before discounts
    assert whisk.title is None  # a variant line takes the variant's title
    assert dict(whisk.properties) == {"tiktok_sku_id": WHISK_SKU}
    assert bowl.variant_id is None  # unmapped: a custom line
    assert (bowl.title, bowl.sku, bowl.unit_price) == (
        "Ceramic Matcha Bowl",
        "BOWL-WHT",
        Decimal("18.00"),
    )
    assert dict(bowl.properties) == {"tiktok_sku_id": BOWL_SKU}
    assert [t.amount for t in whisk.tax_lines] == [Decimal("3.26")]
    assert all(t.channel_liable for li in spec.line_items for t in li.tax_lines)
    assert whisk.tax_lines[0].rate == Decimal("0.0725")

    assert spec.discount is not None
    assert (spec.discount.code, spec.discount.amount) == (DISCOUNT_CODE, Decimal("8.00"))
    [shipping] = spec.shipping_lines
    assert shipping.price == Decimal("3.99")  # after the platform's shipping discount

    assert spec.processed_at == datetime.fromtimestamp(1732552200, UTC)
    assert spec.source_identifier == "576999123456789012"
    assert spec.email == "v8kQx2@chat.seller.tiktok.com"
    assert spec.note == "Gift - please no invoice in box"
    assert spec.customer is not None
    assert (spec.customer.first_name, spec.customer.last_name) == ("TikTok", "Order")
    assert "tiktok-relay-email" in spec.customer.tags
    assert {"TikTok", "tiktok-shop", "tiktok-576999123456789012"} <= set(spec.tags)
    attributes = dict(spec.custom_attributes)
    assert attributes["tiktok_order_id"] == "576999123456789012"
    assert attributes["tiktok_shop_id"] == "7495000000000000001"
    assert attributes["tiktok_seller_discount"] == "5.00"
    assert attributes["tiktok_platform_discount"] == "3.00"
    assert attributes["tiktok_platform_funded"] == "5.00"  # 3.00 product + 2.00 shipping
    assert {(m.key, m.value) for m in spec.metafields} == {
        ("tiktok_order_id", "576999123456789012"),
        ("tiktok_shop_id", "7495000000000000001"),
    }
    assert spec.inventory_behaviour == CLAIM_INVENTORY
    assert spec.shipping_address is None  # created at first sight: address comes at release

    variables = build_order_create_variables(spec)
    sent = variables["order"]
    assert sent["financialStatus"] == "PENDING"
    assert "transactions" not in sent
    assert sent["buyerAcceptsMarketing"] is False
    assert variables["options"] == {
        "inventoryBehaviour": "DECREMENT_IGNORING_POLICY",
        "sendReceipt": False,
        "sendFulfillmentReceipt": False,
    }
    assert sent["lineItems"][0]["properties"] == [{"name": "tiktok_sku_id", "value": WHISK_SKU}]


def test_source_name_recipient_customer_and_future_processed_at() -> None:
    order = replace(doc_order(), create_time=NOW + timedelta(seconds=3))
    policy = Policy(source_name="tiktok-orderbridge", customer_name_mode=CustomerNameMode.RECIPIENT)
    action = create_action(order, policy)
    spec = order_spec(action, location_id=None, now=NOW)
    assert spec.source_name == "tiktok-orderbridge"
    assert spec.customer is not None
    assert (spec.customer.first_name, spec.customer.last_name) == ("Jordan", "Lee")
    assert spec.processed_at == NOW  # never in the future


def test_fbt_import_does_not_claim_stock() -> None:
    order = replace(doc_order(), fulfillment_type="FULFILLMENT_BY_TIKTOK", shipping_type="TIKTOK")
    action = create_action(
        order, Policy(tiktok_shipped_orders=TikTokShippedOrders.IMPORT_FULFILLED)
    )
    spec = order_spec(action, location_id="gid://shopify/Location/1", now=NOW)
    assert spec.inventory_behaviour == BYPASS_INVENTORY
    assert "tiktok-fbt" in spec.tags


def test_an_action_with_an_address_sends_it_as_shipping_and_billing() -> None:
    from orderbridge.domain.address import to_shipping_address

    action = create_action(doc_order())
    address, _ = to_shipping_address(doc_order().recipient)
    spec = order_spec(replace(action, shipping_address=address), location_id=None, now=NOW)
    assert spec.shipping_address is not None
    assert spec.shipping_address == spec.billing_address
    assert spec.shipping_address.province_code == "CA"
    assert spec.shipping_address.phone == "+14085550142"


def test_no_lines_is_a_local_refusal() -> None:
    action = create_action(doc_order())
    with pytest.raises(ValueError, match="no units"):
        order_spec(replace(action, lines=()), location_id=None, now=NOW)


def test_fee_lines_and_zero_tax_rate() -> None:
    order = replace(
        doc_order(),
        payment=replace(
            doc_order().payment,
            retail_delivery_fee=Decimal("0.28"),
            handling_fee=Decimal("1.00"),
            item_insurance_fee=Decimal("0.50"),
            item_insurance_tax=Decimal("0.04"),
            shipping_fee_tax=Decimal("0.29"),
            total_amount=Decimal("70.43"),
        ),
    )
    action = create_action(order)
    spec = order_spec(action, location_id=None, now=NOW)
    assert [s.title for s in spec.shipping_lines][1:] == [
        "Retail Delivery Fee",
        "Handling Fee",
        "Shipping Insurance",
    ]
    assert spec_total(spec) == action.money.expected_total == Decimal("70.43")
    assert all(t.rate >= 0 for s in spec.shipping_lines for t in s.tax_lines)


# --- money over random orders ---

cents = st.integers(min_value=0, max_value=50_000).map(lambda c: Decimal(c).scaleb(-2))


@st.composite
def orders(draw: st.DrawFn) -> TikTokOrder:
    units = []
    for i in range(draw(st.integers(min_value=1, max_value=8))):
        sku = draw(st.sampled_from(["s1", "s2", "s3"]))
        price = draw(cents)
        units.append(
            LineItem(
                id=f"u{i}",
                sku_id=sku,
                seller_sku=sku.upper(),
                product_name=f"Product {sku}",
                original_price=price,
                sale_price=price,
                seller_discount=draw(cents),
                platform_discount=draw(cents),
                tax=draw(cents),
                tax_rate=draw(st.sampled_from([None, Decimal("0.0725"), Decimal("0.1")])),
            )
        )
    payment = Payment(
        original_total_product_price=sum((u.original_price for u in units), Decimal("0")),
        seller_discount=draw(cents),
        platform_discount=draw(cents),
        shipping_fee=draw(cents),
        shipping_fee_tax=draw(cents),
        product_tax=draw(cents),
        retail_delivery_fee=draw(st.sampled_from([Decimal("0"), Decimal("0.28")])),
        handling_fee=draw(st.sampled_from([Decimal("0"), Decimal("1.99")])),
        item_insurance_fee=draw(st.sampled_from([Decimal("0"), Decimal("0.99")])),
        total_amount=draw(cents),
    )
    return TikTokOrder(
        id="576000000000000777",
        status=draw(st.sampled_from([TikTokStatus.UNPAID, TikTokStatus.ON_HOLD])),
        shipping_type="SELLER",
        fulfillment_type="FULFILLMENT_BY_SELLER",
        create_time=NOW - timedelta(minutes=5),
        is_sample_order=draw(st.booleans()),
        payment=payment,
        line_items=tuple(units),
    )


@settings(max_examples=150, deadline=None)
@given(orders())
def test_the_spec_total_is_always_the_plans_expected_total(order: TikTokOrder) -> None:
    action = create_action(order, Policy())
    spec = order_spec(action, location_id=None, now=NOW)
    assert spec_total(spec) == action.money.expected_total == plan_money(order).expected_total
    build_order_create_variables(spec)  # and the client accepts it
