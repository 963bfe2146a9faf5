"""TikTok Shop webhooks: signature verification and parsing.

Signature: the ``Authorization`` header is
``lowercase hex HMAC-SHA256(key=app_secret, msg=app_key + raw_body)``, with no ``Bearer``
prefix. Hash the raw bytes as received (never a re-serialised body) and compare in
constant time. Answer 200 (or 401 on a bad signature) with an empty body within 3 s;
TikTok retries 4 times, so deduplicate on ``tts_notification_id``, or, where a payload has
none (TikTok's own example of the address-change webhook, type 3, carries none), on a
digest of the body: a redelivery is the same bytes. Every field inside ``data`` is
optional to this parser; the accessors answer None for a missing or ill-typed one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from typing import Any

from orderbridge.clock import from_unix

__all__ = [
    "DIGEST_KEY_PREFIX",
    "MalformedWebhook",
    "WebhookEvent",
    "WebhookEventType",
    "parse_webhook",
    "verify_webhook",
    "webhook_signature",
]


class WebhookEventType(IntEnum):
    """Webhook ``type`` codes (numbers on the wire, hence IntEnum)."""

    ORDER_STATUS_CHANGE = 1  # data: order_id, order_status, is_on_hold_order, update_time
    RECIPIENT_ADDRESS_UPDATE = 3  # data: order_id, update_time
    PACKAGE_UPDATE = 4  # data: sc_type, role_type, package_list[], update_time
    PRODUCT_STATUS_CHANGE = 5  # data: product_id, status, suspended_reason, update_time
    SELLER_DEAUTHORIZATION = 6  # data: message
    UPCOMING_AUTHORIZATION_EXPIRATION = 7  # data: message, expiration_time (daily, 30 d ahead)
    CANCELLATION_STATUS_CHANGE = 11  # data: order_id, cancel_id, cancel_status, ...
    RETURN_STATUS_CHANGE = 12  # data: order_id, return_id, return_status, return_type, ...
    NEW_CONVERSATION = 13  # customer service: an agent joined or left a conversation
    NEW_MESSAGE = 14  # customer service: a new message in a conversation
    PRODUCT_INFORMATION_CHANGE = 15  # a product's title, description, images went live
    PRODUCT_CREATION = 16  # a product was created
    PRODUCT_CATEGORY_CHANGE = 18  # a product's category changed
    NEW_MESSAGE_LISTENER = 33  # a creator sent the seller a message
    INVOICE_STATUS_CHANGE = 36  # an uploaded invoice changed status
    PRODUCT_AUDIT_STATUS_CHANGE = 37  # a product's audit status changed


# Prefix of a de-duplication key made from the body (no tts_notification_id).
DIGEST_KEY_PREFIX = "sha256:"


class MalformedWebhook(ValueError):
    """The webhook body is not a TikTok notification."""


def webhook_signature(app_key: str, app_secret: str, raw_body: bytes) -> str:
    """The expected ``Authorization`` value for ``raw_body``."""
    message = app_key.encode("utf-8") + raw_body
    return hmac.new(app_secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify_webhook(
    app_key: str, app_secret: str, raw_body: bytes, authorization: str | None
) -> bool:
    """Whether ``authorization`` is TikTok's signature of ``raw_body`` (constant time)."""
    if not authorization:
        return False
    expected = webhook_signature(app_key, app_secret, raw_body).encode("ascii")
    # Bytes, not str: compare_digest refuses non-ASCII str, and a hostile header may be.
    given = authorization.strip().lower().encode("utf-8", errors="replace")
    return hmac.compare_digest(expected, given)


def _str_field(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """One notification. Unknown ``type`` codes are kept (``event_type`` is then None).

    ``tts_notification_id`` is None when the payload has none; ``dedupe_key`` is then the
    SHA-256 of the raw body.
    """

    type: int
    tts_notification_id: str | None
    shop_id: str
    timestamp: datetime
    body_digest: str
    data: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def dedupe_key(self) -> str:
        """What identifies this notification across TikTok's redeliveries."""
        return self.tts_notification_id or DIGEST_KEY_PREFIX + self.body_digest

    @property
    def event_type(self) -> WebhookEventType | None:
        try:
            return WebhookEventType(self.type)
        except ValueError:
            return None

    def _get(self, key: str) -> str | None:
        return _str_field(self.data.get(key))

    @property
    def order_id(self) -> str | None:
        return self._get("order_id")

    @property
    def order_status(self) -> str | None:
        """``CANCEL`` (the webhook spelling) is returned as ``CANCELLED``."""
        status = self._get("order_status")
        return "CANCELLED" if status == "CANCEL" else status

    @property
    def is_on_hold_order(self) -> bool | None:
        value = self.data.get("is_on_hold_order")
        return value if isinstance(value, bool) else None

    @property
    def cancel_id(self) -> str | None:
        return self._get("cancel_id")

    @property
    def cancel_status(self) -> str | None:
        return self._get("cancel_status")

    @property
    def return_id(self) -> str | None:
        return self._get("return_id")

    @property
    def return_status(self) -> str | None:
        return self._get("return_status")

    @property
    def update_time(self) -> datetime | None:
        value = self.data.get("update_time")
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return from_unix(value)
        return None


def parse_webhook(raw_body: bytes) -> WebhookEvent:
    """Parse a notification body; raise ``MalformedWebhook`` (a ValueError) if it is not
    one. Verify the signature first."""
    try:
        payload = json.loads(raw_body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedWebhook(f"webhook body is not valid JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise MalformedWebhook(f"webhook body is a JSON {type(payload).__name__}, not an object")
    kind = payload.get("type")
    if not isinstance(kind, int) or isinstance(kind, bool):
        raise MalformedWebhook(f"webhook 'type' must be an integer, got {kind!r}")
    notification_id = _str_field(payload.get("tts_notification_id")) or None
    shop_id = _str_field(payload.get("shop_id"))
    if shop_id is None:
        raise MalformedWebhook("webhook has no 'shop_id'")
    timestamp = payload.get("timestamp")
    if not isinstance(timestamp, int) or isinstance(timestamp, bool) or timestamp < 0:
        raise MalformedWebhook(f"webhook 'timestamp' must be Unix seconds, got {timestamp!r}")
    data = payload.get("data", {})
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise MalformedWebhook(f"webhook 'data' must be an object, got {type(data).__name__}")
    try:
        when = from_unix(timestamp)
    except (OverflowError, OSError, ValueError) as exc:
        raise MalformedWebhook(f"webhook 'timestamp' out of range: {timestamp!r}") from exc
    return WebhookEvent(
        type=kind,
        tts_notification_id=notification_id,
        shop_id=shop_id,
        timestamp=when,
        body_digest=hashlib.sha256(raw_body).hexdigest(),
        data=data,
        raw=payload,
    )
