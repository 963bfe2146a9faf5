"""``observe``: TikTok reads of a pass run concurrently; each link's Shopify read asks only
for what its decision needs, at the priority of the action it serves."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any, cast

import pytest

from orderbridge.adapters.shopify import Priority, ShopifyClient, ops_orders
from orderbridge.adapters.tiktok import TikTokClient
from orderbridge.domain.link import LinkMemory, LinkState
from orderbridge.domain.order import TikTokStatus
from orderbridge.engine.observe import BatchFailed, LinkTruth, fetch_batch
from orderbridge.engine.shopify_read import (
    lean_hold_read,
    read_priority,
    read_shopify,
    read_sizes,
    urgency,
)
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


def _wanted(count: int) -> list[tuple[str, str | None]]:
    return [(f"o{i}", None) for i in range(count)]


async def test_tiktok_reads_of_a_pass_run_concurrently_and_in_batches_of_50() -> None:
    tiktok = SlowTikTok()
    truth = await fetch_batch(cast(TikTokClient, tiktok), _wanted(120))
    assert sorted(tiktok.calls) == sorted(
        [(kind, n) for kind in ("orders", "cancellations", "returns") for n in (50, 50, 20)]
    )
    assert tiktok.most == 9  # one round trip for the whole pass, not nine
    assert all(t.error == "TikTok did not return this order" for t in truth.links.values())


async def test_a_retryable_failure_of_any_read_puts_the_batch_back() -> None:
    tiktok = SlowTikTok(fail=RetryableError("busy"))
    with pytest.raises(BatchFailed):
        await fetch_batch(cast(TikTokClient, tiktok), _wanted(3))


def test_a_read_carries_the_priority_of_the_action_it_serves() -> None:
    assert read_priority(LinkMemory(state=LinkState.CREATED_HELD)) == Priority.CREATE_AND_HOLD
    held = LinkMemory(state=LinkState.CREATED_HELD, held_fulfillment_order_ids=("fo1",))
    assert read_priority(held) == Priority.RELEASE
    assert read_priority(LinkMemory(state=LinkState.CANCELLING)) == Priority.CANCELLATION
    assert read_priority(LinkMemory(state=LinkState.RELEASED)) == Priority.READ


def test_a_held_orders_look_serves_a_release_only_once_tiktok_clears_it() -> None:
    held = LinkMemory(state=LinkState.CREATED_HELD, held_fulfillment_order_ids=("fo1",))
    for waiting in (TikTokStatus.UNPAID, TikTokStatus.ON_HOLD):  # no release to serve yet
        assert read_priority(held, waiting) == Priority.RECHECK
    assert read_priority(held, TikTokStatus.AWAITING_SHIPMENT) == Priority.RELEASE
    assert read_priority(held, TikTokStatus.CANCELLED) == Priority.CANCELLATION
    unheld = LinkMemory(state=LinkState.CREATED_HELD)  # the hold itself never waits behind reads
    assert read_priority(unheld, TikTokStatus.ON_HOLD) == Priority.CREATE_AND_HOLD


def _cost(sizes: dict[str, int]) -> int:
    return ops_orders.ORDER.estimate({
        "id": "x", "lineItemsFirst": sizes["line_items_first"],
        "fulfillmentOrdersFirst": sizes["fulfillment_orders_first"],
        "fulfillmentOrderLineItemsFirst": sizes["fulfillment_order_line_items_first"],
        "fulfillmentsFirst": sizes["fulfillments_first"],
        "fulfillmentLineItemsFirst": sizes["fulfillment_line_items_first"],
    })


def _line(i: int, variant: bool = True) -> dict[str, Any]:
    return {"id": f"L{i}", "quantity": 1, "variant": {"id": f"V{i}"} if variant else None}


def _snapshot(lines: int, fos: int = 0, fulfillments: int = 0) -> dict[str, Any]:
    nodes = [_line(i) for i in range(lines)]
    fo_lines = {"nodes": [{"id": f"FL{i}", "remainingQuantity": 1, "lineItem": {"id": f"L{i}"}}
                          for i in range(lines)]}
    return {
        "id": "gid://shopify/Order/1", "name": "#1001", "lineItems": {"nodes": nodes},
        "fulfillmentOrders": {"nodes": [{"id": f"FO{i}", "status": "OPEN", "lineItems": fo_lines}
                                        for i in range(fos)]},
        "fulfillments": [{"id": f"F{i}", "fulfillmentLineItems": {"nodes": [{"quantity": 1, "lineItem": {"id": "L0"}}]}}
                         for i in range(fulfillments)],
    }


def test_every_read_is_sized_to_what_was_last_seen_of_the_order() -> None:
    defaults = _cost({"line_items_first": ops_orders.DEFAULT_ORDER_LINE_ITEMS_FIRST,
                      "fulfillment_orders_first": ops_orders.DEFAULT_FULFILLMENT_ORDERS_FIRST,
                      "fulfillment_order_line_items_first": ops_orders.DEFAULT_FULFILLMENT_ORDER_LINE_ITEMS_FIRST,
                      "fulfillments_first": ops_orders.DEFAULT_FULFILLMENTS_FIRST,
                      "fulfillment_line_items_first": ops_orders.DEFAULT_FULFILLMENT_LINE_ITEMS_FIRST})
    assert defaults > 600  # what every read used to request
    # Before any read: sized by the TikTok lines.
    first = read_sizes(None, 3)
    assert first["line_items_first"] == 4
    assert first["fulfillment_orders_first"] == 2
    assert _cost(first) < 150
    # A released order with one fulfilment: room for one more of each, no more.
    shipped = read_sizes(_snapshot(1, fos=1, fulfillments=1), 1)
    assert shipped == {"line_items_first": 2, "fulfillment_orders_first": 2,
                       "fulfillment_order_line_items_first": 2, "fulfillments_first": 3,
                       "fulfillment_line_items_first": 2}
    assert _cost(shipped) * 6 < defaults
    # Never beyond what one read may ask for.
    big = read_sizes(_snapshot(80, fos=9, fulfillments=9), 80)
    assert big["line_items_first"] == ops_orders.DEFAULT_ORDER_LINE_ITEMS_FIRST
    assert big["fulfillments_first"] == ops_orders.DEFAULT_FULFILLMENTS_FIRST


def test_the_lean_read_is_only_for_finding_what_to_hold_after_a_create() -> None:
    just_created = LinkMemory(state=LinkState.CREATED_HELD, shopify_order_id="gid://shopify/Order/1")
    from_create = {"id": "gid://shopify/Order/1", "name": "#1001", "lineItems": {"nodes": [_line(1)]}}
    assert lean_hold_read(just_created, from_create)
    assert lean_hold_read(just_created, {**from_create, "fulfillmentOrders": {"nodes": []}})
    assert not lean_hold_read(just_created, None)
    assert not lean_hold_read(just_created, _snapshot(1, fos=1))  # its FOs are known: read all
    custom = {**from_create, "lineItems": {"nodes": [_line(1, variant=False)]}}
    assert not lean_hold_read(just_created, custom)  # a swap may edit the lines
    held = LinkMemory(state=LinkState.CREATED_HELD, held_fulfillment_order_ids=("FO1",))
    assert not lean_hold_read(held, from_create)
    assert not lean_hold_read(LinkMemory(state=LinkState.RELEASED), from_create)


class ReadingShop:
    """A Shopify client that records reads and answers from scripted payloads."""

    def __init__(self, truncated: list[bool]) -> None:
        self.truncated = truncated
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def get_order(self, order_id: str, **kw: Any) -> Any:
        from orderbridge.adapters.shopify.models import OrderSnapshot
        self.calls.append(("order", kw))
        snap = OrderSnapshot.from_raw(_snapshot(1, fos=1))
        snap.truncated = self.truncated.pop(0) if self.truncated else False
        return snap

    async def get_fulfillment_orders(self, order_id: str, **kw: Any) -> Any:
        from orderbridge.adapters.shopify.models import OrderFulfillmentOrders
        self.calls.append(("fulfillment_orders", kw))
        fos = {"nodes": [{"id": "FO9", "status": "OPEN", "fulfillmentHolds": [],
                          "lineItems": {"nodes": []}}]}
        return OrderFulfillmentOrders.from_raw({"id": order_id, "fulfillmentOrders": fos})


async def test_after_a_create_only_the_fulfilment_orders_are_read_and_merged() -> None:
    shop = ReadingShop([])
    truth = LinkTruth("o1")
    memory = LinkMemory(state=LinkState.CREATED_HELD, shopify_order_id="gid://shopify/Order/1")
    from_create = {"id": "gid://shopify/Order/1", "name": "#1001",
                   "lineItems": {"nodes": [{"id": "L1", "quantity": 1, "variant": {"id": "V1"}}]}}
    await read_shopify(cast(ShopifyClient, shop), truth, "gid://shopify/Order/1", memory,
                       from_create, hold_handle="orderbridge", now=NOW)
    assert [c[0] for c in shop.calls] == ["fulfillment_orders"]
    assert shop.calls[0][1]["priority"] == Priority.CREATE_AND_HOLD
    assert truth.shopify is not None
    assert [fo.id for fo in truth.shopify.fulfillment_orders] == ["FO9"]
    assert [line.id for line in truth.shopify.line_items] == ["L1"]
    assert truth.shopify_raw is not None
    assert truth.shopify_raw["name"] == "#1001"


async def test_a_cut_sized_read_is_followed_by_a_whole_one() -> None:
    shop = ReadingShop([True])
    truth = LinkTruth("o1")
    await read_shopify(cast(ShopifyClient, shop), truth, "gid://shopify/Order/1",
                       LinkMemory(state=LinkState.RELEASED), _snapshot(1, fos=1),
                       hold_handle="orderbridge", now=NOW)
    assert [c[0] for c in shop.calls] == ["order", "order"]
    assert shop.calls[0][1]["line_items_first"] == 2
    assert shop.calls[1][1] == {"priority": Priority.READ}
    assert truth.shopify is not None
    assert truth.warning is None


def test_creates_and_holds_take_the_first_turns_of_a_pass() -> None:
    new = LinkMemory()
    hold = LinkMemory(state=LinkState.CREATED_HELD, shopify_order_id="s")
    tracking = LinkMemory(state=LinkState.RELEASED, shopify_order_id="s")
    ordered = sorted([tracking, hold, new], key=urgency)
    assert ordered[:2] == [new, hold] or ordered[:2] == [hold, new]
    assert ordered[-1] is tracking
