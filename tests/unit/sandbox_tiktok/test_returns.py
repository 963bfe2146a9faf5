"""The after-sale desk over HTTP: every return path, the seller's decisions with idempotency
keys, Get Reject Reasons, the 48-hour timeout on the sandbox clock and webhook 12."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx

from orderbridge.sandbox.common.scheduler import Scheduler

from .conftest import Client

SEARCH = "/return_refund/202309/returns/search"
UPS = "1Z999AA10123456784"


async def _delivered(api: Client, scheduler: Scheduler, units: int = 2) -> dict[str, Any]:
    order = await api.order(items=[{"seller_sku": "MW-SET-NAT", "units": units}])
    api.clock.advance(timedelta(hours=1))
    await scheduler.run_due()
    await api.ok("POST", f"/fulfillment/202309/orders/{order['id']}/packages",
                 body={"tracking_number": UPS, "shipping_provider_id": "7117859084333745966"})
    await api.control("POST", f"/orders/{order['id']}/delivered")
    return await api.detail(order["id"])


async def _search(api: Client, **body: Any) -> list[dict[str, Any]]:
    data = await api.ok("POST", SEARCH, query={"page_size": 50}, body=body)
    found: list[dict[str, Any]] = data["return_orders"]
    return found


async def _one(api: Client, return_id: str) -> dict[str, Any]:
    [record] = await _search(api, return_ids=[return_id])
    return record


async def _decide(api: Client, return_id: str, verb: str, key: str, **body: Any) -> dict[str, Any]:
    resp = await api.call("POST", f"/return_refund/202309/returns/{return_id}/{verb}",
                          query={"idempotency_key": key}, body=body)
    payload: dict[str, Any] = resp.json()
    return payload


async def _settle(api: Client, scheduler: Scheduler, minutes: int = 2) -> None:
    api.clock.advance(timedelta(minutes=minutes))
    await scheduler.run_due()


def _cents(value: str) -> Decimal:
    return Decimal(value)


async def test_refund_only_approved_then_money_moves(api: Client, scheduler: Scheduler) -> None:
    order = await _delivered(api, scheduler)
    line = order["line_items"][0]
    opened = await api.control("POST", f"/orders/{order['id']}/returns",
                               {"return_type": "REFUND", "order_line_item_ids": [line["id"]]})
    [action] = opened["seller_next_action_response"]
    assert action["action"] == "SELLER_RESPOND_RETURN"
    assert action["deadline"] - opened["create_time"] == 48 * 3600
    amount = opened["refund_amount"]
    assert amount["refund_subtotal"] == line["sale_price"]
    assert _cents(amount["refund_total"]) == _cents(amount["refund_subtotal"]) + _cents(amount["refund_tax"])
    assert _cents(amount["refund_tax"]) > 0
    assert _cents(amount["refund_shipping_fee"]) == 0  # one of two units: no shipping back
    assert (await _decide(api, opened["return_id"], "approve", "k1", decision="APPROVE_REFUND"))["code"] == 0
    assert (await _one(api, opened["return_id"]))["return_status"] == "RETURN_OR_REFUND_REQUEST_SUCCESS"
    # The same key again does nothing more; a wrong decision is refused with a business code.
    assert (await _decide(api, opened["return_id"], "approve", "k1", decision="APPROVE_REFUND"))["code"] == 0
    wrong = await _decide(api, opened["return_id"], "approve", "k2", decision="APPROVE_RETURN")
    assert wrong["code"] == 25002002
    await _settle(api, scheduler)
    record = await _one(api, opened["return_id"])
    assert record["return_status"] == "RETURN_OR_REFUND_REQUEST_COMPLETE"
    assert record["seller_next_action_response"] == []
    assert (await api.detail(order["id"]))["status"] == "DELIVERED"  # one unit still kept


async def test_whole_order_refund_carries_shipping_and_completes_the_order(
        api: Client, scheduler: Scheduler) -> None:
    order = await _delivered(api, scheduler, units=1)
    opened = await api.control("POST", f"/orders/{order['id']}/returns", {"return_type": "REFUND"})
    assert opened["refund_amount"]["refund_total"] == order["payment"]["total_amount"]
    assert opened["refund_amount"]["refund_shipping_fee"] == order["payment"]["shipping_fee"]
    api.clock.advance(timedelta(hours=48))  # the seller never answers: TikTok approves
    await scheduler.run_due()
    await _settle(api, scheduler)
    assert (await _one(api, opened["return_id"]))["return_status"] == "RETURN_OR_REFUND_REQUEST_COMPLETE"
    assert (await api.detail(order["id"]))["status"] == "COMPLETED"


async def test_return_and_refund_with_tracking_and_receipt(api: Client, scheduler: Scheduler) -> None:
    order = await _delivered(api, scheduler, units=1)
    rid = (await api.control("POST", f"/orders/{order['id']}/returns",
                             {"return_type": "RETURN_AND_REFUND"}))["return_id"]
    assert (await _decide(api, rid, "approve", "a", decision="APPROVE_RETURN"))["code"] == 0
    assert (await _one(api, rid))["return_status"] == "AWAITING_BUYER_SHIP"
    shipped = await api.control("POST", f"/returns/{rid}/ship", {"tracking_number": "9400111899223197428561"})
    assert shipped["return_status"] == "BUYER_SHIPPED_ITEM"
    assert shipped["return_tracking_number"] == "9400111899223197428561"
    assert shipped["seller_next_action_response"][0]["action"] == "SELLER_RECEIVE_PACKAGE"
    assert (await _decide(api, rid, "approve", "b", decision="APPROVE_RECEIVED_PACKAGE"))["code"] == 0
    await _settle(api, scheduler)
    assert (await _one(api, rid))["return_status"] == "RETURN_OR_REFUND_REQUEST_COMPLETE"


async def test_received_package_rejected_then_arbitration_for_the_seller(
        api: Client, scheduler: Scheduler) -> None:
    order = await _delivered(api, scheduler, units=1)
    rid = (await api.control("POST", f"/orders/{order['id']}/returns",
                             {"return_type": "RETURN_AND_REFUND"}))["return_id"]
    await api.control("POST", f"/returns/{rid}/approve")
    await api.control("POST", f"/returns/{rid}/ship", {})
    reasons = await api.ok("GET", "/return_refund/202309/reject_reasons",
                           query={"return_or_cancel_id": rid})
    names = [r["name"] for r in reasons["reasons"]]
    assert "seller_reject_package_reason_wrong_item" in names
    bad = await _decide(api, rid, "reject", "r", decision="REJECT_RECEIVED_PACKAGE", reject_reason="nope")
    assert bad["code"] == 25002003
    ok = await _decide(api, rid, "reject", "r", decision="REJECT_RECEIVED_PACKAGE",
                       reject_reason="seller_reject_package_reason_wrong_item")
    assert ok["code"] == 0
    assert (await _one(api, rid))["return_status"] == "REJECT_RECEIVE_PACKAGE"
    escalated = await api.control("POST", f"/returns/{rid}/escalate")
    assert escalated["arbitration_status"] == "IN_PROGRESS"
    assert [r["return_id"] for r in await _search(api, arbitration_status=["IN_PROGRESS"])] == [rid]
    ruled = await api.control("POST", f"/returns/{rid}/arbitrate", {"for_buyer": False})
    assert (ruled["arbitration_status"], ruled["return_status"]) == ("SUPPORT_SELLER", "REJECT_RECEIVE_PACKAGE")
    assert await _search(api, arbitration_status=["IN_PROGRESS"]) == []


async def test_rejected_refund_arbitration_for_the_buyer_refunds(api: Client, scheduler: Scheduler) -> None:
    order = await _delivered(api, scheduler, units=1)
    rid = (await api.control("POST", f"/orders/{order['id']}/returns", {}))["return_id"]
    ok = await _decide(api, rid, "reject", "r1", decision="REJECT_REFUND",
                       reject_reason="seller_reject_refund_reason_no_evidence")
    assert ok["code"] == 0
    assert (await _one(api, rid))["return_status"] == "RETURN_OR_REFUND_REQUEST_REJECT"
    await api.control("POST", f"/returns/{rid}/escalate")
    await api.control("POST", f"/returns/{rid}/arbitrate", {"for_buyer": True})
    await _settle(api, scheduler)
    record = await _one(api, rid)
    assert (record["arbitration_status"], record["return_status"]) == (
        "SUPPORT_BUYER", "RETURN_OR_REFUND_REQUEST_COMPLETE")


async def test_partial_refund_offer_declined_then_accepted(api: Client, scheduler: Scheduler) -> None:
    order = await _delivered(api, scheduler, units=1)
    rid = (await api.control("POST", f"/orders/{order['id']}/returns", {}))["return_id"]
    too_much = await _decide(api, rid, "approve", "o0", decision="OFFER_PARTIAL_REFUND",
                             partial_refund={"currency": "USD", "amount": "999.00"})
    assert too_much["code"] == 36009004
    await _decide(api, rid, "approve", "o1", decision="OFFER_PARTIAL_REFUND",
                  partial_refund={"currency": "USD", "amount": "5.00"})
    offered = await _one(api, rid)
    assert offered["return_status"] == "AWAITING_BUYER_RESPONSE"
    assert offered["seller_proposed_return_type"] == "PARTIAL_REFUND"
    assert offered["partial_refund"]["amount"] == "5.00"
    assert [r["return_id"] for r in await _search(api, seller_proposed_return_type=["PARTIAL_REFUND"])] == [rid]
    declined = await api.control("POST", f"/returns/{rid}/offer", {"accept": False})
    assert declined["return_status"] == "RETURN_OR_REFUND_REQUEST_PENDING"
    assert declined["buyer_rejected_partial_refund"] is True
    await _decide(api, rid, "approve", "o2", decision="OFFER_PARTIAL_REFUND",
                  partial_refund={"currency": "USD", "amount": "4.00"})
    await api.control("POST", f"/returns/{rid}/offer", {"accept": True})
    await _settle(api, scheduler)
    record = await _one(api, rid)
    assert record["return_status"] == "RETURN_OR_REFUND_REQUEST_COMPLETE"
    assert record["refund_amount"]["refund_total"] == "4.00"
    assert record["can_buyer_keep_item"] is True
    assert (await api.detail(order["id"]))["status"] == "DELIVERED"  # a partial refund keeps the order


async def test_edit_makes_a_new_return_id(api: Client, scheduler: Scheduler) -> None:
    order = await _delivered(api, scheduler)
    first = order["line_items"][0]["id"]
    rid = (await api.control("POST", f"/orders/{order['id']}/returns",
                             {"order_line_item_ids": [first]}))["return_id"]
    new = await api.control("POST", f"/returns/{rid}/edit", {"return_type": "RETURN_AND_REFUND"})
    assert new["return_id"] != rid
    assert new["pre_return_id"] == rid
    old = await _one(api, rid)
    assert (old["return_status"], old["next_return_id"]) == ("RETURN_OR_REFUND_REQUEST_CANCEL", new["return_id"])
    api.clock.advance(timedelta(hours=48))  # the old deadline is void; the new one approves
    await scheduler.run_due()
    assert (await _one(api, new["return_id"]))["return_status"] == "AWAITING_BUYER_SHIP"


async def test_replacement_places_a_new_order(api: Client, scheduler: Scheduler) -> None:
    order = await _delivered(api, scheduler, units=1)
    rid = (await api.control("POST", f"/orders/{order['id']}/returns",
                             {"return_type": "REPLACEMENT"}))["return_id"]
    pending = await _one(api, rid)
    assert pending["return_status"] == "REPLACEMENT_REQUEST_PENDING"
    assert _cents(pending["refund_amount"]["refund_shipping_fee"]) == 0
    assert (await _decide(api, rid, "approve", "p", decision="APPROVE_REPLACEMENT"))["code"] == 0
    done = await _one(api, rid)
    assert done["return_status"] == "REPLACEMENT_REQUEST_COMPLETE"
    new = await api.detail(done["replacement_order_id"])
    assert new["is_replacement_order"] is True
    assert new["replaced_order_id"] == order["id"]
    assert _cents(new["payment"]["total_amount"]) == 0


async def test_replacement_refunded_instead(api: Client, scheduler: Scheduler) -> None:
    order = await _delivered(api, scheduler, units=1)
    rid = (await api.control("POST", f"/orders/{order['id']}/returns",
                             {"return_type": "REPLACEMENT"}))["return_id"]
    await _decide(api, rid, "approve", "p", decision="ISSUE_REPLACEMENT_REFUND")
    record = await _one(api, rid)
    assert record["return_status"] == "REPLACEMENT_REQUEST_REFUND_SUCCESS"
    assert record["refund_amount"]["refund_total"] == order["payment"]["total_amount"]


async def test_errors_unknown_return_missing_key_and_bad_state(api: Client, scheduler: Scheduler) -> None:
    assert (await _decide(api, "403600000000000000", "approve", "k", decision="APPROVE_REFUND"))["code"] == 25002001
    order = await _delivered(api, scheduler, units=1)
    rid = (await api.control("POST", f"/orders/{order['id']}/returns", {}))["return_id"]
    resp = await api.call("POST", f"/return_refund/202309/returns/{rid}/approve",
                          body={"decision": "APPROVE_REFUND"})
    assert resp.json()["code"] == 36009004  # idempotency_key is required
    assert (await _decide(api, rid, "approve", "x", decision="MAYBE"))["code"] == 36009004
    assert (await _decide(api, rid, "reject", "y", decision="REJECT_RECEIVED_PACKAGE",
                          reject_reason="seller_reject_package_reason_wrong_item"))["code"] == 25002002
    again = await api.http.post(f"http://tiktok.test/_control/tiktok/orders/{order['id']}/returns", json={})
    assert again.status_code == 409  # every unit is already in a request


async def test_webhook_12_spells_reject_both_ways(api: Client, scheduler: Scheduler,
                                                  received: list[httpx.Request]) -> None:
    await api.ok("PUT", "/event/202309/webhooks",
                 body={"address": "https://hooks.test/tiktok", "event_type": "RETURN_STATUS_CHANGE"})
    order = await _delivered(api, scheduler, units=1)
    rid = (await api.control("POST", f"/orders/{order['id']}/returns", {}))["return_id"]
    await _decide(api, rid, "reject", "r", decision="REJECT_REFUND",
                  reject_reason="seller_reject_refund_reason_no_evidence")
    await scheduler.run_due()
    hooks = [json.loads(r.content) for r in received]
    statuses = [h["data"]["return_status"] for h in hooks if h["type"] == 12]
    assert statuses == ["RETURN_OR_REFUND_REQUEST_PENDING", "REFUND_OR_RETURN_REQUEST_REJECT"]
    assert hooks[-1]["data"]["return_id"] == rid
    assert (await _one(api, rid))["return_status"] == "RETURN_OR_REFUND_REQUEST_REJECT"
