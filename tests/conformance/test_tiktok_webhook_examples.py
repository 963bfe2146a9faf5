"""Every webhook type TikTok documents parses, with and without its optional fields.

References (one per type, cited in tests/data/tiktok_webhook_examples.json): the webhook
pages of https://partner.tiktokshop.com/docv2/page/<id>, e.g. the address change
https://partner.tiktokshop.com/docv2/page/650301af5a12ff0294ea3bf9 whose example has no
``tts_notification_id``.
"""

from __future__ import annotations

from typing import Any

import pytest

from orderbridge.adapters.tiktok import WebhookEventType, parse_webhook
from orderbridge.adapters.tiktok.webhooks import DIGEST_KEY_PREFIX
from tests.conformance.examples import WEBHOOKS, encode, variants

CASES = [
    pytest.param(spec, label, body, id=f"{spec['name']}-{label}")
    for spec in WEBHOOKS["types"] for label, body in variants(spec)
]


def test_every_documented_type_is_known_by_name() -> None:
    assert {(s["type"], s["name"]) for s in WEBHOOKS["types"]} == {(t.value, t.name) for t in WebhookEventType}


@pytest.mark.parametrize(("spec", "label", "body"), CASES)
def test_documented_example_parses(spec: dict[str, Any], label: str, body: dict[str, Any]) -> None:
    raw = encode(body)
    event = parse_webhook(raw)
    assert event.event_type is WebhookEventType(spec["type"])
    assert event.shop_id == body["shop_id"]
    assert event.data == body["data"]
    if spec["type"] in (1, 3, 11, 12):
        assert [event.order_id] == spec["orders"]
    notification = body.get("tts_notification_id")
    assert event.tts_notification_id == notification
    if notification is None:
        assert event.dedupe_key.startswith(DIGEST_KEY_PREFIX)
        assert parse_webhook(raw).dedupe_key == event.dedupe_key  # a redelivery: same key
        assert parse_webhook(raw + b" ").dedupe_key != event.dedupe_key
    else:
        assert event.dedupe_key == notification


def test_the_address_change_example_has_no_notification_id() -> None:
    [spec] = [s for s in WEBHOOKS["types"] if s["type"] == WebhookEventType.RECIPIENT_ADDRESS_UPDATE]
    assert "tts_notification_id" not in spec["example"]
    event = parse_webhook(encode(spec["example"]))
    assert event.order_id == spec["orders"][0]
    assert event.update_time is not None
