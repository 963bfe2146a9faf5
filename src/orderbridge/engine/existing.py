"""Finding the Shopify order that already exists for a TikTok order (one way, two callers).

The executor's search after a create whose answer was lost (``find_ours``) and the backfill
that links orders made before OrderBridge ran (``find_existing``) ask Shopify the same
questions and pick by the same rules (``domain/existing.py``): the oldest of our marked
orders, else the oldest order another connector marked with the TikTok order id.
"""

from __future__ import annotations

from typing import Final

from orderbridge.adapters.shopify import ShopifyClient
from orderbridge.adapters.shopify.models import OrderSummary
from orderbridge.domain.existing import mentions, oldest_first, order_tag

__all__ = ["OTHER_CONNECTOR_TAGS", "find_existing", "find_ours"]

# Tags other connectors put on TikTok orders (SKU IQ), searched with the TikTok order id.
OTHER_CONNECTOR_TAGS: Final = ("skuiq", "tiktokpos")


async def find_ours(shopify: ShopifyClient, source_identifier: str, tag: str) -> list[OrderSummary]:
    """Every order carrying our marks (source identifier or tag), oldest first."""
    by_source = await shopify.find_orders_by_source_identifier(source_identifier)
    by_tag = await shopify.find_orders_by_tag(tag)
    return oldest_first((*by_source, *by_tag))


async def find_existing(shopify: ShopifyClient, tiktok_order_id: str) -> OrderSummary | None:
    """The order to link for ``tiktok_order_id``: ours if any, else another connector's."""
    ours = await find_ours(shopify, tiktok_order_id, order_tag(tiktok_order_id))
    if ours:
        return ours[0]
    for tag in OTHER_CONNECTOR_TAGS:
        found = await shopify.search_orders(f"tag:{tag} {tiktok_order_id}")
        theirs = oldest_first(s for s in found if mentions(s, tiktok_order_id))
        if theirs:
            return theirs[0]
    return None
