"""Paging iterators and batched order detail."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest

from orderbridge.adapters.tiktok import CancellationFilter, InvalidResponse, OrderFilter
from orderbridge.errors import NotFound
from tests.unit.tiktok.fakes import Harness, body_of, fail, ok


async def test_iter_orders_follows_page_tokens(make: Callable[..., Harness]) -> None:
    h = make(
        ok({"orders": [{"id": "1"}, {"id": "2"}], "next_page_token": "t2", "total_count": 5}),
        ok({"orders": [{"id": "3"}, {"id": "4"}], "next_page_token": "t3"}),
        ok({"orders": [{"id": "5"}], "next_page_token": ""}),
    )
    ids = [
        o.id
        async for o in h.client.iter_orders(
            OrderFilter(update_time_ge=None, order_status="AWAITING_SHIPMENT"), page_size=2
        )
    ]
    assert ids == ["1", "2", "3", "4", "5"]
    tokens = [r.url.params.get("page_token") for r in h.fake.requests]
    assert tokens == [None, "t2", "t3"]
    assert all(body_of(r) == {"order_status": "AWAITING_SHIPMENT"} for r in h.fake.requests)


async def test_iter_stops_on_a_repeating_page_token(make: Callable[..., Harness]) -> None:
    h = make(
        ok({"orders": [{"id": "1"}], "next_page_token": "t"}),
        ok({"orders": [{"id": "2"}], "next_page_token": "t"}),
    )
    seen: list[str] = []

    async def drain() -> None:
        async for order in h.client.iter_orders():
            seen.append(order.id)

    with pytest.raises(InvalidResponse, match="repeats"):
        await drain()
    assert seen == ["1", "2"]


async def test_iter_cancellations_and_returns(make: Callable[..., Harness]) -> None:
    h = make(
        ok({"cancellations": [{"cancel_id": "c1"}], "next_page_token": "n"}),
        ok({"cancellations": [{"cancel_id": "c2"}]}),
        ok({"return_orders": [{"return_id": "r1", "return_type": "REFUND"}]}),
    )
    filters = CancellationFilter(cancel_types=["BUYER_CANCEL"], cancel_status=[])
    cancels = [c.cancel_id async for c in h.client.iter_cancellations(filters, page_size=1)]
    returns = [r.return_id async for r in h.client.iter_returns()]
    assert cancels == ["c1", "c2"]
    assert returns == ["r1"]
    assert body_of(h.fake.requests[0]) == {"cancel_types": ["BUYER_CANCEL"]}
    assert h.fake.requests[0].url.params["page_size"] == "1"
    assert h.fake.requests[2].url.path == "/return_refund/202309/returns/search"


async def test_iter_products_with_skus(make: Callable[..., Harness]) -> None:
    product = {
        "id": "p1",
        "title": "Whisk",
        "skus": [{"id": "s1", "seller_sku": "MW", "inventory": [{"quantity": 3}, {"quantity": 2}]}],
    }
    h = make(ok({"products": [product], "next_page_token": ""}))
    products = [p async for p in h.client.iter_products()]
    assert products[0].skus[0].seller_sku == "MW"
    assert products[0].skus[0].total_quantity == 5


def order_router(in_flight: list[int], peak: list[int]) -> Callable[[httpx.Request], object]:
    async def route(request: httpx.Request) -> httpx.Response:
        in_flight[0] += 1
        peak[0] = max(peak[0], in_flight[0])
        await asyncio.sleep(0)  # let the other batches start, if the bound allows
        await asyncio.sleep(0)
        in_flight[0] -= 1
        ids = request.url.params["ids"].split(",")
        return ok({"orders": [{"id": i} for i in ids]})

    return route


async def test_get_orders_batches_by_50_with_bounded_concurrency(
    make: Callable[..., Harness],
) -> None:
    in_flight, peak = [0], [0]
    h = make(router=order_router(in_flight, peak), fanout=2)
    ids = [str(i) for i in range(170)] + ["3", "4"]  # duplicates are asked once
    orders = await h.client.get_orders(ids)
    assert [o.id for o in orders] == [str(i) for i in range(170)]
    sizes = [len(r.url.params["ids"].split(",")) for r in h.fake.requests]
    assert sorted(sizes) == [20, 50, 50, 50]
    assert all(r.url.path == "/order/202507/orders" for r in h.fake.requests)
    assert peak[0] == 2


async def test_get_orders_empty_makes_no_call(make: Callable[..., Harness]) -> None:
    h = make()
    assert await h.client.get_orders([]) == []
    assert h.fake.requests == []


async def test_get_orders_failure_raises_and_leaves_no_task_behind(
    make: Callable[..., Harness],
) -> None:
    finished: list[str] = []

    async def route(request: httpx.Request) -> httpx.Response:
        ids = request.url.params["ids"]
        if ids.startswith("0,"):
            return fail(21008111, "order not belong to seller")
        for _ in range(5):
            await asyncio.sleep(0)
        finished.append(ids)
        return ok({"orders": []})

    h = make(router=route, fanout=3)
    with pytest.raises(NotFound):
        await h.client.get_orders([str(i) for i in range(150)])
    assert finished == []  # the slower batches were cancelled
    assert asyncio.all_tasks() == {asyncio.current_task()}


async def test_get_order_single(make: Callable[..., Harness]) -> None:
    h = make(ok({"orders": [{"id": "576", "status": "CANCEL"}]}))
    order = await h.client.get_order("576")
    assert order is not None
    assert order.status == "CANCELLED"
    assert h.recorder.calls[0].order_ref == "576"
