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
The vendor payloads become views through each adapter's one translator
(``amazon_mcf/translate.py``, ``shipbob/translate.py``), the same the 3PL poll uses.
"""

from __future__ import annotations

from dataclasses import dataclass

from orderbridge.adapters.amazon_mcf import AmazonMcfClient
from orderbridge.adapters.amazon_mcf.translate import to_threepl_view as mcf_view
from orderbridge.adapters.shipbob import ShipBobClient
from orderbridge.adapters.shipbob.translate import to_threepl_view as shipbob_view
from orderbridge.domain.observed import ThreePLView

__all__ = ["ThreePLClient", "ThreePLHandle", "cancel_threepl_order", "find_threepl_order",
           "mcf_view", "shipbob_view"]

ThreePLClient = AmazonMcfClient | ShipBobClient


@dataclass(frozen=True, slots=True)
class ThreePLHandle:
    """Where an order lives: the 3PL's client and the reference its orders are found by;
    ``alternatives``: the other references the seller's app may have used, tried in order
    when the first finds nothing (e.g. the Shopify order name without its ``#``)."""

    client: ThreePLClient
    reference: str
    alternatives: tuple[str, ...] = ()


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
