"""Shopify webhook deliveries: HMAC verification and header parsing.

Shopify signs the *raw* request body: ``X-Shopify-Hmac-Sha256`` is the base64 of
HMAC-SHA256(app client secret, raw body). Verify before parsing the JSON, compare in
constant time, and answer 401 when it fails. Header names are case-insensitive (HTTP/2
lowercases them).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["WebhookHeaders", "compute_webhook_hmac", "parse_webhook_headers", "verify_webhook"]

HEADER_TOPIC = "x-shopify-topic"
HEADER_HMAC = "x-shopify-hmac-sha256"
HEADER_SHOP_DOMAIN = "x-shopify-shop-domain"
HEADER_API_VERSION = "x-shopify-api-version"
HEADER_WEBHOOK_ID = "x-shopify-webhook-id"
HEADER_TRIGGERED_AT = "x-shopify-triggered-at"
HEADER_EVENT_ID = "x-shopify-event-id"
HEADER_NAME = "x-shopify-name"
REQUIRED_HEADERS = (HEADER_TOPIC, HEADER_SHOP_DOMAIN, HEADER_API_VERSION, HEADER_WEBHOOK_ID)


def _key(secret: str | bytes) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else secret


def compute_webhook_hmac(secret: str | bytes, raw_body: bytes) -> str:
    """The base64 HMAC-SHA256 Shopify puts in ``X-Shopify-Hmac-Sha256``."""
    return base64.b64encode(hmac.new(_key(secret), raw_body, hashlib.sha256).digest()).decode("ascii")


def verify_webhook(secret: str | bytes, raw_body: bytes, hmac_header: str | None) -> bool:
    """Whether ``hmac_header`` is the signature of ``raw_body`` under ``secret``.

    During a secret rotation Shopify may sign with the old secret for up to an hour: call
    this once per secret you still accept.
    """
    if not hmac_header or not _key(secret):
        return False
    expected = compute_webhook_hmac(secret, raw_body).encode("ascii")
    return hmac.compare_digest(expected, hmac_header.strip().encode("utf-8", "replace"))


@dataclass(frozen=True, slots=True)
class WebhookHeaders:
    """The Shopify headers of one delivery."""

    topic: str | None
    shop_domain: str | None
    webhook_id: str | None  # one per delivery
    event_id: str | None  # the same for every delivery of one merchant action
    triggered_at: datetime | None  # aware UTC; None when absent or unreadable
    api_version: str | None
    hmac: str | None
    name: str | None = None

    def missing(self) -> list[str]:
        """Required headers that are absent."""
        present = {
            HEADER_TOPIC: self.topic,
            HEADER_SHOP_DOMAIN: self.shop_domain,
            HEADER_API_VERSION: self.api_version,
            HEADER_WEBHOOK_ID: self.webhook_id,
        }
        return [h for h in REQUIRED_HEADERS if not present[h]]


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    # Python before 3.12 reads at most 6 fractional digits; Shopify may send 9.
    if "." in text:
        head, _, rest = text.partition(".")
        digits = "".join(ch for ch in rest if ch.isdigit())
        zone = rest[len(digits):]
        text = f"{head}.{digits[:6]}{zone}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_webhook_headers(headers: Mapping[str, str]) -> WebhookHeaders:
    """Read the Shopify headers (any letter case) of a webhook delivery."""
    lower = {k.lower(): v for k, v in headers.items()}

    def get(name: str) -> str | None:
        value = lower.get(name)
        return value.strip() if isinstance(value, str) and value.strip() else None

    shop = get(HEADER_SHOP_DOMAIN)
    return WebhookHeaders(
        topic=get(HEADER_TOPIC),
        shop_domain=shop.lower() if shop else None,
        webhook_id=get(HEADER_WEBHOOK_ID),
        event_id=get(HEADER_EVENT_ID),
        triggered_at=_parse_time(get(HEADER_TRIGGERED_AT)),
        api_version=get(HEADER_API_VERSION),
        hmac=get(HEADER_HMAC),
        name=get(HEADER_NAME),
    )
