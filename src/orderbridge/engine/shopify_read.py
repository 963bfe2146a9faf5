"""Reading one link's Shopify order, asking only for what its next decision needs.

Each link's Shopify order is read on that link's turn (``read_shopify``), after the batch's
TikTok truth (``observe.fetch_batch``), at the priority of the action the read serves
(``read_priority``), and sized to what was last seen of the order (``read_sizes``; just the
fulfilment orders right after a create, ``lean_hold_read``). A create never waits behind
the batch's reads, and the throttle orders reads and writes alike. Nothing here writes to
the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from orderbridge.adapters.shopify import ShopifyClient
from orderbridge.adapters.shopify.models import OrderSnapshot
from orderbridge.adapters.shopify.ops_orders import (
    DEFAULT_FULFILLMENT_LINE_ITEMS_FIRST,
    DEFAULT_FULFILLMENT_ORDER_LINE_ITEMS_FIRST,
    DEFAULT_FULFILLMENT_ORDERS_FIRST,
    DEFAULT_FULFILLMENTS_FIRST,
    DEFAULT_ORDER_LINE_ITEMS_FIRST,
)
from orderbridge.adapters.shopify.throttle import Priority
from orderbridge.adapters.shopify.translate import gone_view, to_order_view
from orderbridge.domain.link import LinkMemory, LinkState
from orderbridge.domain.order import TikTokStatus
from orderbridge.engine.observe import LinkTruth
from orderbridge.errors import AuthError, NotFound

__all__ = ["lean_hold_read", "read_priority", "read_shopify", "read_sizes", "urgency"]

# A sized read asks for one more line / fulfilment order than last seen, and two more
# fulfilments (a plain list without pageInfo: a full page counts as cut).
SIZE_SLACK: Final = 1
FULFILLMENTS_SLACK: Final = 2
# Fulfilment orders asked for at least (an order is often split over two locations).
MIN_FULFILLMENT_ORDERS: Final = 2


def _nodes(connection: Any) -> list[dict[str, Any]]:
    nodes = connection.get("nodes") if isinstance(connection, dict) else connection
    return [n for n in nodes or [] if isinstance(n, dict)] if isinstance(nodes, list) else []


def read_sizes(snapshot: Mapping[str, Any] | None, lines: int) -> dict[str, int]:
    """Page sizes of a Shopify order read, sized to what was last seen of the order.

    The throttle reserves a read's *requested* cost before sending it, and Shopify prices
    a connection by its page size, not by what comes back: the default snapshot requests
    ~660 points for an order that costs ~30. Under a busy bucket such a read waits seconds
    for room and everything queued behind it waits too. So a read asks for the lines,
    fulfilment orders and fulfilments last seen (or the TikTok lines, before any read) plus
    a little slack (~10x fewer points); a list that comes back cut (``truncated``) is read
    again whole.
    """
    seen = snapshot or {}
    fos = _nodes(seen.get("fulfillmentOrders"))
    fuls = _nodes(seen.get("fulfillments"))
    widest = max([len(_nodes(seen.get("lineItems"))), lines, 1]
                 + [len(_nodes(fo.get("lineItems"))) for fo in fos]
                 + [len(_nodes(f.get("fulfillmentLineItems"))) for f in fuls])
    n = widest + SIZE_SLACK
    return {
        "line_items_first": min(n, DEFAULT_ORDER_LINE_ITEMS_FIRST),
        "fulfillment_orders_first": min(max(len(fos) + SIZE_SLACK, MIN_FULFILLMENT_ORDERS),
                                        DEFAULT_FULFILLMENT_ORDERS_FIRST),
        "fulfillment_order_line_items_first": min(n, DEFAULT_FULFILLMENT_ORDER_LINE_ITEMS_FIRST),
        "fulfillments_first": min(len(fuls) + FULFILLMENTS_SLACK, DEFAULT_FULFILLMENTS_FIRST),
        "fulfillment_line_items_first": min(n, DEFAULT_FULFILLMENT_LINE_ITEMS_FIRST),
    }


def _defaults(sizes: Mapping[str, int]) -> bool:
    return sizes == {
        "line_items_first": DEFAULT_ORDER_LINE_ITEMS_FIRST,
        "fulfillment_orders_first": DEFAULT_FULFILLMENT_ORDERS_FIRST,
        "fulfillment_order_line_items_first": DEFAULT_FULFILLMENT_ORDER_LINE_ITEMS_FIRST,
        "fulfillments_first": DEFAULT_FULFILLMENTS_FIRST,
        "fulfillment_line_items_first": DEFAULT_FULFILLMENT_LINE_ITEMS_FIRST,
    }


def lean_hold_read(memory: LinkMemory, snapshot: Mapping[str, Any] | None, *,
                   after_own_holds: bool = False) -> bool:
    """Whether the only thing to learn is the fulfilment orders (and their holds).

    Right after a create the engine knows the order as ``orderCreate`` returned it (lines,
    totals) but not its fulfilment orders, which Shopify builds a moment later. Reading
    just those (a few points) instead of the whole order is what the hold needs. Only while
    nothing else can have changed on our side: no hold placed yet, nothing released, and no
    custom line (a SKU swap edits the lines, which the stored snapshot would not show).
    ``after_own_holds``: the stored snapshot was read whole, no Shopify webhook came since,
    and the engine's only writes since were its holds (``freshness``): the fulfilment
    orders are again all that can have changed.
    """
    if snapshot is None or memory.state is not LinkState.CREATED_HELD:
        return False
    if memory.released_at or memory.hold_released_by_hand:
        return False
    if after_own_holds:
        fresh = bool(memory.held_fulfillment_order_ids)
    else:
        fresh = not memory.held_fulfillment_order_ids and not _nodes(snapshot.get("fulfillmentOrders"))
    lines = _nodes(snapshot.get("lineItems"))
    return fresh and bool(lines) and all(isinstance(line.get("variant"), dict) for line in lines)


def read_priority(memory: LinkMemory, tiktok_status: TikTokStatus | None = None) -> int:
    """The budget priority of a Shopify order read: that of the action the read serves.

    A read at plain ``READ`` would starve behind a stream of creates (``CREATE_AND_HOLD``)
    while the order it is for waits, unheld, for its hold; so the read for a hold goes at the
    hold's priority, the read before a release at the release's, and so on. A held order
    TikTok has not cleared to ship (``tiktok_status`` UNPAID or ON_HOLD, read in the same
    pass) has no release to serve: its look goes last (``RECHECK``), behind the reads for
    tracking that a merchant's bulk fulfilment is waiting on (a poller sweep makes hundreds
    of held orders due at once; a buyer's cancel shows in TikTok's status and goes at
    ``CANCELLATION``).
    """
    state = memory.state
    if state is LinkState.CREATED_HELD:
        if not memory.held_fulfillment_order_ids:
            return Priority.CREATE_AND_HOLD
        if tiktok_status in (TikTokStatus.UNPAID, TikTokStatus.ON_HOLD):
            return Priority.RECHECK
        if tiktok_status is TikTokStatus.CANCELLED:
            return Priority.CANCELLATION
        return Priority.RELEASE
    if state is LinkState.CANCELLING:
        return Priority.CANCELLATION
    return Priority.READ


def urgency(memory: LinkMemory) -> int:
    """How soon a link's turn should come in a pass: the priority of its first call
    (a link with no Shopify order yet is about to create one)."""
    if memory.shopify_order_id is None and memory.state in (LinkState.NEW, LinkState.CREATING):
        return Priority.CREATE_AND_HOLD
    return read_priority(memory)


async def read_shopify(
    shopify: ShopifyClient,
    truth: LinkTruth,
    order_id: str,
    memory: LinkMemory,
    snapshot: Mapping[str, Any] | None,
    *,
    hold_handle: str,
    now: datetime,
    after_own_holds: bool = False,
) -> None:
    """Read the Shopify order of one link into ``truth`` (its view and raw snapshot).

    Asks only for what the next decision needs (``lean_hold_read``, ``read_sizes``) at the
    priority of the action it serves. A deleted order becomes the gone view; a read that
    fails leaves the view missing (``decide()`` then waits) with a warning.
    """
    priority = read_priority(memory, truth.order.status if truth.order is not None else None)
    lines = len(truth.order.line_items) if truth.order is not None else 0
    try:
        if snapshot is not None and lean_hold_read(memory, snapshot, after_own_holds=after_own_holds):
            found = await shopify.get_fulfillment_orders(
                order_id, priority=priority, fulfillment_orders_first=MIN_FULFILLMENT_ORDERS)
            merged = {**snapshot, "fulfillmentOrders": found.raw.get("fulfillmentOrders")}
            read = OrderSnapshot.from_raw(merged)
            read.truncated = found.truncated
        else:
            sizes = read_sizes(snapshot, lines)
            read = await shopify.get_order(order_id, priority=priority, **sizes)
            if read.truncated and _defaults(sizes):
                read.truncated = False  # as much as one read may ask for: take it
        if read.truncated:  # a list was cut: read the whole snapshot
            read = await shopify.get_order(order_id, priority=priority)
    except NotFound:
        truth.shopify = gone_view(order_id)
        return
    except AuthError:
        raise
    except Exception as exc:  # decide() waits when the view is missing
        truth.warning = f"Shopify order {order_id} could not be read: {exc}"
        return
    try:
        truth.shopify = to_order_view(
            read,
            our_app_holds_handle=hold_handle,
            cancel_job_pending=memory.cancel_job_pending(now),
        )
        truth.shopify_raw = read.raw or None
    except Exception as exc:
        truth.error = f"the Shopify order {order_id} could not be understood: {exc}"
