"""The per-store cost bucket and the priority gate."""

from __future__ import annotations

import asyncio

import pytest

from orderbridge.adapters.shopify import Priority, ThrottleRegistry
from orderbridge.adapters.shopify.ops_orders import ORDER
from orderbridge.adapters.shopify.throttle import CostBucket

from .conftest import FakeTime, Harness, cost_ext, gql


def test_bucket_restores_at_rate_and_caps_at_maximum() -> None:
    bucket = CostBucket(maximum=100, restore_rate=10, now=0)
    bucket.observe(maximum=100, currently_available=20, restore_rate=10, now=0)
    assert bucket.level(1.5) == pytest.approx(35)
    assert bucket.level(100) == 100
    assert bucket.seconds_until(50, 0) == pytest.approx(3.0)
    assert bucket.seconds_until(20, 0) == 0
    bucket.reserve(20, 0)
    assert bucket.level(0) == 0
    # A cost above the bucket size waits for a full bucket, not forever.
    assert bucket.seconds_until(500, 0) == pytest.approx(10.0)


def test_registry_shares_one_throttle_per_store() -> None:
    registry = ThrottleRegistry()
    assert registry.for_shop("A.myshopify.com") is registry.for_shop("a.myshopify.com ")
    assert registry.for_shop("a.myshopify.com") is not registry.for_shop("b.myshopify.com")


async def test_waits_before_sending_when_the_bucket_is_short(harness: Harness) -> None:
    client = harness.client()
    order = {"id": "gid://shopify/Order/1", "name": "#1001"}
    harness.server.reply(
        gql({"job": {"id": "gid://shopify/Job/1", "done": True}}, extensions=cost_ext(available=5, rate=50)),
        gql({"order": order}),
    )
    await harness.time.run(client.get_job("gid://shopify/Job/1"))
    assert harness.time.sleeps == []  # the first request found a full (assumed) bucket
    sent_first = harness.server.sent_at[0]

    await harness.time.run(client.get_order("gid://shopify/Order/1"))

    needed = ORDER.estimate(
        {"lineItemsFirst": 50, "fulfillmentOrdersFirst": 5, "fulfillmentOrderLineItemsFirst": 20,
         "fulfillmentsFirst": 5, "fulfillmentLineItemsFirst": 20}
    )
    expected_wait = (needed - 5) / 50
    assert harness.time.sleeps == [pytest.approx(expected_wait)]
    assert harness.server.sent_at[1] - sent_first == pytest.approx(expected_wait)
    assert len(harness.server.requests) == 2  # waited instead of being throttled


async def test_two_clients_of_one_store_share_the_bucket(harness: Harness) -> None:
    first, second = harness.client(), harness.client()
    harness.server.reply(
        gql({"job": {"id": "j", "done": True}}, extensions=cost_ext(available=0, rate=10)),
        gql({"job": {"id": "j", "done": True}}),
    )
    await harness.time.run(first.get_job("j"))
    await harness.time.run(second.get_job("j"))  # cost 1 at 10/s: waits on the first one's bucket
    assert harness.time.sleeps == [pytest.approx(0.1)]


async def test_higher_priority_goes_first() -> None:
    time = FakeTime()
    throttle = ThrottleRegistry(monotonic=time.monotonic, sleep=time.sleep).for_shop("shop.myshopify.com")
    throttle.observe(maximum=100, currently_available=0, restore_rate=10)
    order: list[str] = []

    async def take(name: str, priority: Priority) -> None:
        await throttle.acquire(10, priority)
        order.append(name)

    await time.run(
        asyncio.gather(
            take("tags", Priority.COSMETIC),
            take("tracking", Priority.TRACKING),
            take("create", Priority.CREATE_AND_HOLD),
            take("cancel", Priority.CANCELLATION),
            take("release", Priority.RELEASE),
        )
    )
    # "tags" arrived first and started waiting, yet everything more important went first.
    assert order == ["create", "cancel", "release", "tracking", "tags"]
    assert throttle.waiting == 0
    assert time.now == pytest.approx(1005.0)  # 5 requests x 10 points at 10 points/s


async def test_a_late_important_request_overtakes_a_waiting_one() -> None:
    time = FakeTime()
    throttle = ThrottleRegistry(monotonic=time.monotonic, sleep=time.sleep).for_shop("s")
    throttle.observe(maximum=100, currently_available=0, restore_rate=10)
    order: list[str] = []

    async def take(name: str, priority: Priority, delay: float) -> None:
        if delay:
            await time.sleep(delay)
        await throttle.acquire(20, priority)
        order.append(name)

    # "tags" needs 2 s of budget; "create" shows up after 1 s and must still go first.
    await time.run(asyncio.gather(take("tags", Priority.COSMETIC, 0), take("create", Priority.CREATE_AND_HOLD, 1.0)))
    assert order == ["create", "tags"]


