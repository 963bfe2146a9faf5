"""Client-side rate limiting per (shop, endpoint)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from orderbridge.adapters.tiktok import RateLimiter
from tests.unit.tiktok.fakes import FakeTime, Harness, ok


def test_sliding_window_reservations() -> None:
    time = FakeTime()
    limiter = RateLimiter(3, 1.0, monotonic=time.monotonic, sleep=time.sleep)
    assert [limiter.reserve("k") for _ in range(7)] == [0, 0, 0, 1.0, 1.0, 1.0, 2.0]
    assert limiter.reserve("other") == 0
    time.mono += 5
    assert limiter.reserve("k") == 0


def test_partial_window() -> None:
    time = FakeTime()
    limiter = RateLimiter(2, 1.0, monotonic=time.monotonic, sleep=time.sleep)
    limiter.reserve("k")
    time.mono += 0.75
    limiter.reserve("k")
    assert limiter.reserve("k") == pytest.approx(0.25)


def test_invalid_limits() -> None:
    with pytest.raises(ValueError, match="limit"):
        RateLimiter(0)
    with pytest.raises(ValueError, match="window"):
        RateLimiter(1, 0)


async def test_bursts_queue_per_shop_and_endpoint(make: Callable[..., Harness]) -> None:
    h = make(*[ok({"tracking": []})] * 47, ok({"shops": []}))
    for _ in range(45):
        await h.client.get_order_tracking("576")
    assert h.time.sleeps == []
    await h.client.get_order_tracking("999")  # same endpoint template, same shop
    assert h.time.sleeps == [pytest.approx(1.0)]
    await h.client.get_authorized_shops()  # another endpoint: its own budget
    assert len(h.time.sleeps) == 1
    await h.client.for_shop("ROW_b", "shop-2").get_order_tracking("1")  # another shop
    assert len(h.time.sleeps) == 1
