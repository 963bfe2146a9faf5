"""Fetching TikTok's truth for the claimed links of one connection.

For the whole batch (``fetch_batch``): one ``get_orders`` call per 50 TikTok orders and the
cancellations and returns of those orders (searched by order ids, 50 at a time). Each
link's Shopify order is read later, on that link's turn (``shopify_read.read_shopify``),
into the same ``LinkTruth``. Nothing here writes to the database.

Failures are sorted by reach: ``AuthError`` belongs to the connection (raised to the
worker); a retryable failure of a batch call puts the whole batch back (``BatchFailed``);
anything that concerns one order (a payload that does not translate, one Shopify order
that cannot be read) is that order's problem only (``LinkTruth.error``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from orderbridge.adapters.tiktok import CancellationFilter, ReturnFilter, TikTokClient
from orderbridge.adapters.tiktok.models import Order
from orderbridge.adapters.tiktok.translate import (
    to_domain_cancellation,
    to_domain_order,
    to_domain_return,
)
from orderbridge.domain.observed import Cancellation, ReturnRecord, ShopifyOrderView, ThreePLView
from orderbridge.domain.order import TikTokOrder
from orderbridge.errors import AuthError, RetryableError

__all__ = [
    "BatchFailed",
    "BatchTruth",
    "LinkTruth",
    "fetch_batch",
]

# TikTok's limit on ids per Get Order Detail call, and the ids per after-sale search.
ORDER_IDS_PER_CALL: Final = 50


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



async def fetch_batch(
    tiktok: TikTokClient, wanted: Sequence[tuple[str, str | None]]
) -> BatchTruth:
    """TikTok's truth for ``wanted`` = (TikTok order id, Shopify order id or None) pairs.

    Raises ``AuthError`` (the connection's) and ``BatchFailed`` (retry the batch later).
    Each link's Shopify order is read afterwards, on its turn (``shopify_read.read_shopify``).
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
