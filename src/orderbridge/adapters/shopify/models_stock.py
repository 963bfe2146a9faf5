"""Typed stock of an inventory item (``inventoryItem.inventoryLevels``), per location.

Shopify's states: ``available`` (can be sold), ``committed`` (held by unfulfilled orders),
``on_hand`` (physically there: available + committed + other unavailable states).
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import Field

from orderbridge.adapters.shopify.models import ShopifyModel

__all__ = ["STOCK_QUANTITY_NAMES", "InventoryItemLevels", "LocationStock"]

STOCK_QUANTITY_NAMES = ("available", "committed", "on_hand")


class LocationStock(ShopifyModel):
    """One inventory level: the item's quantities at one location."""

    location_id: str
    location_name: str | None = None
    available: int = 0
    committed: int = 0
    on_hand: int = 0

    @classmethod
    def from_raw(cls, node: dict[str, Any]) -> Self:
        location = node.get("location") or {}
        quantities = {q.get("name"): q.get("quantity") for q in node.get("quantities") or []
                      if isinstance(q, dict)}
        return cls(location_id=str(location.get("id") or ""), location_name=location.get("name"),
                   **{n: int(quantities.get(n) or 0) for n in STOCK_QUANTITY_NAMES})


class InventoryItemLevels(ShopifyModel):
    """An inventory item with its levels at every location that stocks it."""

    id: str
    sku: str | None = None
    levels: list[LocationStock] = Field(default_factory=list)

    def at(self, location_ids: set[str]) -> list[LocationStock]:
        """The levels at the given locations (GIDs)."""
        return [level for level in self.levels if level.location_id in location_ids]
