"""Fetching the truth for the claimed links of one connection.

For the whole batch (``fetch_batch``): one ``get_orders`` call per 50 TikTok orders and the
cancellations and returns of those orders (searched by order ids, 50 at a time). Per link
(``read_shopify``), as that link's turn comes: its Shopify order, asking only for what the
next decision needs, at the priority of the action it serves. A create never waits behind
the batch's reads, and the throttle orders reads and writes alike. Nothing here writes to
the database.

Failures are sorted by reach: ``AuthError`` belongs to the connection (raised to the
worker); a retryable failure of a batch call puts the whole batch back (``BatchFailed``);
anything that concerns one order (a payload that does not translate, one Shopify order
that cannot be read) is that order's problem only (``LinkTruth.error``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
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
from orderbridge.adapters.tiktok import CancellationFilter, ReturnFilter, TikTokClient
from orderbridge.adapters.tiktok.models import Order
from orderbridge.adapters.tiktok.translate import (
    to_domain_cancellation,
    to_domain_order,
    to_domain_return,
)
from orderbridge.domain.link import LinkMemory, LinkState
from orderbridge.domain.observed import Cancellation, ReturnRecord, ShopifyOrderView, ThreePLView
from orderbridge.domain.order import TikTokOrder, TikTokStatus
from orderbridge.errors import AuthError, NotFound, RetryableError

__all__ = [
    "BatchFailed",
    "BatchTruth",
    "LinkTruth",
    "fetch_batch",
    "lean_hold_read",
    "read_priority",
    "read_shopify",
    "read_sizes",
    "urgency",
]

# TikTok's limit on ids per Get Order Detail call, and the ids per after-sale search.
ORDER_IDS_PER_CALL: Final = 50
# A sized read asks for one more line / fulfilment order than last seen, and two more
# fulfilments (a plain list without pageInfo: a full page counts as cut).
SIZE_SLACK: Final = 1
FULFILLMENTS_SLACK: Final = 2
# Fulfilment orders asked for at least (an order is often split over two locations).
MIN_FULFILLMENT_ORDERS: Final = 2


class BatchFailed(Exception):
    """A call covering the whole batch failed in a retryable way: try the batch later."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.cause = cause


@dataclass
class LinkTruth:
    """What was fetched for one link; ``error`` says why it is incomplete."""

    tiktok_order_id: str
    vendor_order: Order | None = None
    order: TikTokOrder | None = None
    cancellations: tuple[Cancellation, ...] = ()
    returns: tuple[ReturnRecord, ...] = ()
    shopify: ShopifyOrderView | None = None
    shopify_raw: dict[str, Any] | None = None
    error: str | None = None  # the order cannot be decided now (exception + back-off)
    error_data: dict[str, Any] = field(default_factory=dict)
    warning: str | None = None  # decided anyway (e.g. the Shopify order could not be read)
    threepl_candidates: tuple[ThreePLView, ...] = ()  # stored 3PL orders (engine/threepl)


@dataclass
class BatchTruth:
    """The truth for every link of a batch, by TikTok order id."""

    links: dict[str, LinkTruth]


def _chunks(values: Sequence[str], size: int) -> list[list[str]]:
    return [list(values[i : i + size]) for i in range(0, len(values), size)]


async def _order_chunk(tiktok: TikTokClient, chunk: list[str]) -> dict[str, Order | BaseException]:
    """Details of up to 50 orders; a batch that cannot be read is retried order by order,
    so one bad payload only affects its own order."""
    found: dict[str, Order | BaseException] = {}
    try:
        orders = await tiktok.get_orders(chunk)
    except (AuthError, RetryableError):
        raise
    except Exception:  # a malformed order in the batch: isolate it
        for order_id in chunk:
            try:
                one = await tiktok.get_order(order_id)
            except (AuthError, RetryableError):
                raise
            except Exception as exc:  # that order's own problem
                found[order_id] = exc
            else:
                if one is not None:
                    found[order_id] = one
        return found
    for order in orders:
        found[order.id] = order
    return found


async def _cancellations(
    tiktok: TikTokClient, chunk: list[str], problems: dict[str, str]
) -> dict[str, list[Cancellation]]:
    cancels: dict[str, list[Cancellation]] = {}
    async for record in tiktok.iter_cancellations(CancellationFilter(order_ids=chunk)):
        try:
            cancels.setdefault(record.order_id, []).append(to_domain_cancellation(record))
        except Exception as exc:  # one odd record: its order's problem
            problems[record.order_id] = f"cancellation {record.cancel_id}: {exc}"
    return cancels


