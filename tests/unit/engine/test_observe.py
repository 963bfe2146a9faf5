"""``observe.fetch_batch``: TikTok reads of a pass run concurrently; Shopify reads carry the
priority of the action they serve (so holds are not starved by a stream of creates)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any, cast

import pytest

from orderbridge.adapters.shopify import Priority, ShopifyClient
from orderbridge.adapters.tiktok import TikTokClient
from orderbridge.domain.link import LinkMemory, LinkState
from orderbridge.engine.observe import BatchFailed, compact_sizes, fetch_batch, read_priority
from orderbridge.errors import RetryableError

NOW = datetime(2026, 11, 16, 17, 0, tzinfo=UTC)


class SlowTikTok:
    """Every call takes ``delay``; records how many were in flight at once."""

    def __init__(self, delay: float = 0.05, fail: BaseException | None = None) -> None:
        self.delay = delay
        self.fail = fail
        self.in_flight = 0
        self.most = 0
        self.calls: list[tuple[str, int]] = []

    async def _call(self, name: str, n: int) -> None:
        self.calls.append((name, n))
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
            if self.fail is not None and name == "returns":
                raise self.fail
        finally:
            self.in_flight -= 1

    async def get_orders(self, ids: Sequence[str]) -> list[Any]:
        await self._call("orders", len(ids))
        return []

    async def _empty(self, name: str, n: int) -> AsyncIterator[Any]:
        await self._call(name, n)
        for item in ():
            yield item

    def iter_cancellations(self, filters: Any) -> AsyncIterator[Any]:
        return self._empty("cancellations", len(filters.order_ids))

    def iter_returns(self, filters: Any) -> AsyncIterator[Any]:
        return self._empty("returns", len(filters.order_ids))


def _wanted(count: int) -> list[tuple[str, str | None, LinkMemory]]:
    return [(f"o{i}", None, LinkMemory()) for i in range(count)]


async def test_tiktok_reads_of_a_pass_run_concurrently_and_in_batches_of_50() -> None:
    tiktok = SlowTikTok()
    shopify = cast(ShopifyClient, object())
    truth = await fetch_batch(cast(TikTokClient, tiktok), shopify, _wanted(120),
                              hold_handle="orderbridge", now=NOW)
    assert sorted(tiktok.calls) == sorted(
        [(kind, n) for kind in ("orders", "cancellations", "returns") for n in (50, 50, 20)]
    )
    assert tiktok.most == 9  # one round trip for the whole pass, not nine
    assert all(t.error == "TikTok did not return this order" for t in truth.links.values())


async def test_a_retryable_failure_of_any_read_puts_the_batch_back() -> None:
    tiktok = SlowTikTok(fail=RetryableError("busy"))
    with pytest.raises(BatchFailed):
        await fetch_batch(cast(TikTokClient, tiktok), cast(ShopifyClient, object()), _wanted(3),
                          hold_handle="orderbridge", now=NOW)


def test_a_read_carries_the_priority_of_the_action_it_serves() -> None:
    assert read_priority(LinkMemory(state=LinkState.CREATED_HELD)) == Priority.CREATE_HOLD
    held = LinkMemory(state=LinkState.CREATED_HELD, held_fulfillment_order_ids=("fo1",))
    assert read_priority(held) == Priority.RELEASE
    assert read_priority(LinkMemory(state=LinkState.CANCELLING)) == Priority.CANCEL
    assert read_priority(LinkMemory(state=LinkState.RELEASED)) == Priority.READ


def test_a_read_for_an_order_under_hold_is_sized_to_the_order() -> None:
    held = LinkMemory(state=LinkState.CREATED_HELD)
    sizes = compact_sizes(held, 3)
    assert sizes["line_items_first"] == 3
    assert sizes["fulfillment_orders_first"] <= 2
    from orderbridge.adapters.shopify import ops_orders
    compact = ops_orders.ORDER.estimate({
        "id": "x", "lineItemsFirst": sizes["line_items_first"],
        "fulfillmentOrdersFirst": sizes["fulfillment_orders_first"],
        "fulfillmentOrderLineItemsFirst": sizes["fulfillment_order_line_items_first"],
        "fulfillmentsFirst": sizes["fulfillments_first"],
        "fulfillmentLineItemsFirst": sizes["fulfillment_line_items_first"],
    })
    assert compact < 150  # the default snapshot requests ~660 points
    assert compact_sizes(LinkMemory(state=LinkState.RELEASED), 3) == {}
    assert compact_sizes(held, 500)["line_items_first"] == ops_orders.DEFAULT_ORDER_LINE_ITEMS_FIRST


async def test_a_cut_compact_read_is_followed_by_a_whole_one() -> None:
    from types import SimpleNamespace

    from orderbridge.engine import observe

    calls: list[dict[str, Any]] = []

    class Shop:
        async def get_order(self, order_id: str, **kw: Any) -> Any:
            calls.append(kw)
            return SimpleNamespace(truncated=len(calls) == 1, raw={})

    truth = observe.LinkTruth("o1")
    await observe._shopify(cast(ShopifyClient, Shop()), truth, "gid://shopify/Order/1",
                           LinkMemory(state=LinkState.CREATED_HELD), "orderbridge", NOW,
                           asyncio.Semaphore(1), 2)
    assert calls[0]["line_items_first"] == 2
    assert calls[0]["priority"] == Priority.CREATE_HOLD
    assert calls[1] == {"priority": Priority.CREATE_HOLD}
