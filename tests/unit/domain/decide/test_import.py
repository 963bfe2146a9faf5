"""TikTok-shipped / FBT orders under ``tiktok_shipped_orders = import_fulfilled``.

Created fulfilled and PAID once AWAITING_SHIPMENT, with TikTok's tracking; then never held,
released, shipped, cancel-desked or cancelled in Shopify: TikTok's cancellations are raised
for a person and its refunds mirrored (without restocking TikTok's FBT stock).
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from orderbridge.domain.actions import CreateShopifyOrder, RefundShopify
from orderbridge.domain.link import LinkMemory, LinkState
from orderbridge.domain.observed import CancellationStatus, CancellationType, ReturnRecord
from orderbridge.domain.order import LineItem, TikTokStatus
from orderbridge.domain.policy import Policy, TikTokShippedOrders
from tests.unit.domain.factories import (
    SHOPIFY_ID,
    T0,
    UPS,
    buyer_request,
    codes,
    first,
    fulfilment,
    kinds,
    observed,
    ok,
    order,
    run,
    view,
)

IMPORT = Policy(tiktok_shipped_orders=TikTokShippedOrders.IMPORT_FULFILLED)
KINDS = [("TIKTOK", "FULFILLMENT_BY_SELLER"), ("TIKTOK", "FULFILLMENT_BY_TIKTOK")]


def tiktok_order(fulfilment_type: str = "FULFILLMENT_BY_TIKTOK", **kw: object) -> object:
    return order(shipping_type="TIKTOK", fulfillment_type=fulfilment_type, **kw)


def with_tracking(o: object, number: str, provider: str) -> object:
    lines = tuple(
        replace(li, tracking_number=number, shipping_provider_id=provider)
        for li in o.line_items  # type: ignore[attr-defined]
    )
    return replace(o, line_items=lines)  # type: ignore[type-var]


def imported_memory() -> LinkMemory:
    d = run(LinkMemory(), observed(tiktok_order()), policy=IMPORT)
    return ok(d.memory, first(d, CreateShopifyOrder), shopify_order_id=SHOPIFY_ID)


def fulfilled_view(**kw: object) -> object:
    base: dict[str, object] = {
        "fulfillment_orders": (),
        "fulfillments": (fulfilment(),),
        "financial_status": "PAID",
        "total_outstanding": Decimal("0"),
    }
    base.update(kw)
    return view(**base)


@pytest.mark.parametrize("status", [TikTokStatus.UNPAID, TikTokStatus.ON_HOLD])
def test_not_imported_before_awaiting_shipment(status: TikTokStatus) -> None:
    d = run(LinkMemory(), observed(tiktok_order(status=status)), policy=IMPORT)
    assert kinds(d) == []
    assert d.memory.state is LinkState.NEW
    assert any("AWAITING_SHIPMENT" in n for n in d.notes)


@pytest.mark.parametrize(("shipping", "fulfilment_type"), KINDS)
def test_imported_fulfilled_paid_with_tiktoks_tracking(shipping: str, fulfilment_type: str) -> None:
    o = with_tracking(order(shipping_type=shipping, fulfillment_type=fulfilment_type), UPS[0], "p-ups")
    d = run(LinkMemory(), observed(o), policy=IMPORT)
    create = first(d, CreateShopifyOrder)
    assert create.fulfilled
    assert create.financial_status == "PAID"
    assert (create.tracking_number, create.tracking_company) == (UPS[0], "UPS")
    assert create.claim_inventory is (fulfilment_type != "FULFILLMENT_BY_TIKTOK")
    assert create.money.expected_total == Decimal("10.00")


def test_tracking_unknown_or_unknown_carrier() -> None:
    d = run(LinkMemory(), observed(tiktok_order()), policy=IMPORT)
    create = first(d, CreateShopifyOrder)
    assert (create.tracking_number, create.tracking_company) == ("", "")
    d = run(LinkMemory(), observed(with_tracking(tiktok_order(), "TT123", "p-x")), policy=IMPORT)
    create = first(d, CreateShopifyOrder)
    assert (create.tracking_number, create.tracking_company) == ("TT123", "")
    named = replace(with_tracking(tiktok_order(), "TT123", "p-x"), line_items=(
        LineItem(id="L1", sku_id="sku-a", original_price=Decimal("10.00"),
                 sale_price=Decimal("10.00"), tracking_number="TT123",
                 shipping_provider_name=" TikTok Shipping "),))
    create = first(run(LinkMemory(), observed(named), policy=IMPORT), CreateShopifyOrder)
    assert (create.tracking_number, create.tracking_company) == ("TT123", "TikTok Shipping")


def test_seller_shipped_orders_are_unchanged() -> None:
    create = first(run(LinkMemory(), observed(order())), CreateShopifyOrder)
    assert not create.fulfilled
    assert create.financial_status == "PENDING"
    assert (create.tracking_number, create.tracking_company) == ("", "")


def test_after_import_nothing_is_held_released_shipped_or_desked() -> None:
    m = imported_memory()
    assert m.state is LinkState.RELEASED
    o = tiktok_order(status=TikTokStatus.IN_TRANSIT)
    # A buyer's request on an order TikTok ships is TikTok's to handle: no desk, no block.
    d = run(m, observed(o, fulfilled_view(), cancellations=(buyer_request(),)), policy=IMPORT)
    assert kinds(d) == []
    assert not codes(d) & {"CANCEL_REQUEST_PENDING", "CANCEL_REQUEST_BLOCKED"}


def test_tiktok_cancelling_an_import_is_raised_not_cancelled() -> None:
    m = imported_memory()
    o = tiktok_order(status=TikTokStatus.CANCELLED, cancellation_initiator="SYSTEM")
    d = run(m, observed(o, fulfilled_view()), policy=IMPORT)
    assert kinds(d) == []
    issue = next(i for i in d.issues if i.code == "FULFILLED_BUT_CANCELLED")
    assert issue.data["whole_order"] == "true"
    assert "no parcel of yours" in issue.message


def test_tiktok_cancelling_units_of_an_import_is_raised_and_refunds_still_flow() -> None:
    m = imported_memory()
    lines = (LineItem(id="L1", sku_id="sku-a", display_status="CANCELLED"),
             LineItem(id="L2", sku_id="sku-a"))
    o = replace(tiktok_order(units=("sku-a", "sku-a")), line_items=lines)
    refund = ReturnRecord(return_id="R1", refunded=True, line_item_ids=("L1",), received=True)
    d = run(m, observed(o, fulfilled_view(), returns=(refund,)), policy=IMPORT)
    issue = next(i for i in d.issues if i.code == "FULFILLED_BUT_CANCELLED")
    assert issue.data == {"cancelled_line_ids": "L1", "whole_order": "false"}
    assert "remove_units" not in kinds(d)
    assert first(d, RefundShopify).restock is False  # FBT stock is TikTok's


def test_refund_of_a_tiktok_shipping_import_restocks_received_goods() -> None:
    o = tiktok_order("FULFILLMENT_BY_SELLER", status=TikTokStatus.DELIVERED, delivery_time=T0)
    d = run(LinkMemory(), observed(o), policy=IMPORT)
    m = ok(d.memory, first(d, CreateShopifyOrder), shopify_order_id=SHOPIFY_ID)
    refund = ReturnRecord(return_id="R1", refunded=True, line_item_ids=("L1",), received=True)
    d = run(m, observed(o, fulfilled_view(), returns=(refund,)), policy=IMPORT)
    assert first(d, RefundShopify).restock is True


def test_a_completed_cancellation_record_counts_too() -> None:
    m = imported_memory()
    record = buyer_request(
        type=CancellationType.BUYER_CANCEL, status=CancellationStatus.SUCCESS, line_item_ids=("L1",)
    )
    d = run(m, observed(tiktok_order(), fulfilled_view(), cancellations=(record,)), policy=IMPORT)
    assert "FULFILLED_BUT_CANCELLED" in codes(d)


def test_cancelled_in_shopify_takes_the_usual_path() -> None:
    m = imported_memory()
    d = run(m, observed(tiktok_order(), fulfilled_view(cancelled_at=T0)), policy=IMPORT)
    assert d.memory.state is LinkState.CANCELLED
    assert "SHOPIFY_CANCELLED" in codes(d)
