"""Cancellations (windows, requests, approve, reject, seller cancel) and returns."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from orderbridge.sandbox.common.scheduler import Scheduler

from .conftest import Client

SEARCH = "/return_refund/202309/cancellations/search"


async def _ready(api: Client, scheduler: Scheduler, **kw: Any) -> dict[str, Any]:
    order = await api.order(**kw)
    api.clock.advance(timedelta(hours=1))
    await scheduler.run_due()
    return order


async def test_buyer_cancel_in_on_hold_is_immediate(api: Client) -> None:
    order = await api.order()
    result = await api.control("POST", f"/orders/{order['id']}/buyer_cancel", {})
    assert result["cancellation"]["cancel_type"] == "CANCEL"
    assert result["order"]["status"] == "CANCELLED"
    data = await api.ok("POST", SEARCH, query={"page_size": 10}, body={"order_ids": [order["id"]]})
    rec = data["cancellations"][0]
    assert rec["role"] == "BUYER"
    assert rec["cancel_status"] == "CANCELLATION_REQUEST_SUCCESS"
    assert rec["refund_amount"]["refund_total"] == order["payment"]["total_amount"]
    assert rec["cancel_line_items"][0]["seller_sku"] == "MW-SET-NAT"


async def test_buyer_request_after_window_approve_idempotent(api: Client, scheduler: Scheduler) -> None:
    order = await _ready(api, scheduler)
    result = await api.control("POST", f"/orders/{order['id']}/buyer_cancel", {})
    rec = result["cancellation"]
    assert rec["cancel_type"] == "BUYER_CANCEL"
    assert rec["cancel_status"] == "CANCELLATION_REQUEST_PENDING"
    deadline = rec["seller_next_action_response"][0]
    assert deadline["action"] == "SELLER_RESPOND_CANCEL"
    assert deadline["deadline"] == rec["create_time"] + 48 * 3600
    assert (await api.detail(order["id"]))["is_buyer_request_cancel"] is True
    path = f"/return_refund/202309/cancellations/{rec['cancel_id']}/approve"
    await api.ok("POST", path, query={"idempotency_key": rec["cancel_id"]})
    await api.ok("POST", path, query={"idempotency_key": rec["cancel_id"]})
    assert (await api.call("POST", path, query={"idempotency_key": "other"})).json()["code"] != 0
    assert (await api.detail(order["id"]))["status"] == "CANCELLED"
    reject = await api.call("POST", f"/return_refund/202309/cancellations/{rec['cancel_id']}/reject",
                            body={"reject_reason": "seller_reject_apply_product_has_been_packed"})
    assert reject.json()["code"] == 25001040


async def test_auto_approval_window_and_deadline(api: Client, scheduler: Scheduler) -> None:
    await api.control("PATCH", f"/shops/{api.shop['shop_id']}/settings", {"auto_approve": "1h"})
    inside = await _ready(api, scheduler)
    r = await api.control("POST", f"/orders/{inside['id']}/buyer_cancel", {})
    assert r["cancellation"]["cancel_type"] == "CANCEL"
    late = await _ready(api, scheduler)
    api.clock.advance(timedelta(hours=1))
    r = await api.control("POST", f"/orders/{late['id']}/buyer_cancel", {})
    assert r["cancellation"]["cancel_status"] == "CANCELLATION_REQUEST_PENDING"
    api.clock.advance(timedelta(hours=48))
    await scheduler.run_due()
    assert (await api.detail(late["id"]))["status"] == "CANCELLED"


async def test_shipping_rejects_pending_request(api: Client, scheduler: Scheduler) -> None:
    order = await _ready(api, scheduler)
    r = await api.control("POST", f"/orders/{order['id']}/buyer_cancel", {})
    await api.ok("POST", f"/fulfillment/202309/orders/{order['id']}/packages",
                 body={"tracking_number": "1Z999AA10123456784", "shipping_provider_id": "7117859084333745966"})
    data = await api.ok("POST", SEARCH, query={"page_size": 10}, body={"cancel_ids": [r["cancellation"]["cancel_id"]]})
    assert data["cancellations"][0]["cancel_status"] == "CANCELLATION_REQUEST_CANCEL"
    detail = await api.detail(order["id"])
    assert detail["is_buyer_request_cancel"] is False
    assert detail["status"] == "AWAITING_COLLECTION"


async def test_seller_cancel_reason_must_fit(api: Client, scheduler: Scheduler) -> None:
    order = await _ready(api, scheduler, items=[{"seller_sku": "BOWL-WHT", "units": 2}])
    path = "/return_refund/202309/cancellations"
    wrong = await api.call("POST", path, body={"order_id": order["id"],
                                               "cancel_reason": "seller_cancel_unpaid_reason_x"})
    assert wrong.json()["code"] == 25001021
    line = order["line_items"][0]["id"]
    part = await api.ok("POST", path, body={"order_id": order["id"], "order_line_item_ids": [line],
                                            "cancel_reason": "seller_cancel_reason_out_of_stock"})
    assert part["cancel_status"] == "CANCELLATION_REQUEST_SUCCESS"
    detail = await api.detail(order["id"])
    assert detail["status"] == "AWAITING_SHIPMENT"
    assert detail["line_items"][0]["package_status"] == "CANCELLED"
    await api.ok("POST", path, body={"order_id": order["id"],
                                     "cancel_reason": "seller_cancel_reason_wrong_price"})
    assert (await api.detail(order["id"]))["status"] == "CANCELLED"


async def test_returns_flow(api: Client, scheduler: Scheduler) -> None:
    order = await _ready(api, scheduler)
    await api.ok("POST", f"/fulfillment/202309/orders/{order['id']}/packages",
                 body={"tracking_number": "1Z999AA10123456784", "shipping_provider_id": "7117859084333745966"})
    await api.control("POST", f"/orders/{order['id']}/delivered")
    ret = await api.control("POST", f"/orders/{order['id']}/returns", {"return_type": "RETURN_AND_REFUND"})
    assert ret["return_status"] == "RETURN_OR_REFUND_REQUEST_PENDING"
    for step, status in (("approve", "AWAITING_BUYER_SHIP"), ("buyer_shipped", "BUYER_SHIPPED_ITEM"),
                         ("refunded", "RETURN_OR_REFUND_REQUEST_COMPLETE")):
        assert (await api.control("POST", f"/returns/{ret['return_id']}/{step}"))["return_status"] == status
    data = await api.ok("POST", "/return_refund/202309/returns/search", query={"page_size": 10},
                        body={"order_ids": [order["id"]]})
    assert data["return_orders"][0]["return_type"] == "RETURN_AND_REFUND"
    assert (await api.detail(order["id"]))["status"] == "COMPLETED"


async def test_seller_cancel_then_request_deadline_is_harmless(api: Client, scheduler: Scheduler) -> None:
    order = await _ready(api, scheduler)
    await api.control("POST", f"/orders/{order['id']}/buyer_cancel", {})
    await api.ok("POST", "/return_refund/202309/cancellations",
                 body={"order_id": order["id"], "cancel_reason": "seller_cancel_reason_out_of_stock"})
    api.clock.advance(timedelta(hours=49))
    await scheduler.run_due()
    assert scheduler.errors == []
    detail = await api.detail(order["id"])
    assert detail["status"] == "CANCELLED"
    assert detail["cancellation_initiator"] == "SELLER"


async def test_tiktok_cancel_fraud(api: Client) -> None:
    order = await api.order()
    result = await api.control("POST", f"/orders/{order['id']}/tiktok_cancel", {"reason": "fraud"})
    assert result["cancellation"]["role"] == "SYSTEM"
    assert result["order"]["status"] == "CANCELLED"
    assert result["order"]["line_items"][0]["cancel_user"] == "SYSTEM"
