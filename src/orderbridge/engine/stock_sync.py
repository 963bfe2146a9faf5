"""Full reconciliation of TikTok's stock with Shopify's: ``orderbridge stock diff`` / ``sync``.

TikTok's side is read with Search Products (100 products a page, each SKU's stock per
warehouse) in update-time windows: Search Products reaches only the first 10,000 results of
a query, so a window that matches more is halved until each half fits. Shopify's side is
read location by location, a page of 100 inventory items at a time (``location {
inventoryLevels }``), not one query per SKU. The expected number per SKU and warehouse is
``domain/stock_push.plan_sku`` with the units of TikTok orders the engine knows and has not
mirrored (orders it has not read yet are not known here; the pusher also asks TikTok).

``sync`` makes every SKU that disagrees due now and runs the pusher until none is left,
reporting each product done (the CLI's progress bar).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from orderbridge.adapters.db import Database, run_sync, transaction
from orderbridge.adapters.db import stock as stock_db
from orderbridge.adapters.db.connections import ConnectionRow
from orderbridge.adapters.shopify.models import Location
from orderbridge.adapters.shopify.models_stock import LocationStock
from orderbridge.adapters.tiktok import ProductFilter
from orderbridge.adapters.tiktok.models import ProductPage
from orderbridge.domain.stock_push import StockDiff, diff_stock, plan_sku, unmirrored_units
from orderbridge.engine.stock_config import stock_config
from orderbridge.engine.stock_push import StockPusher
from orderbridge.engine.stock_units import pending_units

__all__ = [
    "SEARCH_RESULT_CAP",
    "ShopifyCatalogueStock",
    "SkuDiff",
    "TikTokCatalogue",
    "read_shopify_stock",
    "read_tiktok_stock",
    "stock_diff",
    "stock_sync",
]

SEARCH_RESULT_CAP = 10_000  # Search Products pages through at most the first 10,000 results
PAGE_SIZE = 100
EPOCH = datetime(2016, 1, 1, tzinfo=UTC)  # before TikTok Shop existed
MIN_WINDOW = timedelta(seconds=1)


class ShopifyCatalogueStock(Protocol):
    async def locations(self, *, first: int = ..., priority: int = ...) -> list[Location]: ...
    def iter_location_levels(self, location_id: str, *, page_size: int = ...,
                             priority: int = ...) -> AsyncIterator[tuple[str, LocationStock]]: ...


class TikTokCatalogue(Protocol):
    async def search_products(self, filters: ProductFilter | None = None, *, page_size: int = ...,
                              page_token: str | None = None) -> ProductPage: ...


@dataclass(frozen=True, slots=True)
class SkuDiff:
    """A disagreement, with what a person needs to find the SKU."""

    diff: StockDiff
    product_id: str | None
    seller_sku: str | None

    def to_json(self) -> dict[str, Any]:
        return {"tiktok_sku_id": self.diff.sku_id, "seller_sku": self.seller_sku,
                "product_id": self.product_id, "warehouse_id": self.diff.warehouse_id or None,
                "expected": self.diff.expected, "tiktok": self.diff.tiktok, "delta": self.diff.delta}


async def _window(tiktok: TikTokCatalogue, start: datetime, end: datetime,
                  found: dict[str, dict[str, int]], pages: list[int]) -> None:
    filters = ProductFilter(update_time_ge=start, update_time_le=end)
    first = await tiktok.search_products(filters, page_size=PAGE_SIZE)
    pages[0] += 1
    if (first.total_count or 0) > SEARCH_RESULT_CAP and end - start > MIN_WINDOW:
        middle = start + (end - start) / 2
        await _window(tiktok, start, middle, found, pages)
        await _window(tiktok, middle + MIN_WINDOW, end, found, pages)
        return
    page = first
    while True:
        for product in page.products:
            for sku in product.skus:
                found[sku.id] = {i.warehouse_id: i.quantity or 0 for i in sku.inventory}
        if not page.next_page_token:
            return
        page = await tiktok.search_products(filters, page_size=PAGE_SIZE, page_token=page.next_page_token)
        pages[0] += 1


async def read_tiktok_stock(tiktok: TikTokCatalogue, now: datetime) -> tuple[dict[str, dict[str, int]], int]:
    """Every TikTok SKU's available units per warehouse, and the pages read."""
    found: dict[str, dict[str, int]] = {}
    pages = [0]
    await _window(tiktok, EPOCH, now, found, pages)
    return found, pages[0]


async def read_shopify_stock(shopify: ShopifyCatalogueStock) -> dict[str, dict[str, int]]:
    """Every inventory item's available units per location (GIDs), location by location,
    a page of items at a time."""
    found: dict[str, dict[str, int]] = {}
    for location in await shopify.locations():
        async for item, level in shopify.iter_location_levels(location.id):
            found.setdefault(item, {})[location.id] = level.available
    return found


async def stock_diff(db: Database, connection: ConnectionRow, tiktok: TikTokCatalogue,
                     shopify: ShopifyCatalogueStock, now: datetime) -> list[SkuDiff]:
    """Every linked SKU and warehouse whose TikTok number is not what Shopify's stock gives."""
    def load() -> tuple[list[stock_db.LinkedSku], list[stock_db.PendingOrder]]:
        with transaction(db, write=False) as conn:
            return stock_db.linked_skus(conn, connection.id), stock_db.pending_orders(conn, connection.id)

    linked, pending = await run_sync(db, load)
    config = stock_config(connection.policy)
    units = pending_units(pending)
    tiktok_stock, _pages = await read_tiktok_stock(tiktok, now)
    shopify_stock = await read_shopify_stock(shopify)
    expected: dict[str, tuple[tuple[str, int], ...]] = {}
    for sku in linked:
        if not sku.inventory_item_id:
            continue
        levels = shopify_stock.get(sku.inventory_item_id, {})
        unmirrored = unmirrored_units(units.unmirrored.get(sku.tiktok_sku_id, 0), None, 0)
        expected[sku.tiktok_sku_id] = plan_sku(levels, config.mapping, unmirrored, config.buffer)
    by_id = {s.tiktok_sku_id: s for s in linked}
    return [SkuDiff(d, by_id[d.sku_id].product_id, by_id[d.sku_id].seller_sku)
            for d in diff_stock(expected, tiktok_stock)]


async def stock_sync(db: Database, connection: ConnectionRow, tiktok: TikTokCatalogue,
                     shopify: ShopifyCatalogueStock,
                     pusher: StockPusher, now: datetime,
                     progress: Callable[[int, int], None] | None = None) -> tuple[list[SkuDiff], int]:
    """Push every SKU that disagrees; (the disagreements found, products pushed)."""
    diffs = await stock_diff(db, connection, tiktok, shopify, now)
    wanted = {d.diff.sku_id for d in diffs}

    def mark() -> int:
        with transaction(db) as conn:
            skus = [s for s in stock_db.linked_skus(conn, connection.id) if s.tiktok_sku_id in wanted]
            stock_db.mark_due(conn, skus, now=now, due=now)
            return len({s.product_id for s in skus})

    total = await run_sync(db, mark)
    done = 0
    if progress is not None:
        progress(done, total)
    while True:
        outcomes = await pusher.run_once()
        if not outcomes:
            break
        done += len(outcomes)
        if progress is not None:
            progress(min(done, total), total)
    return diffs, done
