"""What ``decide()`` does with an order's 3PL order (``domain/threepl.py`` finds it).

- **Parcels** (``threepl_parcels``, before the tracking path): a parcel with tracking that no
  Shopify fulfilment carries yet becomes one Shopify fulfilment (``FulfilFromThreePL``); the
  tracking path (``decide/tracking.py``) then pushes it to TikTok once, with its carrier
  mapped. For an Amazon MCF order a number Amazon did not issue is never written nor
  uploaded (``NON_MCF_TRACKING``, ``is_mcf_order``).
"""

from __future__ import annotations

from orderbridge.domain.actions import FulfilFromThreePL
from orderbridge.domain.carriers import resolve_carrier, shopify_company
from orderbridge.domain.decide.common import Ctx
from orderbridge.domain.exceptions import ExceptionCode
from orderbridge.domain.observed import FulfillmentStatus, ShopifyOrderView
from orderbridge.domain.policy import ThreePL
from orderbridge.domain.tracking import is_amazon_issued

__all__ = ["FULFILLABLE_STATUSES", "is_mcf_order", "threepl_parcels"]

# Fulfilment order statuses Shopify accepts a fulfilment for.
FULFILLABLE_STATUSES = frozenset({"OPEN", "IN_PROGRESS"})


def is_mcf_order(ctx: Ctx) -> bool:
    """Whether Amazon MCF fulfils this order: its TikTok warehouse is an MCF one, or its
    3PL order is Amazon's."""
    threepl = ctx.observed.threepl
    return ctx.order.warehouse_id in ctx.policy.mcf_warehouse_ids or (
        threepl is not None and threepl.provider == ThreePL.AMAZON_MCF
    )


def _company(carrier_name: str) -> str:
    """The Shopify company for the 3PL's carrier name (as given when the table lacks it)."""
    carrier = resolve_carrier(carrier_name)
    return (shopify_company(carrier) if carrier is not None else None) or carrier_name.strip()


def threepl_parcels(ctx: Ctx, view: ShopifyOrderView) -> None:
    """Write the 3PL's parcels with tracking to Shopify, one fulfilment each, once."""
    threepl = ctx.observed.threepl
    if threepl is None or not threepl.provider or not threepl.packages:
        return
    on_shopify = {
        n.strip().upper()
        for f in view.fulfillments
        if f.status is not FulfillmentStatus.CANCELLED
        for n in f.tracking_numbers
    }
    open_fos = tuple(
        fo.id for fo in view.fulfillment_orders if fo.status.upper() in FULFILLABLE_STATUSES
    )
    mcf = is_mcf_order(ctx)
    for package in threepl.packages:
        number = package.tracking_number.strip().upper()
        if not number or number in on_shopify:
            continue
        data = {
            "threepl": threepl.provider,
            "threepl_order_id": threepl.order_id,
            "tracking_number": number,
            "carrier": package.carrier,
        }
        if mcf and not is_amazon_issued(number, resolve_carrier(package.carrier)):
            ctx.flag(
                ExceptionCode.NON_MCF_TRACKING,
                f"{number} ({package.carrier or 'no carrier'}) from Amazon MCF order "
                f"{threepl.order_id} is not Amazon-issued tracking: it is neither written to "
                "Shopify nor uploaded to TikTok, which deactivates MCF warehouses after "
                "repeated non-MCF numbers. Ship it with Amazon, or fix the order in Seller Center.",
                data,
            )
            continue
        if not open_fos:
            ctx.flag(
                ExceptionCode.THREEPL_EXTRA_PACKAGE,
                f"{threepl.provider} shipped parcel {number} for order "
                f"{threepl.order_id}, but the Shopify order has nothing left to fulfil: add "
                "it to TikTok by hand if it belongs to this order.",
                data,
            )
            continue
        ctx.act(
            FulfilFromThreePL(
                shopify_order_id=view.id,
                fulfillment_order_ids=open_fos,
                tracking_number=number,
                tracking_company=_company(package.carrier),
                threepl=threepl.provider,
                threepl_order_id=threepl.order_id,
            )
        )
        return  # one at a time: the next decision sees the fulfilment it made