async def _returns(
    tiktok: TikTokClient, chunk: list[str], problems: dict[str, str]
) -> dict[str, list[ReturnRecord]]:
    returns: dict[str, list[ReturnRecord]] = {}
    async for ret in tiktok.iter_returns(ReturnFilter(order_ids=chunk)):
        try:
            returns.setdefault(ret.order_id, []).append(to_domain_return(ret))
        except Exception as exc:
            problems[ret.order_id] = f"return {ret.return_id}: {exc}"
    return returns


async def _tiktok_truth(
    tiktok: TikTokClient, ids: Sequence[str]
) -> tuple[
    dict[str, Order | BaseException],
    dict[str, list[Cancellation]],
    dict[str, list[ReturnRecord]],
    dict[str, str],
]:
    """Order details, cancellations and returns of ``ids``: every call (one of each kind per
    50 ids) runs concurrently, so a pass waits for one round trip, not three or more."""
    problems: dict[str, str] = {}
    chunks = _chunks(ids, ORDER_IDS_PER_CALL)
    try:
        async with asyncio.TaskGroup() as group:
            details = [group.create_task(_order_chunk(tiktok, c)) for c in chunks]
            cancels = [group.create_task(_cancellations(tiktok, c, problems)) for c in chunks]
            rets = [group.create_task(_returns(tiktok, c, problems)) for c in chunks]
    except BaseExceptionGroup as group_error:
        # The connection's problem first (AuthError), then a retryable one, else the first.
        errors = list(_leaves(group_error))
        for kind in (AuthError, RetryableError):
            for error in errors:
                if isinstance(error, kind):
                    raise error from None
        raise errors[0] from None
    found: dict[str, Order | BaseException] = {}
    for task in details:
        found.update(task.result())
    by_order_c: dict[str, list[Cancellation]] = {}
    for ctask in cancels:
        for oid, records in ctask.result().items():
            by_order_c.setdefault(oid, []).extend(records)
    by_order_r: dict[str, list[ReturnRecord]] = {}
    for rtask in rets:
        for oid, items in rtask.result().items():
            by_order_r.setdefault(oid, []).extend(items)
    return found, by_order_c, by_order_r, problems


def _leaves(group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
    out: list[BaseException] = []
    for error in group.exceptions:
        if isinstance(error, BaseExceptionGroup):
            out.extend(_leaves(error))
        else:
            out.append(error)
    return out


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


async def fetch_batch(
    tiktok: TikTokClient, wanted: Sequence[tuple[str, str | None]]
) -> BatchTruth:
    """TikTok's truth for ``wanted`` = (TikTok order id, Shopify order id or None) pairs.

    Raises ``AuthError`` (the connection's) and ``BatchFailed`` (retry the batch later).
    Each link's Shopify order is read afterwards, on its turn (``read_shopify``).
    """
    ids = list(dict.fromkeys(w[0] for w in wanted))
    truths = {oid: LinkTruth(oid) for oid in ids}
    mirrored = {oid for oid, sid in wanted if sid}
    try:
        orders, cancels, returns, problems = await _tiktok_truth(tiktok, ids)
    except AuthError:
        raise
    except RetryableError as exc:
        raise BatchFailed(exc) from exc
    for oid, truth in truths.items():
        got = orders.get(oid)
        if got is None:
            truth.error = "TikTok did not return this order"
            continue
        if isinstance(got, BaseException):
            truth.error = f"TikTok's answer for this order could not be read: {got}"
            truth.error_data = {"error": type(got).__name__}
            continue
        truth.vendor_order = got
        if got.payment is None and oid not in mirrored:
            # Without its amounts the order cannot be mirrored to the cent; wait for them
            # (back-off) rather than create a $0 order. A mirrored order goes on: its money
            # was set at creation, the payment recorded at release is Shopify's outstanding.
            truth.error = "the TikTok order has no payment amounts (no `payment` object)"
            truth.error_data = {"missing": "payment"}
            continue
        try:
            truth.order = to_domain_order(got)
        except Exception as exc:  # the order's own problem
            truth.error = f"the TikTok order could not be understood: {exc}"
            truth.error_data = {"error": type(exc).__name__}
            continue
        truth.cancellations = tuple(cancels.get(oid, ()))
        truth.returns = tuple(returns.get(oid, ()))
        if oid in problems:
            truth.error = problems[oid]
    return BatchTruth(truths)
