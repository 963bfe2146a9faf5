"""Product and webhook-subscription endpoints of ``TikTokClient`` (kept apart for size)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from orderbridge.adapters.tiktok._core import ClientCore, check_page_size, paginate
from orderbridge.adapters.tiktok.inputs import ProductFilter, SkuInventoryUpdate, SkuWarehouseStock
from orderbridge.adapters.tiktok.models import (
    Product,
    ProductPage,
    ProductStock,
    WebhookSubscription,
)
from orderbridge.adapters.tiktok.webhooks import WebhookEventType
from orderbridge.domain.stock_push import SkuError

__all__ = ["MAX_PRODUCT_PAGE_SIZE", "MAX_WEBHOOK_ADDRESS_LENGTH", "CatalogEndpoints"]

MAX_PRODUCT_PAGE_SIZE = 100
MAX_WEBHOOK_ADDRESS_LENGTH = 255


def _event_name(event_type: WebhookEventType | int | str) -> str:
    # The webhook API names events (ORDER_STATUS_CHANGE), while payloads number them.
    if isinstance(event_type, str):
        return event_type
    return WebhookEventType(event_type).name


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def sku_errors(data: dict[str, Any]) -> list[SkuError]:
    """The per-SKU errors of an Update Inventory answer (``data.errors``)."""
    found: list[SkuError] = []
    for err in data.get("errors") or []:
        if not isinstance(err, dict):
            continue
        raw_detail = err.get("detail")
        detail: dict[str, Any] = raw_detail if isinstance(raw_detail, dict) else {}
        sku_id = str(detail.get("sku_id") or "")
        extra = [e for e in detail.get("extra_errors") or [] if isinstance(e, dict)]
        if not extra:
            found.append(SkuError(sku_id, _int(err.get("code")), str(err.get("message") or "")))
        for e in extra:
            found.append(SkuError(sku_id, _int(e.get("code") or err.get("code")),
                                  str(e.get("message") or err.get("message") or ""),
                                  str(e.get("warehouse_id") or "")))
    return found


class CatalogEndpoints(ClientCore):
    """Products (search, inventory) and the shop's webhook subscriptions."""

    # -- products --------------------------------------------------------------------

    async def search_products(
        self,
        filters: ProductFilter | None = None,
        *,
        page_size: int = MAX_PRODUCT_PAGE_SIZE,
        page_token: str | None = None,
    ) -> ProductPage:
        """One page of Search Products (with their SKUs and inventory)."""
        check_page_size(page_size, MAX_PRODUCT_PAGE_SIZE)
        data = await self._call(
            "products.search",
            "POST",
            "/product/{version}/products/search",
            idempotent=True,
            query={"page_size": page_size, "page_token": page_token or None},
            body=(filters or ProductFilter()).to_body(),
        )
        return ProductPage.model_validate(data)

    def iter_products(
        self, filters: ProductFilter | None = None, *, page_size: int = MAX_PRODUCT_PAGE_SIZE
    ) -> AsyncIterator[Product]:
        """Every product matching ``filters``."""

        async def fetch(token: str | None) -> tuple[list[Product], str]:
            page = await self.search_products(filters, page_size=page_size, page_token=token)
            return page.products, page.next_page_token

        return paginate(fetch, "products.search")

    async def update_inventory(
        self, product_id: str, skus: Sequence[SkuInventoryUpdate | SkuWarehouseStock]
    ) -> list[SkuError]:
        """Set absolute available quantities (idempotent, so retried freely).

        TikTok may answer ``code: 0`` and still refuse some SKUs: ``data.errors`` lists them
        (``{code, message, detail: {sku_id, extra_errors: [{warehouse_id, code, message}]}}``).
        They come back as domain ``SkuError``s (one per warehouse when TikTok names them).
        """
        if not skus:
            raise ValueError("no SKUs to update")
        data = await self._call(
            "products.update_inventory",
            "POST",
            "/product/{version}/products/{product_id}/inventory/update",
            idempotent=True,
            path_params={"product_id": product_id},
            body={"skus": [s.to_json() for s in skus]},
        )
        return sku_errors(data)

    async def search_inventory(
        self,
        *,
        product_ids: Sequence[str] | None = None,
        sku_ids: Sequence[str] | None = None,
    ) -> list[ProductStock]:
        """Inventory Search: available and committed units per SKU and warehouse."""
        if not product_ids and not sku_ids:
            raise ValueError("give product_ids or sku_ids")
        body: dict[str, list[str]] = {}
        if product_ids:
            body["product_ids"] = list(product_ids)
        if sku_ids:
            body["sku_ids"] = list(sku_ids)
        data = await self._call(
            "products.inventory_search",
            "POST",
            "/product/{version}/inventory/search",
            idempotent=True,
            body=body,
        )
        return [ProductStock.model_validate(p) for p in data.get("inventory") or []]

    # -- webhooks --------------------------------------------------------------------

    async def get_webhooks(self) -> list[WebhookSubscription]:
        """The shop's webhook subscriptions."""
        data = await self._call("webhooks.list", "GET", "/event/{version}/webhooks", idempotent=True)
        return [WebhookSubscription.model_validate(w) for w in data.get("webhooks") or []]

    async def update_webhook(self, event_type: WebhookEventType | int | str, address: str) -> None:
        """Subscribe ``address`` (HTTPS, a domain, no port, ≤255 chars) to an event."""
        if not address or len(address) > MAX_WEBHOOK_ADDRESS_LENGTH:
            raise ValueError(f"address must be 1-{MAX_WEBHOOK_ADDRESS_LENGTH} characters")
        await self._call(
            "webhooks.update",
            "PUT",
            "/event/{version}/webhooks",
            idempotent=True,
            body={"address": address, "event_type": _event_name(event_type)},
        )

    async def delete_webhook(self, event_type: WebhookEventType | int | str) -> None:
        """Unsubscribe the shop from an event."""
        await self._call(
            "webhooks.delete",
            "DELETE",
            "/event/{version}/webhooks",
            idempotent=True,
            body={"event_type": _event_name(event_type)},
        )
