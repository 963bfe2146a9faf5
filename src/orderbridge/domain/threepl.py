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
- What ``decide()`` does with them is in ``domain/decide/threepl.py`` (parcels, the MCF
  rule), ``threepl_route.py`` (policy ``route_to``) and ``threepl_search.py`` (the fallback
  search).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from orderbridge.domain.observed import ShopifyOrderView, ThreePLView
from orderbridge.domain.policy import Policy, RouteTo, ThreePL, ThreePLReference

__all__ = ["gid_tail", "holder", "holder_of", "references", "select"]


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
    fitting = [c for c in candidates if holder is None or c.provider == holder]
    rank = {ref: i for i, ref in enumerate(refs)}
    fitting = [c for c in fitting if c.reference in rank]
    if not fitting:
        return None
    return min(fitting, key=lambda c: (c.cancelled, rank[c.reference]))
