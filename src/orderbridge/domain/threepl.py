"""Orders a 3PL fulfils: which 3PL holds an order, how its 3PL order is found, and what its
parcels become.

- **Which 3PL** (``holder_of``): the Shopify fulfilment orders' assigned locations, looked up
  in the policy's ``threepl_locations`` (a seller may send some orders to ShipBob and others
  to Amazon MCF, by location).
- **Which reference** (``references``): the seller's Shopify->3PL app names the 3PL order by
  the Shopify order name, the Shopify order id or the TikTok order id (policy
  ``threepl_reference``); that one is tried first, the others after it (a seller who changed
  apps, or guessed the setting wrong, still gets tracking). ``select`` picks the 3PL order
  found under the earliest reference, from the holder.
- **Parcels** (``threepl_parcels``, called by ``decide`` before the tracking path): a parcel
  with tracking that no Shopify fulfilment carries yet becomes one Shopify fulfilment
  (``FulfilFromThreePL``); the existing tracking path (``decide_tracking``) then pushes it to
  TikTok once, with its carrier mapped. For an Amazon MCF order a number Amazon did not
  issue is never written nor uploaded (``NON_MCF_TRACKING``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from orderbridge.domain.actions import FulfilFromThreePL
from orderbridge.domain.carriers import resolve_carrier, shopify_company
from orderbridge.domain.decide_common import Ctx
from orderbridge.domain.exceptions import ExceptionCode
from orderbridge.domain.observed import FulfillmentStatus, ShopifyOrderView, ThreePLView
from orderbridge.domain.policy import Policy, RouteTo, ThreePL, ThreePLReference
from orderbridge.domain.tracking import is_amazon_issued

__all__ = [
    "FULFILLABLE_STATUSES",
    "gid_tail",
    "holder",
    "holder_of",
    "is_mcf_order",
    "references",
    "select",
    "threepl_parcels",
]

# Fulfilment order statuses Shopify accepts a fulfilment for.
FULFILLABLE_STATUSES = frozenset({"OPEN", "IN_PROGRESS"})


def gid_tail(value: str) -> str:
    """The numeric part of a Shopify global id (``gid://shopify/Location/7`` -> ``7``)."""
    return value.rsplit("/", 1)[-1].strip()


def holder_of(view: ShopifyOrderView | None, locations: Mapping[str, ThreePL]) -> ThreePL | None:
    """The 3PL whose location a (not cancelled) fulfilment order is assigned to, if any."""
    if view is None or not locations:
        return None
    by_tail = {gid_tail(k): v for k, v in locations.items()}
    for fo in view.fulfillment_orders:
        if fo.status.upper() == "CANCELLED" or not fo.location_id:
            continue
        found = by_tail.get(gid_tail(fo.location_id))
        if found is not None:
            return found
    return None


def holder(policy: Policy, view: ShopifyOrderView | None) -> ThreePL | None:
    """The 3PL holding the order: ``route_to``'s when set, else its location's."""
    if policy.route_to is not RouteTo.NONE:
        return ThreePL(policy.route_to.value)
    return holder_of(view, policy.threepl_locations)


def references(
    kind: ThreePLReference, tiktok_order_id: str, view: ShopifyOrderView | None
) -> tuple[str, ...]:
    """The references a 3PL order of this order may carry: ``kind``'s first, then the rest.

    A Shopify order name is also tried without its ``#``; ids not known yet are left out.
    """
    name = view.name.strip() if view is not None else ""
    by_kind: dict[ThreePLReference, tuple[str, ...]] = {
        ThreePLReference.SHOPIFY_ORDER_NAME: (name, name.lstrip("#")),
        ThreePLReference.SHOPIFY_ORDER_ID: (gid_tail(view.id) if view is not None else "",),
        ThreePLReference.TIKTOK_ORDER_ID: (tiktok_order_id,),
    }
    ordered = [*by_kind[kind], *(r for k, refs in by_kind.items() if k is not kind for r in refs)]
    return tuple(dict.fromkeys(r for r in ordered if r))


def select(
    candidates: Sequence[ThreePLView], holder: ThreePL | None, refs: Sequence[str]
) -> ThreePLView | None:
    """The 3PL order of this order: from ``holder`` (any 3PL when it is not known), found
    under the earliest of ``refs``; a live one before a cancelled one (a re-sent order)."""
    fitting = [c for c in candidates if holder is None or c.provider is holder]
    rank = {ref: i for i, ref in enumerate(refs)}
    fitting = [c for c in fitting if c.reference in rank]
    if not fitting:
        return None
    return min(fitting, key=lambda c: (c.cancelled, rank[c.reference]))


def is_mcf_order(ctx: Ctx) -> bool:
    """Whether Amazon MCF fulfils this order: its TikTok warehouse is an MCF one, or its
    3PL order is Amazon's."""
    threepl = ctx.observed.threepl
    return ctx.order.warehouse_id in ctx.policy.mcf_warehouse_ids or (
        threepl is not None and threepl.provider is ThreePL.AMAZON_MCF
    )


def _company(carrier_name: str) -> str:
    """The Shopify company for the 3PL's carrier name (as given when the table lacks it)."""
    carrier = resolve_carrier(carrier_name)
    return (shopify_company(carrier) if carrier is not None else None) or carrier_name.strip()


def threepl_parcels(ctx: Ctx, view: ShopifyOrderView) -> None:
    """Write the 3PL's parcels with tracking to Shopify, one fulfilment each, once."""
    threepl = ctx.observed.threepl
    if threepl is None or threepl.provider is None or not threepl.packages:
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
            "threepl": threepl.provider.value,
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
                f"{threepl.provider.value} shipped parcel {number} for order "
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
                threepl=threepl.provider.value,
                threepl_order_id=threepl.order_id,
            )
        )
        return  # one at a time: the next decision sees the fulfilment it made
