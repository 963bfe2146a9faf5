"""Webhook subscriptions, envelope, signature and retry schedule."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import httpx

from orderbridge.sandbox.common.scheduler import Scheduler
from orderbridge.sandbox.tiktok.signing import webhook_signature

from .conftest import Client

DOC_BODY = (b'{"type":1,"tts_notification_id":"7380066284010030890","shop_id":"7495540735365777507",'
            b'"timestamp":1718305585,"data":{"is_on_hold_order":true,"order_id":"576653688135258178",'
            b'"order_status":"UNPAID","update_time":1718305585}}')
DOC_SIGNATURE = "5dec0f11ec2f6783b8deee53c9ffbf8d024302f7c7e7fa55a35d17629031ac05"


def test_webhook_signature_doc_vector() -> None:
    independent = hmac.new(b"123", b"abcdef" + DOC_BODY, hashlib.sha256).hexdigest()
    assert independent == DOC_SIGNATURE
    assert webhook_signature("abcdef", "123", DOC_BODY) == DOC_SIGNATURE


async def _subscribe(api: Client, event: str = "ORDER_STATUS_CHANGE") -> None:
    await api.ok("PUT", "/event/202309/webhooks", body={"address": "https://hooks.test/tiktok", "event_type": event})


async def test_subscribe_and_receive_signed_events(api: Client, scheduler: Scheduler,
                                                   received: list[httpx.Request]) -> None:
    await _subscribe(api)
    await _subscribe(api, "CANCELLATION_STATUS_CHANGE")
    listed = await api.ok("GET", "/event/202309/webhooks")
    assert {w["event_type"] for w in listed["webhooks"]} == {"ORDER_STATUS_CHANGE", "CANCELLATION_STATUS_CHANGE"}
    order = await api.order()
    await scheduler.run_due()
    bodies = [json.loads(r.content) for r in received]
    assert [b["data"]["order_status"] for b in bodies] == ["UNPAID", "ON_HOLD"]
    first = received[0]
    assert first.headers["content-type"] == "application/json"
    expected = hmac.new(api.secret.encode(), api.app_key.encode() + first.content, hashlib.sha256).hexdigest()
    assert first.headers["authorization"] == expected
    env = bodies[1]
    assert env["type"] == 1
    assert env["shop_id"] == api.shop["shop_id"]
    assert set(env["data"]) == {"order_id", "order_status", "is_on_hold_order", "update_time"}
    assert env["tts_notification_id"] != bodies[0]["tts_notification_id"]
    await api.control("POST", f"/orders/{order['id']}/buyer_cancel", {})
    await scheduler.run_due()
    envelopes = [json.loads(r.content) for r in received]
    assert 11 in [e["type"] for e in envelopes]
    statuses = [e["data"]["order_status"] for e in envelopes if e["type"] == 1]
    assert statuses[-1] == "CANCEL"  # the webhook doc's spelling of CANCELLED
    await api.ok("DELETE", "/event/202309/webhooks", body={"event_type": "ORDER_STATUS_CHANGE"})
    assert len((await api.ok("GET", "/event/202309/webhooks"))["webhooks"]) == 1
    deliveries = await api.control("GET", "/webhooks/deliveries")
    assert all(d["status"] == "delivered" for d in deliveries)


async def test_retry_schedule(api: Client, scheduler: Scheduler, received: list[httpx.Request],
                              webhook_status: list[int]) -> None:
    webhook_status[0] = 500
    await _subscribe(api)
    start = api.clock.now()
    await api.order(payment="pending")
    await scheduler.run_due()
    for gap in (2 * 60, 30 * 60, 3 * 3600, 12 * 3600):
        api.clock.advance(timedelta(seconds=gap))
        await scheduler.run_due()
    delivery = api.sandbox.dispatcher.deliveries[0]
    offsets = [(a.at - start).total_seconds() for a in delivery.attempts]
    assert offsets == [0, 120, 120 + 1800, 120 + 1800 + 10800, 120 + 1800 + 10800 + 43200]
    assert delivery.status.value == "failed"
    assert api.sandbox.dispatcher.timeout_seconds == 3.0
    assert len(received) == 5


async def test_address_change_webhook(api: Client, scheduler: Scheduler, received: list[httpx.Request]) -> None:
    await _subscribe(api, "RECIPIENT_ADDRESS_UPDATE")
    order = await api.order()
    changed = await api.control("POST", f"/orders/{order['id']}/address",
                                {"name": "Jordan Lee", "address_line1": "1 Infinite Loop",
                                 "city": "Cupertino", "postal_code": "95014"})
    assert changed["has_updated_recipient_address"] is True
    await scheduler.run_due()
    env = json.loads(received[-1].content)
    assert env["type"] == 3
    assert env["data"]["order_id"] == order["id"]


ADDRESS = {"name": "Jordan Lee", "phone_number": "(+1)4085550142", "address_line1": "1 Main St",
           "postal_code": "95110", "state": "California", "city": "San Jose"}


async def _settings(api: Client, mode: str) -> None:
    shop = await api.control("PATCH", f"/shops/{api.shop['shop_id']}/settings", {"webhook_optional_fields": mode})
    assert shop["webhook_optional_fields"] == mode


async def test_address_change_webhook_has_no_notification_id_as_documented(
        api: Client, scheduler: Scheduler, received: list[httpx.Request]) -> None:
    await _subscribe(api)
    await _subscribe(api, "RECIPIENT_ADDRESS_UPDATE")
    order = await api.order()
    await api.control("POST", f"/orders/{order['id']}/address", ADDRESS)
    await scheduler.run_due()
    bodies = [json.loads(r.content) for r in received]
    [address] = [b for b in bodies if b["type"] == 3]
    assert "tts_notification_id" not in address  # TikTok's example of type 3 has none
    assert address["data"]["order_id"] == order["id"]
    assert all("tts_notification_id" in b for b in bodies if b["type"] == 1)


async def test_optional_fields_all_present_and_all_omitted(
        api: Client, scheduler: Scheduler, received: list[httpx.Request]) -> None:
    await _subscribe(api)
    await _subscribe(api, "RECIPIENT_ADDRESS_UPDATE")
    await _settings(api, "all_present")
    order = await api.order()
    await api.control("POST", f"/orders/{order['id']}/address", ADDRESS)
    await scheduler.run_due()
    assert all("tts_notification_id" in json.loads(r.content) for r in received)
    received.clear()
    await _settings(api, "all_omitted")
    await api.control("POST", f"/orders/{order['id']}/address", ADDRESS)
    await scheduler.run_due()
    [body] = [json.loads(r.content) for r in received]
    assert "tts_notification_id" not in body
    assert body["data"] == {"order_id": order["id"]}


async def test_random_omission_varies_and_keeps_required_fields(
        api: Client, scheduler: Scheduler, received: list[httpx.Request]) -> None:
    await _subscribe(api)
    await _settings(api, "random")
    for _ in range(12):
        await api.order(payment="pending")
    await scheduler.run_due()
    bodies = [json.loads(r.content) for r in received]
    shapes = {(("tts_notification_id" in b), tuple(sorted(b["data"]))) for b in bodies}
    assert len(shapes) > 1
    assert all({"order_id", "order_status"} <= set(b["data"]) for b in bodies)
