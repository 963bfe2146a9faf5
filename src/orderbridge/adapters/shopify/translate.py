"""Shopify order snapshots -> the domain's ``ShopifyOrderView``.

What ``decide()`` needs from the order and nothing more: our holds (by handle), whether a
fulfilment service (3PL app) has a fulfilment order, the fulfilments with their tracking and
lines, the lines with their variant (``None`` for a custom line) and the TikTok SKU we put on
them, financial status, outstanding amount and cancellation.

Shopify's order snapshot does not say whether a location belongs to a fulfilment service;
``request_status`` does (only fulfilment-service orders are ever SUBMITTED/ACCEPTED...), and
the caller may name the service locations it knows (``service_location_ids``).
"""

from __future__ import annotations

from collections.abc import Collection
from decimal import Decimal

from orderbridge.adapters.shopify.models import (
    Attribute,
    FulfillmentOrder,
    MoneyBag,
    OrderFulfillment,
    OrderLineItem,
    OrderSnapshot,
)
from orderbridge.domain.observed import (
    FulfillmentStatus,
    ShopifyFulfillment,
    ShopifyFulfillmentLine,
    ShopifyFulfillmentOrder,
    ShopifyHold,
    ShopifyLineItem,
    ShopifyOrderView,
)

__all__ = [
    "FULFILLMENT_SERVICE_REQUEST_STATUSES",
    "TIKTOK_SKU_ATTRIBUTE",
    "gone_view",
    "to_order_view",
]

# The line custom attribute (``properties`` at creation) carrying the TikTok sku_id.
TIKTOK_SKU_ATTRIBUTE = "tiktok_sku_id"
# Fulfilment order request statuses that only occur with a fulfilment service.
FULFILLMENT_SERVICE_REQUEST_STATUSES = frozenset(
    {
        "SUBMITTED",
        "ACCEPTED",
        "REJECTED",
        "CANCELLATION_REQUESTED",
        "CANCELLATION_ACCEPTED",
        "CANCELLATION_REJECTED",
        "CLOSED",
    }
)
_FULFILLMENT_STATUSES = {
    "SUCCESS": FulfillmentStatus.SUCCESS,
    "CANCELLED": FulfillmentStatus.CANCELLED,
}
_ZERO = Decimal("0")


def _attribute(attributes: list[Attribute], key: str) -> str:
    return next((a.value or "" for a in attributes if a.key == key), "")


def _line(line: OrderLineItem) -> ShopifyLineItem:
    current = line.current_quantity if line.current_quantity is not None else line.quantity
    return ShopifyLineItem(
        id=line.id,
        sku=(line.sku or "").strip(),
        variant_id=line.variant_id,
        quantity=line.quantity,
        current_quantity=current,
        tiktok_sku_id=_attribute(line.custom_attributes, TIKTOK_SKU_ATTRIBUTE),
    )


def _fulfillment_order(
    fo: FulfillmentOrder, service_locations: Collection[str]
) -> ShopifyFulfillmentOrder:
    request = (fo.request_status or "").upper()
    service = request in FULFILLMENT_SERVICE_REQUEST_STATUSES or (
        fo.location_id is not None and fo.location_id in service_locations
    )
    return ShopifyFulfillmentOrder(
        id=fo.id,
        status=fo.status.upper(),
        fulfillment_service=service,
        location_id=fo.location_id or "",
        holds=tuple(
            ShopifyHold(id=h.id, handle=h.handle or "", reason=h.reason or "")
            for h in fo.fulfillment_holds
        ),
    )


def _fulfillment(f: OrderFulfillment) -> ShopifyFulfillment:
    company = next(
        (t.company.strip() for t in f.tracking_info if t.company and t.company.strip()), ""
    )
    numbers = tuple(
        dict.fromkeys(t.number.strip() for t in f.tracking_info if t.number and t.number.strip())
    )
    return ShopifyFulfillment(
        id=f.id,
        status=_FULFILLMENT_STATUSES.get((f.status or "").upper(), FulfillmentStatus.OTHER),
        created_at=f.created_at,
        updated_at=f.updated_at,
        tracking_company=company,
        tracking_numbers=numbers,
        line_items=tuple(
            ShopifyFulfillmentLine(line_item_id=li.line_item.id, quantity=li.quantity or 0)
            for li in f.fulfillment_line_items
        ),
    )


def _amount(bag: MoneyBag | None) -> Decimal:
    return bag.shop_money.amount if bag is not None else _ZERO


def _maybe(bag: MoneyBag | None) -> Decimal | None:
    return bag.shop_money.amount if bag is not None else None


def to_order_view(
    snapshot: OrderSnapshot,
    *,
    our_app_holds_handle: str,
    service_location_ids: Collection[str] = (),
    cancel_job_pending: bool = False,
) -> ShopifyOrderView:
    """The domain view of ``snapshot``.

    ``our_app_holds_handle`` is the policy's hold handle: holds are kept with their handle
    (``decide`` picks ours by it). ``cancel_job_pending`` is what the caller knows about an
    ``orderCancel`` job it is waiting for (the snapshot cannot tell).
    """
    del our_app_holds_handle  # every hold is kept with its handle; named for the call site
    # A snapshot has no "has a shipping address" field: the address is only in raw.
    address = snapshot.raw.get("shippingAddress") if snapshot.raw else None
    return ShopifyOrderView(
        id=snapshot.id,
        exists=True,
        name=snapshot.name,
        cancelled_at=snapshot.cancelled_at,
        cancel_job_pending=cancel_job_pending and snapshot.cancelled_at is None,
        financial_status=(snapshot.display_financial_status or "").upper(),
        total_outstanding=_amount(snapshot.total_outstanding_set),
        current_total=_maybe(snapshot.current_total_price_set),
        current_tax=_maybe(snapshot.current_total_tax_set),
        tags=tuple(snapshot.tags),
        line_items=tuple(_line(li) for li in snapshot.line_items),
        fulfillment_orders=tuple(
            _fulfillment_order(fo, service_location_ids) for fo in snapshot.fulfillment_orders
        ),
        fulfillments=tuple(_fulfillment(f) for f in snapshot.fulfillments),
        has_shipping_address=bool(address),
    )


def gone_view(order_id: str) -> ShopifyOrderView:
    """The view of an order Shopify no longer has (``get_order`` raised ``NotFound``)."""
    return ShopifyOrderView(id=order_id, exists=False)
