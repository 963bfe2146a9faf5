"""An imported TikTok-shipped / FBT order -> OrderSpec -> orderCreate variables.

Created PAID by one "TikTok Shop" transaction for what the buyer paid (to the cent), already
fulfilled at the connection's location with TikTok's tracking, nobody notified, FBT stock
bypassed; a seller-shipped order keeps the PENDING, unfulfilled, no-transaction create.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from orderbridge.adapters.shopify.builders import build_order_create_variables
from orderbridge.domain.policy import Policy, TikTokShippedOrders
from orderbridge.engine.specs import (
    BYPASS_INVENTORY,
    CLAIM_INVENTORY,
    PAYMENT_GATEWAY,
    order_spec,
    spec_total,
)

from .test_specs import NOW, create_action, doc_order

LOCATION = "gid://shopify/Location/1"
IMPORT = Policy(tiktok_shipped_orders=TikTokShippedOrders.IMPORT_FULFILLED)


def fbt_action(**kw: object):  # type: ignore[no-untyped-def]
    order = replace(doc_order(), fulfillment_type="FULFILLMENT_BY_TIKTOK", shipping_type="TIKTOK")
    return replace(create_action(order, IMPORT), **kw)


def test_fbt_import_is_created_paid_and_fulfilled_with_tracking() -> None:
    action = fbt_action(tracking_number=" 1Z999AA10100000004 ", tracking_company="UPS")
    spec = order_spec(action, location_id=LOCATION, now=NOW)
    [payment] = spec.transactions
    assert payment.amount == spec_total(spec) == action.money.expected_total == Decimal("68.32")
    assert payment.gateway == PAYMENT_GATEWAY == "TikTok Shop"
    assert spec.financial_status == "PAID"
    assert spec.inventory_behaviour == BYPASS_INVENTORY
    variables = build_order_create_variables(spec)
    order = variables["order"]
    assert order["financialStatus"] == "PAID"
    assert order["transactions"] == [{
        "kind": "SALE", "status": "SUCCESS", "gateway": "TikTok Shop",
        "amountSet": {"shopMoney": {"amount": "68.32", "currencyCode": "USD"}},
        "processedAt": order["processedAt"],
    }]
    assert order["fulfillmentStatus"] == "FULFILLED"
    assert order["fulfillment"] == {
        "locationId": LOCATION, "notifyCustomer": False,
        "trackingNumber": "1Z999AA10100000004", "trackingCompany": "UPS",
    }
    assert variables["options"] == {
        "inventoryBehaviour": "BYPASS", "sendReceipt": False, "sendFulfillmentReceipt": False,
    }


def test_tiktok_shipping_import_claims_the_sellers_stock_and_omits_unknown_tracking() -> None:
    order = replace(doc_order(), shipping_type="TIKTOK")
    spec = order_spec(create_action(order, IMPORT), location_id=LOCATION, now=NOW)
    assert spec.inventory_behaviour == CLAIM_INVENTORY
    assert build_order_create_variables(spec)["order"]["fulfillment"] == {
        "locationId": LOCATION, "notifyCustomer": False,
    }


def test_without_a_location_only_the_status_is_sent() -> None:
    order = build_order_create_variables(order_spec(fbt_action(), location_id=None, now=NOW))["order"]
    assert order["fulfillmentStatus"] == "FULFILLED"
    assert "fulfillment" not in order


def test_a_zero_import_is_paid_without_a_transaction() -> None:
    action = fbt_action()
    action = replace(action, money=replace(action.money, expected_total=Decimal("0")))
    spec = order_spec(action, location_id=LOCATION, now=NOW)
    assert spec.financial_status == "PAID"
    assert spec.transactions == ()
    assert "transactions" not in build_order_create_variables(spec)["order"]


def test_seller_shipped_stays_pending_unfulfilled_without_transactions() -> None:
    spec = order_spec(create_action(doc_order()), location_id=LOCATION, now=NOW)
    order = build_order_create_variables(spec)["order"]
    assert order["financialStatus"] == "PENDING"
    assert not {"transactions", "fulfillment", "fulfillmentStatus"} & order.keys()
