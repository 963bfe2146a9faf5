"""Product variants (SKU linking) and webhook subscriptions of the Shopify client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from orderbridge.adapters.shopify import ops_catalog as ops
from orderbridge.adapters.shopify.api_orders import search_term
from orderbridge.adapters.shopify.models import Variant, WebhookSubscription
from orderbridge.adapters.shopify.models_stock import InventoryItemLevels, LocationStock
from orderbridge.adapters.shopify.throttle import Priority
from orderbridge.adapters.shopify.transport import API_NAME, ShopifyTransport
from orderbridge.errors import Rejected

__all__ = ["DEFAULT_PAGE_SIZE", "CatalogApi"]

DEFAULT_PAGE_SIZE = 100
DEFAULT_SKU_SEARCH_FIRST = 10
MAX_LEVELS = 50  # locations read per inventory item (a store has few)
WEBHOOK_FORMAT_JSON = "JSON"


def _page(payload: Any) -> tuple[list[dict[str, Any]], str | None]:
    """Nodes of a connection and the cursor of the next page (None on the last page)."""
    if not isinstance(payload, dict):
        return [], None
    nodes = [n for n in payload.get("nodes") or [] if isinstance(n, dict)]
    raw_info = payload.get("pageInfo")
    info: dict[str, Any] = raw_info if isinstance(raw_info, dict) else {}
    cursor = info.get("endCursor") if info.get("hasNextPage") else None
    return nodes, cursor if isinstance(cursor, str) and cursor else None


class CatalogApi(ShopifyTransport):
    """Variants and webhook subscriptions."""

    async def find_variants_by_sku(
        self, sku: str, *, first: int = DEFAULT_SKU_SEARCH_FIRST, priority: int = Priority.READ
    ) -> list[Variant]:
        """Variants whose SKU equals ``sku`` exactly (trimmed, case-sensitive).

        Shopify's search is looser than that (tokens, case); the filter here keeps exact
        matches, so two results mean an ambiguous SKU, never "take the first".
        """
        wanted = sku.strip()
        variables = {"first": first, "query": search_term("sku", wanted)}
        result = await self.execute(ops.PRODUCT_VARIANTS, variables, priority=priority)
        nodes, _ = _page(result.payload)
        variants = [Variant.model_validate(n) for n in nodes]
        return [v for v in variants if (v.sku or "").strip() == wanted]

    async def iter_variants(
        self, *, query: str | None = None, page_size: int = DEFAULT_PAGE_SIZE, priority: int = Priority.COSMETIC
    ) -> AsyncIterator[Variant]:
        """Every variant (optionally matching ``query``), page by page."""
        cursor: str | None = None
        while True:
            variables: dict[str, Any] = {"first": page_size}
            if cursor:
                variables["after"] = cursor
            if query:
                variables["query"] = query
            result = await self.execute(ops.PRODUCT_VARIANTS, variables, priority=priority)
            nodes, cursor = _page(result.payload)
            for node in nodes:
                yield Variant.model_validate(node)
            if cursor is None:
                return

    async def inventory_item_levels(
        self, inventory_item_id: str, *, priority: int = Priority.READ
    ) -> InventoryItemLevels | None:
        """An inventory item's available / committed / on-hand units per location (None if unknown)."""
        result = await self.execute(ops.INVENTORY_ITEM_LEVELS, {"id": inventory_item_id, "first": MAX_LEVELS},
                                    priority=priority)
        item = result.payload if isinstance(result.payload, dict) else None
        if not item:
            return None
        nodes, _ = _page(item.get("inventoryLevels"))
        return InventoryItemLevels(id=str(item.get("id") or inventory_item_id), sku=item.get("sku"),
                                   levels=[LocationStock.from_raw(n) for n in nodes])

    async def iter_location_levels(
        self, location_id: str, *, page_size: int = DEFAULT_PAGE_SIZE, priority: int = Priority.RECHECK
    ) -> AsyncIterator[tuple[str, LocationStock]]:
        """Every inventory item's stock at one location, page by page: (item GID, level)."""
        cursor: str | None = None
        while True:
            variables: dict[str, Any] = {"id": location_id, "first": page_size}
            if cursor:
                variables["after"] = cursor
            result = await self.execute(ops.LOCATION_LEVELS, variables, priority=priority)
            location = result.payload if isinstance(result.payload, dict) else {}
            nodes, cursor = _page(location.get("inventoryLevels"))
            for node in nodes:
                item = node.get("item") if isinstance(node.get("item"), dict) else {}
                item_id = str((item or {}).get("id") or "")
                if item_id:
                    yield item_id, LocationStock.from_raw({**node, "location": {"id": location_id}})
            if cursor is None:
                return

    async def create_webhook_subscription(
        self,
        topic: str,
        uri: str,
        *,
        include_fields: Sequence[str] = (),
        filter: str | None = None,
        priority: int = Priority.COSMETIC,
    ) -> WebhookSubscription:
        """``webhookSubscriptionCreate`` (JSON format) for ``topic`` (e.g. ``ORDERS_UPDATED``).

        An existing identical subscription comes back as ``UserErrors`` with
        ``already_done`` true.
        """
        subscription: dict[str, Any] = {"uri": uri, "format": WEBHOOK_FORMAT_JSON}
        if include_fields:
            subscription["includeFields"] = list(include_fields)
        if filter:
            subscription["filter"] = filter
        variables = {"topic": topic, "webhookSubscription": subscription}
        result = await self.execute(ops.WEBHOOK_SUBSCRIPTION_CREATE, variables, priority=priority)
        created = result.payload.get("webhookSubscription") if isinstance(result.payload, dict) else None
        if not isinstance(created, dict):
            raise Rejected("webhookSubscriptionCreate returned no subscription", api=API_NAME,
                           operation=ops.WEBHOOK_SUBSCRIPTION_CREATE.name)
        return WebhookSubscription.from_raw(created)

    async def list_webhook_subscriptions(
        self, *, page_size: int = DEFAULT_PAGE_SIZE, priority: int = Priority.READ
    ) -> list[WebhookSubscription]:
        """All webhook subscriptions of this app on the store."""
        found: list[WebhookSubscription] = []
        cursor: str | None = None
        while True:
            variables: dict[str, Any] = {"first": page_size}
            if cursor:
                variables["after"] = cursor
            result = await self.execute(ops.WEBHOOK_SUBSCRIPTIONS, variables, priority=priority)
            nodes, cursor = _page(result.payload)
            found.extend(WebhookSubscription.from_raw(n) for n in nodes)
            if cursor is None:
                return found
