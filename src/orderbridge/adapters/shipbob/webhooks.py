"""ShipBob webhooks: Standard Webhooks signature verification and parsing.

ShipBob signs each delivery with ``webhook-id``, ``webhook-timestamp`` (Unix seconds) and
``webhook-signature`` (space-separated ``v1,<base64>`` entries), each an HMAC-SHA256 over
``"{id}.{timestamp}.{raw body}"`` keyed with the base64-decoded secret after ``whsec_``.
A delivery passes when one entry matches (compared in constant time) and its timestamp is
within ``tolerance`` of now either way (a replay of an old delivery fails).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from orderbridge.clock import as_utc
from orderbridge.errors import AuthError, ConfigurationError, Rejected

__all__ = ["DEFAULT_TOLERANCE_SECONDS", "ShipBobWebhook", "parse_webhook", "signing_key", "verify_webhook"]

DEFAULT_TOLERANCE_SECONDS = 300.0  # the Standard Webhooks recommendation
API_NAME = "shipbob"


def signing_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_...`` secret."""
    try:
        return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigurationError("a ShipBob webhook secret is whsec_ followed by base64") from None


def _refuse(message: str) -> AuthError:
    return AuthError(f"ShipBob webhook refused: {message}", api=API_NAME, operation="webhook")


def verify_webhook(secret: str, headers: Mapping[str, str], body: bytes, now: datetime,
                   tolerance: float = DEFAULT_TOLERANCE_SECONDS) -> None:
    """Raise ``AuthError`` unless the delivery is signed with ``secret`` and fresh."""
    lower = {k.lower(): v for k, v in headers.items()}
    msg_id, stamp, signatures = (lower.get("webhook-id"), lower.get("webhook-timestamp"),
                                 lower.get("webhook-signature"))
    if not msg_id or not stamp or not signatures:
        raise _refuse("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        sent = int(stamp)
    except ValueError:
        raise _refuse("webhook-timestamp is not Unix seconds") from None
    if abs(as_utc(now).timestamp() - sent) > tolerance:
        raise _refuse("webhook-timestamp is outside the tolerance (replayed or clock skew)")
    expected = hmac.new(signing_key(secret), f"{msg_id}.{sent}.".encode() + body, hashlib.sha256).digest()
    for entry in signatures.split():
        version, _, value = entry.partition(",")
        if version != "v1":
            continue
        try:
            given = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            continue
        if hmac.compare_digest(given, expected):
            return
    raise _refuse("no signature matches")


@dataclass(frozen=True, slots=True)
class ShipBobWebhook:
    """A verified delivery: id, topic, send time and the JSON payload (Order or Shipment)."""

    id: str
    topic: str
    timestamp: int
    payload: dict[str, Any]


def parse_webhook(headers: Mapping[str, str], body: bytes) -> ShipBobWebhook:
    """Parse a delivery (verify it first); ``Rejected`` when the body is not a JSON object."""
    lower = {k.lower(): v for k, v in headers.items()}
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise Rejected("ShipBob webhook body is not a JSON object", api=API_NAME, operation="webhook")
    stamp = lower.get("webhook-timestamp", "")
    return ShipBobWebhook(lower.get("webhook-id", ""), lower.get("x-webhook-topic", ""),
                          int(stamp) if stamp.isdigit() else 0, payload)
