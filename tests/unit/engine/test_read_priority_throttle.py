"""A Shopify read that a hold waits for is not starved by a stream of creates: with the
engine's read priority the throttle serves it in arrival order among the creates."""

from __future__ import annotations

import asyncio

from orderbridge.adapters.shopify import Priority, ThrottleRegistry
from orderbridge.domain.link import LinkMemory, LinkState
from orderbridge.engine.shopify_read import read_priority


async def test_reads_for_holds_are_not_starved_by_creates() -> None:
    now = [0.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds
        await asyncio.sleep(0)

    registry = ThrottleRegistry(monotonic=lambda: now[0], sleep=sleep,
                                default_maximum=20.0, default_restore_rate=10.0)
    throttle = registry.for_shop("tiny.myshopify.com")
    served: list[str] = []

    async def call(name: str, cost: float, priority: int) -> None:
        await throttle.acquire(cost, priority)
        served.append(name)

    hold_read = read_priority(LinkMemory(state=LinkState.CREATED_HELD))
    tasks = [asyncio.create_task(call(f"create{i}", 10.0, Priority.CREATE_AND_HOLD)) for i in range(3)]
    await asyncio.sleep(0)
    tasks.append(asyncio.create_task(call("read", 10.0, hold_read)))
    await asyncio.sleep(0)
    tasks += [asyncio.create_task(call(f"create{i}", 10.0, Priority.CREATE_AND_HOLD)) for i in range(3, 10)]
    await asyncio.gather(*tasks)
    assert served.index("read") == 3  # in arrival order, not after every later create
    # At plain READ priority the same read would wait for all ten creates.
    served.clear()
    tasks = [asyncio.create_task(call(f"create{i}", 10.0, Priority.CREATE_AND_HOLD)) for i in range(3)]
    await asyncio.sleep(0)
    tasks.append(asyncio.create_task(call("read", 10.0, Priority.READ)))
    await asyncio.sleep(0)
    tasks += [asyncio.create_task(call(f"create{i}", 10.0, Priority.CREATE_AND_HOLD)) for i in range(3, 10)]
    await asyncio.gather(*tasks)
    assert served.index("read") > 3
