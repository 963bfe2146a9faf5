"""``TikTokClient``: the TikTok Shop Partner API endpoints OrderBridge uses (versions: ``versions.py``).

Reject Cancellation (``POST /return_refund/202309/cancellations/{id}/reject``) is
deliberately absent: TikTok told US developers to stop using it before 31 Mar 2024. A
pending buyer cancellation is rejected by shipping the package (pushing tracking).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from orderbridge.adapters.tiktok._core import check_page_size, paginate
from orderbridge.adapters.tiktok._returns import ReturnEndpoints
from orderbridge.adapters.tiktok.after_sale import (
    Cancellation,
    CancellationPage,
    ReturnPage,
    ReturnRequest,
    SellerCancelResult,
)
from orderbridge.adapters.tiktok.inputs import (
    CancellationFilter,
    ExternalOrderReference,
    OrderFilter,
    ReturnFilter,
    SkuQuantity,
)
from orderbridge.adapters.tiktok.models import (
    ExternalOrderResult,
    Order,
    OrderPage,
    ShippedPackage,
    ShippingProvider,
    Shop,
    TrackingEvent,
)

__all__ = [
    "MAX_CANCELLATION_PAGE_SIZE",
    "MAX_EXTERNAL_ORDERS_PER_CALL",
    "MAX_IDEMPOTENCY_KEY_LENGTH",
    "MAX_ORDER_IDS_PER_CALL",
    "MAX_ORDER_PAGE_SIZE",
    "MAX_RETURN_PAGE_SIZE",
    "TikTokClient",
]

MAX_ORDER_PAGE_SIZE = 100
MAX_ORDER_IDS_PER_CALL = 50
MAX_CANCELLATION_PAGE_SIZE = 50
MAX_RETURN_PAGE_SIZE = 50  # assumed equal to cancellations (unconfirmed)
MAX_EXTERNAL_ORDERS_PER_CALL = 100
MAX_IDEMPOTENCY_KEY_LENGTH = 255


def _search_query(
    page_size: int, page_token: str | None, sort_field: str | None, sort_order: str | None
) -> dict[str, str | int | None]:
    return {
        "page_size": page_size,
        "page_token": page_token or None,
        "sort_field": sort_field,
        "sort_order": sort_order,
    }


class TikTokClient(ReturnEndpoints):
    """Async TikTok Shop client for one seller (and one shop, via ``shop_cipher``).

    Constructor (all keyword-only after ``http``): ``app_key``, ``app_secret``,
    ``token_store``, ``api_base``, ``auth_base``, ``shop_cipher``, ``shop_id``,
    ``runtime`` (clock, monotonic, sleep, random, recorder), ``retry``, ``limiter``,
    ``refresh_margin``, ``fanout``. Errors are those of ``orderbridge.errors``.
    Writes that are not idempotent (ship, update tracking, seller cancel) are not
    retried after an unknown outcome: check remote state, then decide.
    Products and webhook subscriptions come from ``CatalogEndpoints``.
    """

    # -- shops -----------------------------------------------------------------------

    async def get_authorized_shops(self) -> list[Shop]:
        """The shops this token may act on (no ``shop_cipher``)."""
        data = await self._call("shops.list", "GET", "/authorization/{version}/shops", idempotent=True)
        return [Shop.model_validate(s) for s in data.get("shops") or []]

    # -- orders ----------------------------------------------------------------------

    async def search_orders(
        self,
        filters: OrderFilter | None = None,
        *,
        page_size: int = MAX_ORDER_PAGE_SIZE,
        page_token: str | None = None,
        sort_field: str | None = None,
        sort_order: str | None = None,
    ) -> OrderPage:
        """One page of Get Order List (``sort_field``: create_time | update_time)."""
        check_page_size(page_size, MAX_ORDER_PAGE_SIZE)
        data = await self._call(
            "orders.search",
            "POST",
            "/order/{version}/orders/search",
            idempotent=True,
            query=_search_query(page_size, page_token, sort_field, sort_order),
            body=(filters or OrderFilter()).to_body(),
        )
        return OrderPage.model_validate(data)

    def iter_orders(
        self,
        filters: OrderFilter | None = None,
        *,
        page_size: int = MAX_ORDER_PAGE_SIZE,
        sort_field: str | None = None,
        sort_order: str | None = None,
    ) -> AsyncIterator[Order]:
        """Every order matching ``filters``, page after page."""

        async def fetch(token: str | None) -> tuple[list[Order], str]:
            page = await self.search_orders(
                filters,
                page_size=page_size,
                page_token=token,
                sort_field=sort_field,
                sort_order=sort_order,
            )
            return page.orders, page.next_page_token

        return paginate(fetch, "orders.search")

    async def get_orders(self, ids: Sequence[str]) -> list[Order]:
        """Order details, in batches of 50 fetched concurrently (at most ``fanout``).

        Duplicates are asked once; ids TikTok does not return are simply absent.
        """
        unique = list(dict.fromkeys(ids))
        if any(not i for i in unique):
            raise ValueError("order ids must be non-empty")
        batches = [
            unique[i : i + MAX_ORDER_IDS_PER_CALL]
            for i in range(0, len(unique), MAX_ORDER_IDS_PER_CALL)
        ]

        async def fetch(batch: list[str]) -> list[Any]:
            data = await self._call(
                "orders.get",
                "GET",
                "/order/{version}/orders",
                idempotent=True,
                query={"ids": ",".join(batch)},
                order_ref=batch[0] if len(batch) == 1 else None,
            )
            return [Order.model_validate(o) for o in data.get("orders") or []]

        return await self._fan_out(batches, fetch)

    async def get_order(self, order_id: str) -> Order | None:
        """One order's detail, or None if TikTok did not return it."""
        orders = await self.get_orders([order_id])
        return next((o for o in orders if o.id == order_id), None)

    async def add_external_order_references(
        self, references: Sequence[ExternalOrderReference]
    ) -> list[ExternalOrderResult]:
        """Store the Shopify order id on TikTok orders (100 per call; idempotent set).

        TikTok requires at least one line per reference (``ValueError`` before any call)."""
        bare = [r.order_id for r in references if not r.line_items]
        if bare:
            raise ValueError(f"external order references need line_items: {', '.join(bare)}")
        results: list[ExternalOrderResult] = []
        for i in range(0, len(references), MAX_EXTERNAL_ORDERS_PER_CALL):
            batch = references[i : i + MAX_EXTERNAL_ORDERS_PER_CALL]
            data = await self._call(
                "orders.add_external_references",
                "POST",
                "/order/{version}/orders/external_orders",
                idempotent=True,
                body={"orders": [ref.to_json() for ref in batch]},
            )
            results.append(ExternalOrderResult.model_validate(data))
        return results

    # -- logistics and fulfilment ----------------------------------------------------

    async def get_shipping_providers(self, delivery_option_id: str) -> list[ShippingProvider]:
        """Carriers allowed for a delivery option (21008117: TikTok-shipped option)."""
        data = await self._call(
            "logistics.shipping_providers",
            "GET",
            "/logistics/{version}/delivery_options/{delivery_option_id}/shipping_providers",
            idempotent=True,
            path_params={"delivery_option_id": delivery_option_id},
        )
        return [ShippingProvider.model_validate(p) for p in data.get("shipping_providers") or []]

    async def mark_package_shipped(
        self,
        order_id: str,
        tracking_number: str,
        shipping_provider_id: str,
        order_line_item_ids: Sequence[str] | None = None,
    ) -> ShippedPackage:
        """Ship (units of) an order with the seller's carrier; one call per parcel.

        Without ``order_line_item_ids`` the whole order ships. Not retried after an
        unknown outcome (a repeat would answer one of ``ALREADY_SHIPPED_CODES``).
        """
        body: dict[str, Any] = {
            "tracking_number": tracking_number,
            "shipping_provider_id": shipping_provider_id,
        }
        if order_line_item_ids:
            body["order_line_item_ids"] = list(order_line_item_ids)
        data = await self._call(
            "fulfillment.mark_shipped",
            "POST",
            "/fulfillment/{version}/orders/{order_id}/packages",
            idempotent=False,
            path_params={"order_id": order_id},
            body=body,
            order_ref=order_id,
        )
        return ShippedPackage.model_validate(data)

    async def update_shipping_info(
        self,
        order_id: str,
        tracking_number: str,
        shipping_provider_id: str,
        *,
        package_id: str | None = None,
    ) -> None:
        """Correct the tracking: once, within 72 h (``UPDATE_REFUSED_CODES``: 21011049 by
        order; 21011050 window, 21011051 once, 21011052 limit by package).

        By package when ``package_id`` is given (the only way for an order with several
        packages), else for the order's one package.
        """
        body = {"tracking_number": tracking_number, "shipping_provider_id": shipping_provider_id}
        if package_id:
            await self._call(
                "fulfillment.update_package_shipping_info",
                "POST",
                "/fulfillment/{version}/packages/{package_id}/shipping_info/update",
                idempotent=False,
                path_params={"package_id": package_id},
                body=body,
                order_ref=order_id,
            )
            return
        await self._call(
            "fulfillment.update_shipping_info",
            "POST",
            "/fulfillment/{version}/orders/{order_id}/shipping_info/update",
            idempotent=False,
            path_params={"order_id": order_id},
            body=body,
            order_ref=order_id,
        )

    async def get_order_tracking(self, order_id: str) -> list[TrackingEvent]:
        """Carrier events of an order's shipment."""
        data = await self._call(
            "fulfillment.tracking",
            "GET",
            "/fulfillment/{version}/orders/{order_id}/tracking",
            idempotent=True,
            path_params={"order_id": order_id},
            order_ref=order_id,
        )
        return [TrackingEvent.model_validate(t) for t in data.get("tracking") or []]

    # -- cancellations and returns ---------------------------------------------------

    async def search_cancellations(
        self,
        filters: CancellationFilter | None = None,
        *,
        page_size: int = MAX_CANCELLATION_PAGE_SIZE,
        page_token: str | None = None,
        sort_field: str | None = None,
        sort_order: str | None = None,
    ) -> CancellationPage:
        """One page of Search Cancellations (page_size 1-50)."""
        check_page_size(page_size, MAX_CANCELLATION_PAGE_SIZE)
        data = await self._call(
            "cancellations.search",
            "POST",
            "/return_refund/{version}/cancellations/search",
            idempotent=True,
            query=_search_query(page_size, page_token, sort_field, sort_order),
            body=(filters or CancellationFilter()).to_body(),
        )
        return CancellationPage.model_validate(data)

    def iter_cancellations(
        self, filters: CancellationFilter | None = None, *, page_size: int = 50
    ) -> AsyncIterator[Cancellation]:
        """Every cancellation matching ``filters``."""

        async def fetch(token: str | None) -> tuple[list[Cancellation], str]:
            page = await self.search_cancellations(filters, page_size=page_size, page_token=token)
            return page.cancellations, page.next_page_token

        return paginate(fetch, "cancellations.search")

    async def approve_cancellation(self, cancel_id: str, idempotency_key: str) -> None:
        """Approve a buyer's cancellation request. Only once the goods are stopped.

        ``idempotency_key`` (≤255 chars; use the cancel id) makes retries safe. There is
        no reject: US sellers reject by shipping (TikTok retired Reject for them).
        """
        if not idempotency_key or len(idempotency_key) > MAX_IDEMPOTENCY_KEY_LENGTH:
            raise ValueError(f"idempotency_key must be 1-{MAX_IDEMPOTENCY_KEY_LENGTH} characters")
        await self._call(
            "cancellations.approve",
            "POST",
            "/return_refund/{version}/cancellations/{cancel_id}/approve",
            idempotent=True,
            path_params={"cancel_id": cancel_id},
            query={"idempotency_key": idempotency_key},
        )

    async def seller_cancel(
        self,
        order_id: str,
        cancel_reason: str,
        *,
        order_line_item_ids: Sequence[str] | None = None,
        skus: Sequence[SkuQuantity] | None = None,
    ) -> SellerCancelResult:
        """Cancel an order (or some units, out-of-stock only) as the seller.

        ``cancel_reason`` is a key such as ``seller_cancel_reason_out_of_stock``; one that
        does not fit the order status gives 25001021. Not retried after an unknown outcome.
        """
        if order_line_item_ids and skus:
            raise ValueError("give order_line_item_ids or skus, not both")
        body: dict[str, Any] = {"order_id": order_id, "cancel_reason": cancel_reason}
        if order_line_item_ids:
            body["order_line_item_ids"] = list(order_line_item_ids)
        if skus:
            body["skus"] = [s.to_json() for s in skus]
        data = await self._call(
            "cancellations.seller_cancel",
            "POST",
            "/return_refund/{version}/cancellations",
            idempotent=False,
            body=body,
            order_ref=order_id,
        )
        return SellerCancelResult.model_validate(data)

    async def search_returns(
        self,
        filters: ReturnFilter | None = None,
        *,
        page_size: int = MAX_RETURN_PAGE_SIZE,
        page_token: str | None = None,
        sort_field: str | None = None,
        sort_order: str | None = None,
    ) -> ReturnPage:
        """One page of Search Returns."""
        check_page_size(page_size, MAX_RETURN_PAGE_SIZE)
        data = await self._call(
            "returns.search",
            "POST",
            "/return_refund/{version}/returns/search",
            idempotent=True,
            query=_search_query(page_size, page_token, sort_field, sort_order),
            body=(filters or ReturnFilter()).to_body(),
        )
        return ReturnPage.model_validate(data)

    def iter_returns(
        self, filters: ReturnFilter | None = None, *, page_size: int = MAX_RETURN_PAGE_SIZE
    ) -> AsyncIterator[ReturnRequest]:
        """Every return/refund/replacement request matching ``filters``."""

        async def fetch(token: str | None) -> tuple[list[ReturnRequest], str]:
            page = await self.search_returns(filters, page_size=page_size, page_token=token)
            return page.returns, page.next_page_token

        return paginate(fetch, "returns.search")