async def test_same_priority_is_first_come_first_served() -> None:
    time = FakeTime()
    throttle = ThrottleRegistry(monotonic=time.monotonic, sleep=time.sleep).for_shop("s")
    throttle.observe(maximum=50, currently_available=0, restore_rate=50)
    order: list[int] = []

    async def take(i: int) -> None:
        await throttle.acquire(25, Priority.TRACKING)
        order.append(i)

    await time.run(asyncio.gather(*(take(i) for i in range(4))))
    assert order == [0, 1, 2, 3]


async def test_cancelled_waiter_leaves_the_queue() -> None:
    time = FakeTime()
    throttle = ThrottleRegistry(monotonic=time.monotonic, sleep=time.sleep).for_shop("s")
    throttle.observe(maximum=10, currently_available=0, restore_rate=1)
    task = asyncio.create_task(throttle.acquire(5, Priority.CANCELLATION))
    await asyncio.sleep(0)
    assert throttle.waiting == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert throttle.waiting == 0


def test_a_reported_level_never_forgets_requests_still_in_flight() -> None:
    bucket = CostBucket(maximum=1000, restore_rate=100)
    bucket.observe(maximum=1000, currently_available=1000, restore_rate=100, now=0.0)
    for _ in range(20):  # twenty creates sent back to back, none answered yet
        bucket.reserve(10, now=0.0)
    # the first answer was measured before the other nineteen ran: 990 left *then*
    bucket.observe(maximum=1000, currently_available=990, restore_rate=100, now=0.0)
    assert bucket.level(0.0) == 800
    # another process spent the budget: a lower report is believed
    bucket.observe(maximum=1000, currently_available=300, restore_rate=100, now=0.0)
    assert bucket.level(0.0) == 300
    # unused points (requested 10, actual 4) come back
    bucket.observe(maximum=1000, currently_available=900, restore_rate=100, now=0.0, refund=6)
    assert bucket.level(0.0) == 306


async def test_a_waiter_is_served_when_a_refund_covers_it_not_after_its_whole_wait() -> None:
    """A dear read reserves its requested cost and is refunded the difference when answered:
    a request waiting at the head of the queue goes as soon as the refund covers it."""
    time = FakeTime()
    throttle = ThrottleRegistry(monotonic=time.monotonic, sleep=time.sleep).for_shop("s")
    throttle.observe(maximum=1000, currently_available=700, restore_rate=100)
    await throttle.acquire(650, Priority.READ)  # requests 650 points, will cost 30
    served_at: list[float] = []

    async def create() -> None:
        await throttle.acquire(10 * 20, Priority.CREATE_AND_HOLD)  # needs 200, 50 left: 1.5 s
        served_at.append(time.now)

    async def answer_after(seconds: float) -> None:
        await time.sleep(seconds)
        throttle.observe(maximum=1000, currently_available=1000, restore_rate=100, refund=620)

    start = time.now
    await time.run(asyncio.gather(create(), answer_after(0.2)))
    assert served_at == [pytest.approx(start + 0.2)]  # the refund woke it, 1.3 s early


async def test_a_change_wakes_the_head_of_the_queue_not_every_waiter(monkeypatch: pytest.MonkeyPatch) -> None:
    """A refund or a departure concerns the head only: the other waiters stay asleep (with
    hundreds waiting in a flash sale, waking them all on every change cost ~10 % of the
    engine's CPU)."""
    woken: list[int] = []

    class CountingEvent(asyncio.Event):
        async def wait(self) -> bool:
            result = await super().wait()
            woken.append(1)
            return result

    monkeypatch.setattr(asyncio, "Event", CountingEvent)
    time = FakeTime()
    throttle = ThrottleRegistry(monotonic=time.monotonic, sleep=time.sleep).for_shop("s")
    throttle.observe(maximum=100, currently_available=0, restore_rate=1)
    served: list[int] = []

    async def take(i: int) -> None:
        await throttle.acquire(50, Priority.READ)
        served.append(i)

    tasks = [asyncio.create_task(take(i)) for i in range(20)]
    for _ in range(5):
        await asyncio.sleep(0)
    assert throttle.waiting == 20
    woken.clear()
    throttle.observe(maximum=100, currently_available=0, restore_rate=1, refund=0.0)  # no room yet
    for _ in range(5):
        await asyncio.sleep(0)
    assert len(woken) == 1  # the head looked again; nineteen slept on
    throttle.observe(maximum=100, currently_available=100, restore_rate=1, refund=100)  # room for two
    for _ in range(10):
        await asyncio.sleep(0)
    assert served == [0, 1]  # the bucket covered the head, then the next head
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert throttle.waiting == 0
