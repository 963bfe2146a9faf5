"""What a pass knows of its link's 3PL order: the stored candidates, and the domain's pick.

A pass never calls a 3PL: the poller (and ShipBob's webhooks) store what the 3PLs said in
``threepl_orders``; the pass reads the rows whose reference is one this order's 3PL order
may carry (one indexed read, only for connections that map locations to 3PLs) and
``domain/threepl.select`` picks the one of the 3PL holding it.
"""

from __future__ import annotations

from collections.abc import Sequence

from orderbridge.adapters.db import Connection, threepl_orders
from orderbridge.domain.observed import ShopifyOrderView, ThreePLView
from orderbridge.domain.policy import Policy, RouteTo, ThreePL
from orderbridge.domain.threepl import gid_tail, holder, references, select

__all__ = ["candidate_references", "load_candidates", "pick", "threepls_used", "uses_threepl"]


def threepls_used(policy: Policy) -> set[ThreePL]:
    """The 3PLs a connection's orders may be at: mapped locations and ``route_to``."""
    used = set(policy.threepl_locations.values())
    if policy.route_to is not RouteTo.NONE:
        used.add(ThreePL(policy.route_to.value))
    return used


def uses_threepl(policy: Policy) -> bool:
    """Whether any order of the connection may be at a 3PL."""
    return bool(policy.threepl_locations) or policy.route_to is not RouteTo.NONE


def candidate_references(tiktok_order_id: str, shopify_order_id: str | None,
                         shopify_order_name: str | None) -> tuple[str, ...]:
    """Every reference a 3PL order of this link may carry, from what the link row knows."""
    name = (shopify_order_name or "").strip()
    refs = (tiktok_order_id, gid_tail(shopify_order_id) if shopify_order_id else "", name, name.lstrip("#"))
    return tuple(dict.fromkeys(r for r in refs if r))


def load_candidates(conn: Connection, connection_id: int, refs: Sequence[str]) -> tuple[ThreePLView, ...]:
    """The stored 3PL orders under any of ``refs``."""
    return tuple(threepl_orders.find_by_references(conn, connection_id, refs))


def pick(policy: Policy, tiktok_order_id: str, view: ShopifyOrderView | None,
         candidates: Sequence[ThreePLView]) -> ThreePLView | None:
    """The domain's choice among ``candidates``: the ``route_to`` 3PL's, else the one the
    order's location maps to (None when neither names one)."""
    if not candidates:
        return None
    held_by = holder(policy, view)
    if held_by is None:
        return None
    return select(candidates, held_by, references(policy.threepl_reference, tiktok_order_id, view))
