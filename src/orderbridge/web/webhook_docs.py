"""What the webhook receivers take, for the OpenAPI document (``app.py``).

The receivers read the raw body themselves (signatures are over bytes), so FastAPI cannot
infer it: these ``openapi_extra`` entries describe the vendors' envelopes and headers, for
readers of ``/docs`` and for the fuzz test, which sends signed bodies of these shapes.
"""

from __future__ import annotations

from typing import Any, Final

__all__ = ["SHOPIFY_WEBHOOK", "TIKTOK_WEBHOOK"]


def _json_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _header(name: str, description: str, **schema: Any) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": False, "description": description,
            "schema": {"type": "string", **schema}}


TIKTOK_WEBHOOK: Final[dict[str, Any]] = {
    "requestBody": _json_body({
        "type": "object",
        "description": "TikTok Shop's envelope; `Authorization` carries the hex HMAC-SHA256 of "
                       "app key + body under the app secret.",
        "required": ["type", "tts_notification_id", "shop_id", "timestamp"],
        "properties": {
            "type": {"type": "integer", "description": "event type (1 order status, 6 deauthorisation, …)"},
            "tts_notification_id": {"type": "string"},
            "shop_id": {"type": "string"},
            "timestamp": {"type": "integer", "minimum": 0, "description": "Unix seconds"},
            "data": {"type": "object"},
        },
    }),
}

SHOPIFY_WEBHOOK: Final[dict[str, Any]] = {
    "parameters": [
        _header("X-Shopify-Topic", "e.g. orders/updated, app/uninstalled, shop/redact"),
        _header("X-Shopify-Shop-Domain", "the store, *.myshopify.com"),
        _header("X-Shopify-Event-Id", "de-duplication key"),
        _header("X-Shopify-Webhook-Id", "de-duplication key when there is no event id"),
        _header("X-Shopify-Triggered-At", "when the event happened"),
    ],
    "requestBody": _json_body({
        "type": "object",
        "description": "The topic's payload; `X-Shopify-Hmac-Sha256` carries the base64 HMAC-SHA256 "
                       "of the body under the client secret (the headers are not signed).",
    }),
}
