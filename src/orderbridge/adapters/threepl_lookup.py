"""One 3PL order by the reference the seller's Shopify->3PL app gave it, as a domain
``ThreePLView``; and its cancellation. Small on purpose: which 3PL holds an order and which
reference it uses are decided elsewhere (per connection); these functions take the client
and the reference.

- Amazon MCF: ``getFulfillmentOrder`` by ``sellerFulfillmentOrderId``; the facts are the
  order status (any case, as Amazon writes it) and the shipments not cancelled;
  ``cancelFulfillmentOrder`` by the same id.
- ShipBob: ``GET /order?ReferenceIds=`` by ``reference_id``; the facts are the order status,
  whether any live shipment is picked (packed, labelled, shipped) and whether every shipment
  is cancelled; ``POST /order/{id}:cancel`` by ShipBob's order id.

Whether the order can still be stopped is the domain's rule (``domain/cancel_desk.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from orderbridge.adapters.amazon_mcf import AmazonMcfClient
from orderbridge.adapters.amazon_mcf.models import McfStatus, OrderDetail
from orderbridge.adapters.shipbob import ShipBobClient
from orderbridge.adapters.shipbob.models import Order, ShipmentStatus
from orderbridge.domain.cancel_desk import AMAZON_MCF, SHIPBOB
from orderbridge.domain.observed import ThreePLView

__all__ = ["ThreePLClient", "ThreePLHandle", "cancel_threepl_order", "find_threepl_order",
           "mcf_view", "shipbob_view"]

ThreePLClient = AmazonMcfClient | ShipBobClient


@dataclass(frozen=True, slots=True)
class ThreePLHandle:
    """Where an order lives: the 3PL's client and the reference its orders are found by."""

    client: ThreePLClient
    reference: str


def mcf_view(detail: OrderDetail) -> ThreePLView:
    """The facts of an MCF order (``order_id`` is our ``sellerFulfillmentOrderId``)."""
    order = detail.fulfillment_order
    live = [s for s in detail.fulfillment_shipments if not s.cancelled]
    return ThreePLView(
        order_id=order.seller_fulfillment_order_id,
        status=order.fulfillment_order_status,
        provider=AMAZON_MCF,
        live_shipments=len(live),
        cancelled=order.status is McfStatus.CANCELLED,
        cancellable=False,  # the domain decides from the facts (provider is set)
    )


def shipbob_view(order: Order) -> ThreePLView:
    """The facts of a ShipBob order (``order_id`` is ShipBob's numeric order id)."""
    live = [s for s in order.shipments if s.status != ShipmentStatus.CANCELLED]
    cancelled = order.status.lower() == "cancelled" or (bool(order.shipments) and not live)
    return ThreePLView(
        order_id=str(order.id),
        status=order.status,
        provider=SHIPBOB,
        live_shipments=len(live),
        picked=any(s.picked for s in live),
        cancelled=cancelled,
        cancellable=False,
    )


async def find_threepl_order(client: ThreePLClient, reference: str) -> ThreePLView | None:
    """The 3PL order with this reference, or ``None`` when the 3PL has none."""
    if isinstance(client, AmazonMcfClient):
        detail = await client.find_order(reference)
        return None if detail is None else mcf_view(detail)
    found = await client.find_by_reference(reference)
    return None if found is None else shipbob_view(found)


async def cancel_threepl_order(client: ThreePLClient, order_id: str) -> None:
    """Cancel it (safe to repeat); ``Rejected`` when the 3PL says it is too late."""
    if isinstance(client, AmazonMcfClient):
        await client.cancel_order(order_id)
        return
    await client.cancel_order(int(order_id))
