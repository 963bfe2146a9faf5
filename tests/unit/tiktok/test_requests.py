"""What goes on the wire: common parameters, signatures, cipher rules, bodies."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from decimal import Decimal

import pytest

from orderbridge.adapters.tiktok import (
    ExternalLineItem,
    ExternalOrderReference,
    OrderFilter,
    SkuInventoryUpdate,
    SkuQuantity,
    WebhookEventType,
    takes_shop_cipher,
)
from orderbridge.clock import from_unix
from orderbridge.errors import ConfigurationError
from tests.unit.tiktok.fakes import APP_KEY, Harness, body_of, ok


def hand_sign(message: bytes) -> str:
    """HMAC-SHA256 with the test secret, computed here and not by the client."""
    return hmac.new(b"s3cr3t", message, hashlib.sha256).hexdigest()


async def test_search_orders_request_is_signed_over_the_exact_bytes_sent(
    make: Callable[..., Harness],
) -> None:
    h = make(ok({"orders": [], "next_page_token": "", "total_count": 0}))
    await h.client.search_orders(
        OrderFilter(order_status="AWAITING_SHIPMENT", create_time_ge=from_unix(1_699_990_000)),
        page_size=2,
        sort_order="ASC",
    )
    (request,) = h.fake.requests
    body = b'{"order_status":"AWAITING_SHIPMENT","create_time_ge":1699990000}'
    assert request.method == "POST"
    assert request.url.path == "/order/202309/orders/search"
    assert request.content == body
    assert request.headers["x-tts-access-token"] == "access-1"
    assert request.headers["content-type"] == "application/json"
    params = dict(request.url.params)
    assert params.pop("sign") == hand_sign(
        b"s3cr3t/order/202309/orders/search"
        b"app_key6abc123page_size2shop_cipherROW_cipherXsort_orderASCtimestamp1700000000"
        + body
        + b"s3cr3t"
    )
    assert params == {
        "app_key": APP_KEY,
        "timestamp": "1700000000",
        "shop_cipher": "ROW_cipherX",
        "page_size": "2",
        "sort_order": "ASC",
    }
    assert "access_token" not in params


async def test_get_authorized_shops_has_no_cipher_and_signs_empty_body(
    make: Callable[..., Harness],
) -> None:
    h = make(ok({"shops": [{"id": "7", "name": "Main", "cipher": "ROW_x", "region": "US"}]}))
    shops = await h.client.get_authorized_shops()
    assert shops[0].cipher == "ROW_x"
    assert shops[0].raw["region"] == "US"
    (request,) = h.fake.requests
    assert request.method == "GET"
    assert request.content == b""
    assert "shop_cipher" not in request.url.params
    assert request.url.params["sign"] == hand_sign(
        b"s3cr3t/authorization/202309/shopsapp_key6abc123timestamp1700000000s3cr3t"
    )


async def test_api_base_path_prefix_is_part_of_the_signed_path(
    make: Callable[..., Harness],
) -> None:
    h = make(ok({"shops": []}), api_base="https://api.test/tiktok/")
    await h.client.get_authorized_shops()
    (request,) = h.fake.requests
    assert request.url.path == "/tiktok/authorization/202309/shops"
    assert request.url.params["sign"] == hand_sign(
        b"s3cr3t/tiktok/authorization/202309/shopsapp_key6abc123timestamp1700000000s3cr3t"
    )


def test_shop_cipher_rules() -> None:
    assert not takes_shop_cipher("/authorization/202309/shops")
    assert not takes_shop_cipher("/seller/202309/shops")
    assert takes_shop_cipher("/order/202309/orders/search")
    assert takes_shop_cipher("/event/202309/webhooks")
    assert takes_shop_cipher("/return_refund/202309/cancellations/search")


async def test_shop_scoped_call_without_cipher_fails_before_sending(
    make: Callable[..., Harness],
) -> None:
    h = make(ok({"shops": []}), ok({"orders": []}), shop_cipher=None)
    await h.client.get_authorized_shops()  # not shop-scoped: fine
    with pytest.raises(ConfigurationError, match="shop_cipher"):
        await h.client.search_orders()
    shop = h.client.for_shop("ROW_other", "shop-2")
    await shop.search_orders()
    assert h.fake.requests[-1].url.params["shop_cipher"] == "ROW_other"
    assert len(h.fake.requests) == 2
    assert shop.tokens is h.client.tokens
    assert shop.limiter is h.client.limiter


async def test_mark_package_shipped_returns_package_and_warning(
    make: Callable[..., Harness],
) -> None:
    h = make(
        ok(
            {
                "order_id": "576",
                "order_line_item_ids": ["l1"],
                "package_id": "pkg-9",
                "warning": {"message": "tracking number may not match provider"},
            }
        )
    )
    shipped = await h.client.mark_package_shipped("576", "9400111", "7117858858072016686", ["l1"])
    assert shipped.package_id == "pkg-9"
    assert shipped.warning_message == "tracking number may not match provider"
    (request,) = h.fake.requests
    assert request.url.path == "/fulfillment/202309/orders/576/packages"
    assert body_of(request) == {
        "tracking_number": "9400111",
        "shipping_provider_id": "7117858858072016686",
        "order_line_item_ids": ["l1"],
    }
    assert h.recorder.calls[0].order_ref == "576"


async def test_path_ids_are_validated(make: Callable[..., Harness]) -> None:
    h = make()
    with pytest.raises(ValueError, match="valid id"):
        await h.client.get_order_tracking("57/../6")
    assert h.fake.requests == []


async def test_approve_cancellation_signs_the_idempotency_key(
    make: Callable[..., Harness],
) -> None:
    h = make(ok({}))
    await h.client.approve_cancellation("c-1", idempotency_key="c-1")
    (request,) = h.fake.requests
    assert request.url.path == "/return_refund/202309/cancellations/c-1/approve"
    assert request.url.params["idempotency_key"] == "c-1"
    assert request.content == b"{}"
    assert request.url.params["sign"] == hand_sign(
        b"s3cr3t/return_refund/202309/cancellations/c-1/approve"
        b"app_key6abc123idempotency_keyc-1shop_cipherROW_cipherXtimestamp1700000000{}s3cr3t"
    )
    with pytest.raises(ValueError, match="idempotency_key"):
        await h.client.approve_cancellation("c-1", idempotency_key="k" * 256)


def test_no_reject_cancellation_is_offered() -> None:
    from orderbridge.adapters.tiktok import TikTokClient

    # Rejecting a *return* is the seller's right; rejecting a cancellation is retired (US).
    assert [name for name in dir(TikTokClient) if "reject" in name] == ["reject_reasons", "reject_return"]
    assert "Reject" in (TikTokClient.approve_cancellation.__doc__ or "")


async def test_return_answers_send_decision_key_and_reason(make: Callable[..., Harness]) -> None:
    h = make(ok({}), ok({}), ok({"reasons": [{"name": "r1", "text": "Reason one"}]}))
    await h.client.approve_return("R1", "OFFER_PARTIAL_REFUND", "R1-k", partial_refund=Decimal("4.5"))
    await h.client.reject_return("R1", "REJECT_REFUND", "r1", "R1-j", comment="no evidence")
    reasons = await h.client.reject_reasons("R1")
    approve, reject, listed = h.fake.requests
    assert approve.url.path == "/return_refund/202309/returns/R1/approve"
    assert approve.url.params["idempotency_key"] == "R1-k"
    assert body_of(approve) == {"decision": "OFFER_PARTIAL_REFUND",
                                "partial_refund": {"currency": "USD", "amount": "4.50"}}
    assert reject.url.path == "/return_refund/202309/returns/R1/reject"
    assert body_of(reject) == {"decision": "REJECT_REFUND", "reject_reason": "r1", "comment": "no evidence"}
    assert (listed.method, listed.url.params["return_or_cancel_id"]) == ("GET", "R1")
    assert [(r.name, r.text) for r in reasons] == [("r1", "Reason one")]
    for bad, why in ((lambda: h.client.approve_return("R1", "MAYBE", "k"), "decision"),
                     (lambda: h.client.approve_return("R1", "APPROVE_REFUND", ""), "idempotency_key"),
                     (lambda: h.client.approve_return("R1", "APPROVE_REFUND", "k", partial_refund=Decimal("1")),
                      "partial_refund"),
                     (lambda: h.client.reject_return("R1", "APPROVE_REFUND", "r1", "k"), "decision")):
        with pytest.raises(ValueError, match=why):
            await bad()
    assert len(h.fake.requests) == 3


async def test_seller_cancel_body(make: Callable[..., Harness]) -> None:
    h = make(ok({"cancel_id": "c-7", "cancel_status": "CANCELLATION_REQUEST_SUCCESS"}))
    result = await h.client.seller_cancel(
        "576", "seller_cancel_reason_out_of_stock", skus=[SkuQuantity("sku-1", 2)]
    )
    assert result.cancel_id == "c-7"
    assert body_of(h.fake.requests[0]) == {
        "order_id": "576",
        "cancel_reason": "seller_cancel_reason_out_of_stock",
        "skus": [{"sku_id": "sku-1", "quantity": 2}],
    }
    with pytest.raises(ValueError, match="not both"):
        await h.client.seller_cancel(
            "576", "r", order_line_item_ids=["l1"], skus=[SkuQuantity("s", 1)]
        )


async def test_update_inventory_and_shipping_info_bodies(make: Callable[..., Harness]) -> None:
    h = make(ok({}), ok({}))
    await h.client.update_inventory("p-1", [SkuInventoryUpdate("sku-1", 5, warehouse_id="w-1")])
    await h.client.update_shipping_info("576", "1Z999", "7117859084333745966")
    inventory, tracking = h.fake.requests
    assert inventory.url.path == "/product/202309/products/p-1/inventory/update"
    assert body_of(inventory) == {
        "skus": [{"id": "sku-1", "inventory": [{"quantity": 5, "warehouse_id": "w-1"}]}]
    }
    assert tracking.url.path == "/fulfillment/202309/orders/576/shipping_info/update"
    assert body_of(tracking) == {
        "tracking_number": "1Z999",
        "shipping_provider_id": "7117859084333745966",
    }


async def test_webhook_subscription_calls(make: Callable[..., Harness]) -> None:
    h = make(
        ok({}),
        ok({"webhooks": [{"event_type": "ORDER_STATUS_CHANGE", "address": "https://x.io/h"}]}),
        ok({}),
    )
    await h.client.update_webhook(WebhookEventType.ORDER_STATUS_CHANGE, "https://x.io/h")
    hooks = await h.client.get_webhooks()
    await h.client.delete_webhook("CANCELLATION_STATUS_CHANGE")
    put, get, delete = h.fake.requests
    assert (put.method, put.url.path) == ("PUT", "/event/202309/webhooks")
    assert body_of(put) == {"address": "https://x.io/h", "event_type": "ORDER_STATUS_CHANGE"}
    assert put.url.params["shop_cipher"] == "ROW_cipherX"
    assert hooks[0].address == "https://x.io/h"
    assert get.method == "GET"
    assert delete.method == "DELETE"
    assert body_of(delete) == {"event_type": "CANCELLATION_STATUS_CHANGE"}


async def test_external_order_references_batch_by_100(make: Callable[..., Harness]) -> None:
    h = make(ok({}), ok({"errors": [{"id": "o150", "message": "x"}]}))
    refs = [
        ExternalOrderReference(
            f"o{i}", f"gid://shopify/Order/{i}", line_items=[ExternalLineItem("l", "s")]
        )
        for i in range(150)
    ]
    results = await h.client.add_external_order_references(refs)
    first, second = h.fake.requests
    assert first.url.path == "/order/202406/orders/external_orders"
    assert len(body_of(first)["orders"]) == 100
    assert body_of(second)["orders"][0] == {
        "id": "o100",
        "external_order": {
            "id": "gid://shopify/Order/100",
            "platform": "SHOPIFY",
            "line_items": [{"id": "l", "origin_id": "s"}],
        },
    }
    assert results[1].errors == [{"id": "o150", "message": "x"}]


@pytest.mark.parametrize("page_size", [0, 101])
async def test_order_page_size_bounds(make: Callable[..., Harness], page_size: int) -> None:
    h = make()
    with pytest.raises(ValueError, match="page_size"):
        await h.client.search_orders(page_size=page_size)


async def test_cancellation_page_size_bounds(make: Callable[..., Harness]) -> None:
    h = make()
    with pytest.raises(ValueError, match="page_size"):
        await h.client.search_cancellations(page_size=51)
