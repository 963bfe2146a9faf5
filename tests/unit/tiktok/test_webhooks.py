"""Webhook signature and parsing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from orderbridge.adapters.tiktok import (
    MalformedWebhook,
    WebhookEventType,
    parse_webhook,
    verify_webhook,
)

# tiktok-shop.md §5, attributed to the official webhook overview.
VECTOR_BODY = (
    b'{"type":1,"tts_notification_id":"7380066284010030890","shop_id":"7495540735365777507",'
    b'"timestamp":1718305585,"data":{"is_on_hold_order":true,"order_id":"576653688135258178",'
    b'"order_status":"UNPAID","update_time":1718305585}}'
)
VECTOR_SIGNATURE = "5dec0f11ec2f6783b8deee53c9ffbf8d024302f7c7e7fa55a35d17629031ac05"


def test_official_vector_verifies() -> None:
    assert verify_webhook("abcdef", "123", VECTOR_BODY, VECTOR_SIGNATURE)
    assert verify_webhook("abcdef", "123", VECTOR_BODY, VECTOR_SIGNATURE.upper())
    assert verify_webhook("abcdef", "123", VECTOR_BODY, f" {VECTOR_SIGNATURE}\n")


@pytest.mark.parametrize(
    ("app_key", "secret", "body", "header"),
    [
        ("abcdef", "123", VECTOR_BODY, None),
        ("abcdef", "123", VECTOR_BODY, ""),
        ("abcdef", "123", VECTOR_BODY, f"Bearer {VECTOR_SIGNATURE}"),
        ("abcdef", "124", VECTOR_BODY, VECTOR_SIGNATURE),
        ("abcdeg", "123", VECTOR_BODY, VECTOR_SIGNATURE),
        ("abcdef", "123", VECTOR_BODY + b" ", VECTOR_SIGNATURE),
        ("abcdef", "123", VECTOR_BODY, "é" * 64),  # non-ASCII must not raise
    ],
)
def test_bad_signatures_fail(app_key: str, secret: str, body: bytes, header: str | None) -> None:
    assert not verify_webhook(app_key, secret, body, header)


def test_parse_official_body() -> None:
    event = parse_webhook(VECTOR_BODY)
    assert event.type == 1
    assert event.event_type is WebhookEventType.ORDER_STATUS_CHANGE
    assert event.tts_notification_id == "7380066284010030890"
    assert event.shop_id == "7495540735365777507"
    assert event.timestamp == datetime(2024, 6, 13, 19, 6, 25, tzinfo=UTC)
    assert event.order_id == "576653688135258178"
    assert event.order_status == "UNPAID"
    assert event.is_on_hold_order is True
    assert event.update_time == event.timestamp
    assert event.cancel_id is None
    assert event.return_id is None
    assert event.raw["data"]["order_status"] == "UNPAID"


def test_cancellation_and_return_accessors() -> None:
    cancel = parse_webhook(
        b'{"type":11,"tts_notification_id":"n1","shop_id":"s","timestamp":1,'
        b'"data":{"order_id":"5","cancel_id":"c9","cancel_status":"CANCELLATION_REQUEST_PENDING"}}'
    )
    assert cancel.event_type is WebhookEventType.CANCELLATION_STATUS_CHANGE
    assert (cancel.order_id, cancel.cancel_id) == ("5", "c9")
    assert cancel.cancel_status == "CANCELLATION_REQUEST_PENDING"
    ret = parse_webhook(
        b'{"type":12,"tts_notification_id":"n2","shop_id":"s","timestamp":1,'
        b'"data":{"order_id":5,"return_id":"r1","return_status":"RETURN_OR_REFUND_REQUEST_PENDING"}}'
    )
    assert (ret.order_id, ret.return_id) == ("5", "r1")
    assert ret.return_status == "RETURN_OR_REFUND_REQUEST_PENDING"
    cancelled = parse_webhook(
        b'{"type":1,"tts_notification_id":"n3","shop_id":"s","timestamp":1,'
        b'"data":{"order_status":"CANCEL"}}'
    )
    assert cancelled.order_status == "CANCELLED"


def test_unknown_type_and_missing_data_are_allowed() -> None:
    event = parse_webhook(
        b'{"type":99,"tts_notification_id":123,"shop_id":"s","timestamp":1700000000}'
    )
    assert event.type == 99
    assert event.event_type is None
    assert event.tts_notification_id == "123"
    assert event.data == {}
    assert event.order_id is None


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"", "not valid JSON"),
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[1,2]", "not an object"),
        (b'{"tts_notification_id":"n","shop_id":"s","timestamp":1}', "'type'"),
        (b'{"type":"1","tts_notification_id":"n","shop_id":"s","timestamp":1}', "'type'"),
        (b'{"type":true,"tts_notification_id":"n","shop_id":"s","timestamp":1}', "'type'"),
        (b'{"type":1,"tts_notification_id":"n","timestamp":1}', "shop_id"),
        (b'{"type":1,"tts_notification_id":"n","shop_id":"s"}', "timestamp"),
        (b'{"type":1,"tts_notification_id":"n","shop_id":"s","timestamp":"x"}', "timestamp"),
        (b'{"type":1,"tts_notification_id":"n","shop_id":"s","timestamp":1e400}', "timestamp"),
        (
            b'{"type":1,"tts_notification_id":"n","shop_id":"s","timestamp":99999999999999999}',
            "out of range",
        ),
        (b'{"type":1,"tts_notification_id":"n","shop_id":"s","timestamp":1,"data":[]}', "'data'"),
    ],
)
def test_malformed_webhooks(body: bytes, fragment: str) -> None:
    with pytest.raises(MalformedWebhook, match=fragment) as caught:
        parse_webhook(body)
    assert isinstance(caught.value, ValueError)
