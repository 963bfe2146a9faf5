"""A replacement's new TikTok order, once mirrored, is written on both timelines: the new
link says which order it replaces, the original's link names the replacement and its Shopify
order (the Shopify order carries the ``tiktok_replaces_order_id`` attribute itself)."""

from __future__ import annotations

from orderbridge.adapters.db import Connection, events, links
from orderbridge.adapters.db.types import EventKind
from orderbridge.domain.actions import Action, CreateShopifyOrder
from orderbridge.domain.outcome import Outcome, OutcomeStatus
from orderbridge.domain.returns import REPLACES_ATTRIBUTE

__all__ = ["link_replacement"]


def link_replacement(conn: Connection, link_id: int, connection_id: int, action: Action,
                     outcome: Outcome) -> None:
    """After a successful create of a replacement order: one event on each link."""
    if not isinstance(action, CreateShopifyOrder) or outcome.status is not OutcomeStatus.SUCCESS:
        return
    original = dict(action.custom_attributes).get(REPLACES_ATTRIBUTE, "")
    if not original:
        return
    shopify = outcome.ids.get("shopify_order_name") or outcome.ids.get("shopify_order_id") or "?"
    data = {"original_tiktok_order_id": original, "replacement_tiktok_order_id": action.tiktok_order_id,
            "replacement_shopify_order": shopify}
    events.append(conn, link_id, EventKind.EVENT,
                  f"replacement of TikTok order {original} (mirrored as Shopify {shopify})", data,
                  at=outcome.at, connection_id=connection_id)
    first = links.find_link(conn, connection_id, original)
    if first is not None:
        events.append(conn, first.id, EventKind.EVENT,
                      f"replaced by TikTok order {action.tiktok_order_id} (Shopify {shopify})", data,
                      at=outcome.at, connection_id=connection_id)
