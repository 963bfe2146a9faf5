"""Shopify signs only a webhook's body: its headers (topic, shop domain, event id) are not
covered, so a genuine body replayed under another topic or shop must not be acted on.

``shopify_problem(topic, payload, shop_domain)`` says what is wrong with a verified
delivery, or None: the shop named in the payload (where the topic carries one) must be the
header's, and the destructive topics must carry the shape Shopify documents for them
(``app/uninstalled``: the Shop, with ``myshopify_domain``; ``shop/redact``: ``shop_id`` and
``shop_domain``; ``customers/*``: ``shop_domain``, ``customer`` and the list of orders).
An order body (``admin_graphql_api_id`` of an Order, ``line_items``) never passes for one
of them. What is refused is stored and answered 400, like any delivery we cannot read.
"""

from __future__ import annotations

from typing import Any, Final

__all__ = ["shopify_problem"]

_DOMAIN_KEYS: Final = ("myshopify_domain", "shop_domain")
_ORDER_MARKERS: Final = ("admin_graphql_api_id", "line_items", "order_number")
# topic -> (keys it must carry, which of them must be a list, which a dict)
_SHAPES: Final[dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]]] = {
    "app/uninstalled": (("id", "myshopify_domain"), (), ()),
    "shop/redact": (("shop_id", "shop_domain"), (), ()),
    "customers/redact": (("shop_domain", "customer", "orders_to_redact"), ("orders_to_redact",), ("customer",)),
    "customers/data_request": (("shop_domain", "customer", "orders_requested"), ("orders_requested",),
                               ("customer",)),
}


def shopify_problem(topic: str, payload: dict[str, Any], shop_domain: str) -> str | None:
    """Why a verified Shopify delivery must not be acted on, or None."""
    header = shop_domain.strip().lower()
    for key in _DOMAIN_KEYS:
        named = payload.get(key)
        if named is not None and (not isinstance(named, str) or named.strip().lower() != header):
            return f"payload {key} {str(named)[:100]!r} is not the header's shop {shop_domain!r}"
    shape = _SHAPES.get(topic)
    if shape is None:
        return None
    required, lists, dicts = shape
    missing = [k for k in required if payload.get(k) in (None, "")]
    if missing:
        return f"{topic} payload without {', '.join(missing)}: not a {topic} body"
    if any(not isinstance(payload[k], list) for k in lists) or any(not isinstance(payload[k], dict) for k in dicts):
        return f"{topic} payload of the wrong shape"
    if any(k in payload for k in _ORDER_MARKERS):
        return f"an order body delivered as {topic}"
    return None
