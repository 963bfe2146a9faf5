"""Fetching the truth for a batch of claimed links of one connection.

One ``get_orders`` call per 50 TikTok orders, the cancellations and returns of those orders
(searched by order ids, 50 at a time), and the Shopify order of every link that has one
(concurrently, the client's throttle paces them). Nothing here writes to the database.

Failures are sorted by reach: ``AuthError`` belongs to the connection (raised to the
worker); a retryable failure of a batch call puts the whole batch back (``BatchFailed``);
anything that concerns one order (a payload that does not translate, one Shopify order
that cannot be read) is that order's problem only (``LinkTruth.error``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from orderbridge.adapters.shopify import ShopifyClient
from orderbridge.adapters.shopify.ops_orders import DEFAULT_ORDER_LINE_ITEMS_FIRST
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
from orderbridge.domain.observed import Cancellation, ReturnRecord, ShopifyOrderView
from orderbridge.domain.order import TikTokOrder
from orderbridge.errors import AuthError, NotFound, RetryableError

__all__ = [
    "CANCEL_JOB_WAIT",
    "BatchFailed",
    "BatchTruth",
    "LinkTruth",
    "compact_sizes",
    "fetch_batch",
    "read_priority",
]

# TikTok's limit on ids per Get Order Detail call, and the ids per after-sale search.
ORDER_IDS_PER_CALL: Final = 50
# At most this many Shopify order reads in flight per batch (the throttle paces them too).
SHOPIFY_READ_CONCURRENCY: Final = 8
# A compact read (an order under our hold): fulfilment orders and fulfilments asked for.
COMPACT_FULFILLMENT_ORDERS: Final = 2
COMPACT_FULFILLMENTS: Final = 1
# An orderCancel job is taken as still running for this long after it was sent.
CANCEL_JOB_WAIT: Final = timedelta(minutes=10)


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


def compact_sizes(memory: LinkMemory, lines: int) -> dict[str, int]:
    """Page sizes of a Shopify order read sized to the order, or ``{}`` for the defaults.

    The throttle reserves a read's *requested* cost before sending it, and the default
    snapshot requests ~660 points (it actually costs ~28): under a busy bucket one such read
    waits seconds for room and blocks every create and hold queued behind it. An order under
    our hold (before release) has about as many Shopify lines as TikTok lines, one or two
    fulfilment orders and no fulfilment yet, so a snapshot sized to it requests ~10x less;
    when any list comes back cut (``truncated``) the caller reads the whole snapshot.
    """
    if memory.state is not LinkState.CREATED_HELD or memory.released_at is not None:
        return {}
    n = min(max(lines, 1), DEFAULT_ORDER_LINE_ITEMS_FIRST)
    return {
        "line_items_first": n,
        "fulfillment_orders_first": COMPACT_FULFILLMENT_ORDERS,
        "fulfillment_order_line_items_first": n,
        "fulfillments_first": COMPACT_FULFILLMENTS,
        "fulfillment_line_items_first": n,
    }


def read_priority(memory: LinkMemory) -> int:
    """The budget priority of a Shopify order read: that of the action the read serves.

    A read at plain ``READ`` would starve behind a stream of creates (``CREATE_HOLD``) while
    the order it is for waits, unheld, for its hold; so the read for a hold goes at the
    hold's priority, the read before a release at the release's, and so on.
    """
    state = memory.state
    if state is LinkState.CREATED_HELD:
        return Priority.RELEASE if memory.held_fulfillment_order_ids else Priority.CREATE_HOLD
    if state is LinkState.CANCELLING:
        return Priority.CANCEL
    return Priority.READ


def cancel_job_pending(memory: LinkMemory, now: datetime) -> bool:
    """Whether an orderCancel we sent may still be running (the snapshot cannot tell)."""
    return (
        memory.state is LinkState.CANCELLING
        and memory.cancel_sent_at is not None
        and now < memory.cancel_sent_at + CANCEL_JOB_WAIT
    )


async def _shopify(
    shopify: ShopifyClient,
    truth: LinkTruth,
    order_id: str,
    memory: LinkMemory,
    hold_handle: str,
    now: datetime,
    gate: asyncio.Semaphore,
    lines: int,
) -> None:
    priority = read_priority(memory)
    async with gate:
        try:
            sizes = compact_sizes(memory, lines)
            snapshot = await shopify.get_order(order_id, priority=priority, **sizes)
            if sizes and snapshot.truncated:  # a list was cut: read the whole snapshot
                snapshot = await shopify.get_order(order_id, priority=priority)
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
            snapshot,
            our_app_holds_handle=hold_handle,
            cancel_job_pending=cancel_job_pending(memory, now),
        )
        truth.shopify_raw = snapshot.raw or None
    except Exception as exc:
        truth.error = f"the Shopify order {order_id} could not be understood: {exc}"


async def fetch_batch(
    tiktok: TikTokClient,
    shopify: ShopifyClient,
    wanted: Sequence[tuple[str, str | None, LinkMemory]],
    *,
    hold_handle: str,
    now: datetime,
) -> BatchTruth:
    """Fetch the truth for ``wanted`` = (TikTok order id, Shopify order id, memory) triples.

    Raises ``AuthError`` (the connection's) and ``BatchFailed`` (retry the batch later).
    """
    ids = list(dict.fromkeys(w[0] for w in wanted))
    truths = {oid: LinkTruth(oid) for oid in ids}
    mirrored = {oid for oid, sid, _memory in wanted if sid}
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
    gate = asyncio.Semaphore(SHOPIFY_READ_CONCURRENCY)
    reads = [
        _shopify(shopify, truths[oid], sid, memory, hold_handle, now, gate,
                 len(order.line_items) if (order := truths[oid].order) is not None else 0)
        for oid, sid, memory in wanted
        if sid and truths[oid].order is not None
    ]
    if reads:
        results = await asyncio.gather(*reads, return_exceptions=True)
        for result in results:
            if isinstance(result, AuthError):
                raise result
            if isinstance(result, BaseException) and not isinstance(result, Exception):
                raise result
    return BatchTruth(truths)
