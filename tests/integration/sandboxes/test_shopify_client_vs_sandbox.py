"""The Shopify client and the Shopify sandbox, written separately from the docs, agree."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest

from orderbridge.adapters.shopify import (
    CustomerSpec,
    DiscountSpec,
    FulfillmentLinesSpec,
    LineItemSpec,
    MetafieldSpec,
    OrderSpec,
    ShippingLineSpec,
    TaxLineSpec,
    TrackingSpec,
    UserErrors,
    verify_webhook,
)
from orderbridge.devkit import shopify_client
from orderbridge.errors import AuthError, RemoteTimeout

from .conftest import T0, Kit

HANDLE = "orderbridge"


def spec(tiktok_id: str, *, variant_id: str | None = None) -> OrderSpec:
    line = (
        LineItemSpec(quantity=2, unit_price=Decimal("24.99"), variant_id=variant_id,
                     tax_lines=(TaxLineSpec("Sales tax", Decimal("0.0725"), Decimal("3.26")),))
        if variant_id
        else LineItemSpec(quantity=2, unit_price=Decimal("24.99"), title="Bamboo Matcha Whisk Set",
                          sku="MW-SET-NAT", tax_lines=(TaxLineSpec("Sales tax", Decimal("0.0725"), Decimal("3.26")),))
    )
    return OrderSpec(
        currency="USD",
        line_items=[line],
        processed_at=T0 - timedelta(minutes=5),
        source_identifier=tiktok_id,
        email=f"{tiktok_id}@chat.seller.tiktok.com",
        customer=CustomerSpec(email=f"{tiktok_id}@chat.seller.tiktok.com", first_name="TikTok", last_name="Order"),
        shipping_lines=[ShippingLineSpec(title="Standard", price=Decimal("3.99"))],
        discount=DiscountSpec(code="TIKTOK", amount=Decimal("5.00")),
        tags=["TikTok", "tiktok-shop", f"tiktok-{tiktok_id}"],
        custom_attributes=[("tiktok_order_id", tiktok_id)],
        metafields=[MetafieldSpec(namespace="orderbridge", key="tiktok_order_id", value=tiktok_id)],
        note="Gift - please no invoice in box",
        inventory_behaviour="DECREMENT_IGNORING_POLICY",
    )


async def _variant(kit: Kit, sku: str) -> str:
    [variant] = await kit.shopify.find_variants_by_sku(sku)
    return variant.id


async def test_create_hold_release_pay_fulfil(kit: Kit) -> None:
    variant_id = await _variant(kit, "MW-SET-NAT")
    before = await kit.control.inventory(variant_id)
    created = await kit.shopify.create_order(spec("576000000000000001", variant_id=variant_id))
    assert created.id.startswith("gid://shopify/Order/")
    after = await kit.control.inventory(variant_id)
    assert json.dumps(after) != json.dumps(before)  # stock was claimed

    # Shopify builds fulfilment orders a moment after the order
    snapshot = await kit.shopify.get_order(created.id)
    assert snapshot.fulfillment_orders == []
    await kit.control.advance(2)
    snapshot = await kit.shopify.get_order(created.id)
    [fo] = snapshot.fulfillment_orders
    assert snapshot.display_financial_status == "PENDING"

    held = await kit.shopify.hold_fulfillment_order(
        fo.id, handle=HANDLE, reason="AWAITING_PAYMENT", reason_notes="awaiting TikTok window"
    )
    assert held.fulfillment_hold is not None
    with pytest.raises(UserErrors) as again:
        await kit.shopify.hold_fulfillment_order(fo.id, handle=HANDLE, reason="OTHER")
    assert again.value.already_done

    snapshot = await kit.shopify.get_order(created.id)
    assert snapshot.display_fulfillment_status == "ON_HOLD"
    await kit.shopify.create_manual_payment(created.id, payment_method_name="TikTok Shop")
    await kit.shopify.release_fulfillment_holds(fo.id, [held.fulfillment_hold.id])
    snapshot = await kit.shopify.get_order(created.id)
    assert snapshot.display_financial_status == "PAID"
    assert snapshot.display_fulfillment_status == "UNFULFILLED"

    await kit.control.fulfil(created.id, "USPS", "9400111899223197428490")
    snapshot = await kit.shopify.get_order(created.id)
    [fulfillment] = snapshot.fulfillments
    assert fulfillment.tracking_info[0].number == "9400111899223197428490"
    assert fulfillment.tracking_info[0].company == "USPS"


async def test_cancel_is_a_job_and_search_lags(kit: Kit) -> None:
    created = await kit.shopify.create_order(spec("576000000000000002"))
    assert await kit.shopify.find_orders_by_source_identifier("576000000000000002") == []
    await kit.control.advance(5)
    [found] = await kit.shopify.find_orders_by_source_identifier("576000000000000002")
    assert found.id == created.id
    [by_tag] = await kit.shopify.find_orders_by_tag("tiktok-576000000000000002")
    assert by_tag.id == created.id

    result = await kit.shopify.cancel_order(created.id, reason="CUSTOMER", staff_note="buyer cancelled on TikTok")
    assert result.job is not None
    job = await kit.shopify.get_job(result.job.id)
    assert not job.done
    await kit.control.advance(3)
    assert (await kit.shopify.get_job(result.job.id)).done
    snapshot = await kit.shopify.get_order(created.id)
    assert snapshot.cancelled_at is not None


async def test_merchant_fulfilment_on_hold_is_refused_and_holds_of_other_apps_survive(kit: Kit) -> None:
    created = await kit.shopify.create_order(spec("576000000000000003"))
    await kit.control.advance(2)
    [fo] = (await kit.shopify.get_order(created.id)).fulfillment_orders
    ours = await kit.shopify.hold_fulfillment_order(fo.id, handle=HANDLE, reason="OTHER")
    other = shopify_client(kit.info, kit.http, token_kind="other_app_access_token")
    theirs = await other.hold_fulfillment_order(fo.id, handle="fraud-filter", reason="HIGH_RISK_OF_FRAUD")
    assert ours.fulfillment_hold is not None
    assert theirs.fulfillment_hold is not None
    with pytest.raises(Exception, match=r"(?i)hold"):
        await kit.shopify.create_fulfillment(
            [FulfillmentLinesSpec(fo.id)], tracking=TrackingSpec(company="UPS", numbers=("1Z999AA10123456784",))
        )
    await kit.shopify.release_fulfillment_holds(fo.id, [ours.fulfillment_hold.id])
    [fo] = (await kit.shopify.get_order(created.id)).fulfillment_orders
    assert [h.handle for h in fo.fulfillment_holds] == ["fraud-filter"]


async def test_token_without_fulfilment_scopes_sees_no_fulfilment_orders(kit: Kit) -> None:
    limited = shopify_client(kit.info, kit.http, token_kind="access_token_without_fulfillment_orders")
    created = await kit.shopify.create_order(spec("576000000000000004"))
    await kit.control.advance(2)
    assert (await limited.get_order(created.id)).fulfillment_orders == []
    assert (await kit.shopify.get_order(created.id)).fulfillment_orders != []
    scopes = (await limited.shop_info()).access_scopes
    assert "write_merchant_managed_fulfillment_orders" not in scopes


async def test_a_lost_create_response_is_an_unknown_outcome_not_a_retry(kit: Kit) -> None:
    await kit.control.add_fault("shopify", "orderCreate", drop_response_rate=1, limit=1)
    client = shopify_client(kit.info, kit.http, timeout=1.0)
    with pytest.raises(RemoteTimeout):
        await client.create_order(spec("576000000000000005"))
    orders = await kit.control.shopify_orders(source_identifier="576000000000000005")
    assert len(orders) == 1  # it was made once, and not again


async def test_bad_token_is_an_auth_error(kit: Kit) -> None:
    info = json.loads(json.dumps(kit.info))
    info["shopify"]["shops"][0]["access_token"] = "shpat_wrong"
    with pytest.raises(AuthError):
        await shopify_client(info, kit.http).shop_info()


async def test_webhooks_verify_with_the_client(kit: Kit) -> None:
    await kit.shopify.create_webhook_subscription("ORDERS_CREATE", "http://127.0.0.1:9/hooks")
    await kit.shopify.create_order(spec("576000000000000006"))
    await kit.control.advance(1)
    deliveries = await kit.control.deliveries(sandbox="shopify")
    assert deliveries
    full = await kit.control.delivery(deliveries[0]["id"])
    headers = {k.lower(): v for k, v in full["headers"].items()}
    secret = kit.info["shopify"]["client_secret"]
    assert verify_webhook(secret, full["body"].encode(), headers["x-shopify-hmac-sha256"])
    assert not verify_webhook("nope", full["body"].encode(), headers["x-shopify-hmac-sha256"])
    assert headers["x-shopify-topic"] == "orders/create"
