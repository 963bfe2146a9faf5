"""Webhook HMAC verification and header parsing."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from orderbridge.adapters.shopify.webhooks import parse_webhook_headers, verify_webhook

# RFC 4231, test case 2: HMAC-SHA256(key="Jefe", data="what do ya want for nothing?").
RFC4231_KEY = "Jefe"
RFC4231_DATA = b"what do ya want for nothing?"
RFC4231_HEX = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
RFC4231_BASE64 = "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM="


def test_the_vector_is_what_the_rfc_says() -> None:
    assert base64.b64encode(bytes.fromhex(RFC4231_HEX)).decode() == RFC4231_BASE64


def test_verify_accepts_the_known_signature() -> None:
    assert verify_webhook(RFC4231_KEY, RFC4231_DATA, RFC4231_BASE64)
    assert verify_webhook(RFC4231_KEY.encode(), RFC4231_DATA, f" {RFC4231_BASE64}\n")


def test_verify_rejects_anything_else() -> None:
    assert not verify_webhook(RFC4231_KEY, RFC4231_DATA + b" ", RFC4231_BASE64)  # body changed
    assert not verify_webhook("Jeff", RFC4231_DATA, RFC4231_BASE64)  # other secret
    assert not verify_webhook(RFC4231_KEY, RFC4231_DATA, RFC4231_HEX)  # hex, not base64
    assert not verify_webhook(RFC4231_KEY, RFC4231_DATA, None)
    assert not verify_webhook(RFC4231_KEY, RFC4231_DATA, "")
    assert not verify_webhook("", RFC4231_DATA, RFC4231_BASE64)
    assert not verify_webhook(RFC4231_KEY, RFC4231_DATA, "Ünïcode")


def test_headers_are_read_case_insensitively() -> None:
    headers = {
        "x-shopify-topic": "orders/updated",
        "X-SHOPIFY-SHOP-DOMAIN": "Example.myshopify.com",
        "X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        "x-shopify-event-id": "98880550-7158-44d4-b7cd-2c97c8a091b5",
        "X-Shopify-Triggered-At": "2026-01-05T17:00:01.123456789Z",
        "X-Shopify-API-Version": "2026-10",
        "X-Shopify-Hmac-Sha256": RFC4231_BASE64,
        "X-Shopify-Name": "orderbridge",
    }
    parsed = parse_webhook_headers(headers)
    assert parsed.topic == "orders/updated"
    assert parsed.shop_domain == "example.myshopify.com"
    assert parsed.webhook_id == "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
    assert parsed.event_id == "98880550-7158-44d4-b7cd-2c97c8a091b5"
    assert parsed.triggered_at == datetime(2026, 1, 5, 17, 0, 1, 123456, tzinfo=UTC)
    assert parsed.api_version == "2026-10"
    assert parsed.hmac == RFC4231_BASE64
    assert parsed.name == "orderbridge"
    assert parsed.missing() == []


def test_offsets_and_missing_headers() -> None:
    parsed = parse_webhook_headers({"X-Shopify-Triggered-At": "2026-01-05T12:00:00-05:00", "X-Shopify-Topic": " "})
    assert parsed.triggered_at == datetime(2026, 1, 5, 17, 0, tzinfo=UTC)
    assert parsed.topic is None
    assert parsed.missing() == [
        "x-shopify-topic", "x-shopify-shop-domain", "x-shopify-api-version", "x-shopify-webhook-id",
    ]
    assert parse_webhook_headers({"x-shopify-triggered-at": "yesterday"}).triggered_at is None
