import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from orderbridge.clock import ManualClock, ScaledClock
from orderbridge.sandbox.common.faults import (
    EndpointRule,
    FaultAction,
    FaultPlan,
    StreamRule,
    apply_faults,
)
from orderbridge.sandbox.common.scheduler import Scheduler
from orderbridge.sandbox.common.webhooks import DeliveryStatus, WebhookDispatcher

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


async def test_scheduler_runs_callbacks_in_time_order_when_due() -> None:
    clock = ManualClock(T0)
    scheduler = Scheduler(clock)
    ran: list[str] = []

    async def later() -> None:
        ran.append("later")

    scheduler.call_later(timedelta(hours=1), later, name="later")
    scheduler.call_later(timedelta(minutes=1), lambda: ran.append("soon"))
    cancelled = scheduler.call_later(timedelta(minutes=2), lambda: ran.append("never"))
    cancelled.cancel()
    assert await scheduler.run_due() == 0
    clock.advance(timedelta(minutes=5))
    assert await scheduler.run_due() == 1
    clock.advance(timedelta(hours=1))
    await scheduler.run_due()
    assert ran == ["soon", "later"]
    assert scheduler.next_due() is None


async def test_a_failing_callback_is_recorded_and_does_not_stop_others() -> None:
    clock = ManualClock(T0)
    scheduler = Scheduler(clock)
    ran: list[int] = []

    def boom() -> None:
        raise RuntimeError("broken")

    scheduler.call_later(timedelta(0), boom, name="boom")
    scheduler.call_later(timedelta(0), lambda: ran.append(1))
    await scheduler.run_due()
    assert ran == [1]
    assert scheduler.errors
    assert "boom" in scheduler.errors[0]


async def test_run_loop_wakes_on_clock_jump() -> None:
    clock = ScaledClock(T0, rate=0)  # frozen until advanced
    scheduler = Scheduler(clock)
    fired = asyncio.Event()
    scheduler.call_later(timedelta(hours=3), fired.set)
    task = asyncio.create_task(scheduler.run())
    await asyncio.sleep(0.05)
    assert not fired.is_set()
    clock.advance(timedelta(hours=3))
    await asyncio.wait_for(fired.wait(), timeout=2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    scheduler.close()


def test_fault_plan_is_deterministic_under_a_seed_and_respects_limits() -> None:
    def run(seed: int) -> list[FaultAction]:
        plan = FaultPlan(seed=seed)
        plan.add_endpoint_rule(EndpointRule(sandbox="shopify", match="order*", error_rate=0.5))
        return [plan.decide("shopify", "orderCreate").action for _ in range(40)]

    assert run(7) == run(7)
    assert FaultAction.ERROR in run(7)
    assert FaultAction.NONE in run(7)

    plan = FaultPlan()
    plan.add_endpoint_rule(EndpointRule(sandbox="tiktok", match="POST *", drop_response_rate=1, limit=1))
    assert plan.decide("tiktok", "GET /x").action is FaultAction.NONE
    assert plan.decide("tiktok", "POST /x").action is FaultAction.DROP_RESPONSE
    assert plan.decide("tiktok", "POST /x").action is FaultAction.NONE
    assert plan.decide("shopify", "POST /x").action is FaultAction.NONE
    with pytest.raises(ValueError, match="rates"):
        plan.add_endpoint_rule(EndpointRule(sandbox="tiktok", error_rate=0.7, throttle_rate=0.7))


async def test_apply_faults_error_throttle_and_dropped_response() -> None:
    plan = FaultPlan()
    done: list[str] = []

    async def handler() -> str:
        done.append("work")
        return "ok"

    async def gone() -> bool:
        return True

    def error(action: FaultAction) -> str:
        return f"error:{action}"

    assert await apply_faults(plan, "tiktok", "k", gone, handler, error) == "ok"
    plan.add_endpoint_rule(EndpointRule(sandbox="tiktok", match="k", error_rate=1, limit=1))
    assert await apply_faults(plan, "tiktok", "k", gone, handler, error) == "error:error"
    plan.add_endpoint_rule(EndpointRule(sandbox="tiktok", match="k", throttle_rate=1, limit=1))
    assert await apply_faults(plan, "tiktok", "k", gone, handler, error) == "error:throttle"
    plan.add_endpoint_rule(EndpointRule(sandbox="tiktok", match="k", timeout_rate=1, limit=1))
    assert await apply_faults(plan, "tiktok", "k", gone, handler, error) == "error:timeout"
    plan.add_endpoint_rule(EndpointRule(sandbox="tiktok", match="k", drop_response_rate=1, limit=1))
    # the work is done (committed) even though the client never hears back
    assert await apply_faults(plan, "tiktok", "k", gone, handler, error) == "ok"
    assert done == ["work", "work"]


async def test_webhook_dispatcher_retries_on_its_schedule_in_virtual_time() -> None:
    clock = ManualClock(T0)
    scheduler = Scheduler(clock)
    seen: list[datetime] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        seen.append(clock.now())
        return httpx.Response(500 if len(seen) < 3 else 200)

    http = httpx.AsyncClient(transport=httpx.MockTransport(receiver))
    schedule = [timedelta(minutes=2), timedelta(minutes=30), timedelta(hours=3)]
    dispatcher = WebhookDispatcher("tiktok", clock, scheduler, FaultPlan(), schedule, http=http)
    delivery = dispatcher.enqueue("http://engine/webhooks", "ORDER_STATUS_CHANGE", b"{}", {})
    await scheduler.run_due()
    clock.advance(timedelta(minutes=2))
    await scheduler.run_due()
    clock.advance(timedelta(minutes=30))
    await scheduler.run_due()
    assert delivery.status is DeliveryStatus.DELIVERED
    assert seen == [T0, T0 + timedelta(minutes=2), T0 + timedelta(minutes=32)]
    assert [a.status for a in delivery.attempts] == [500, 500, 200]
    await dispatcher.aclose()


async def test_webhook_stream_faults_drop_and_duplicate() -> None:
    clock = ManualClock(T0)
    scheduler = Scheduler(clock)
    bodies: list[bytes] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        return httpx.Response(200)

    plan = FaultPlan()
    plan.add_stream_rule(StreamRule(sandbox="shopify", match="orders/*", drop_rate=1, limit=1))
    plan.add_stream_rule(StreamRule(sandbox="shopify", match="orders/*", duplicate_rate=1, limit=1))
    http = httpx.AsyncClient(transport=httpx.MockTransport(receiver))
    dispatcher = WebhookDispatcher("shopify", clock, scheduler, plan, [], http=http)
    dropped = dispatcher.enqueue("http://e/", "orders/updated", b"1", {})
    duplicated = dispatcher.enqueue("http://e/", "orders/updated", b"2", {})
    clock.advance(1)
    await scheduler.run_due()
    assert dropped.status is DeliveryStatus.DROPPED
    assert duplicated.status is DeliveryStatus.DELIVERED
    assert bodies == [b"2", b"2"]
    again = dispatcher.redeliver(duplicated.id)
    assert again is not None
    clock.advance(1)
    await scheduler.run_due()
    assert bodies == [b"2", b"2", b"2"]
    await dispatcher.aclose()


async def test_callbacks_due_together_wait_concurrently_but_start_in_order() -> None:
    clock = ManualClock(T0)
    scheduler = Scheduler(clock)
    started: list[str] = []
    release = asyncio.Event()

    async def slow() -> None:
        started.append("slow")
        await release.wait()  # a receiver that takes its time

    async def quick() -> None:
        started.append("quick")
        release.set()  # would deadlock if run only after slow() finished

    scheduler.call_later(timedelta(0), slow)
    scheduler.call_later(timedelta(0), quick)
    assert await asyncio.wait_for(scheduler.run_due(), timeout=2) == 2
    assert started == ["slow", "quick"]


async def test_a_failing_awaitable_callback_is_recorded_too() -> None:
    clock = ManualClock(T0)
    scheduler = Scheduler(clock)

    async def broken() -> None:
        raise RuntimeError("receiver exploded")

    scheduler.call_later(timedelta(0), broken, name="broken")
    await scheduler.run_due()
    assert scheduler.errors
    assert "broken" in scheduler.errors[0]


async def test_run_loop_does_not_hold_a_due_entry_behind_a_slow_one() -> None:
    """A delivery waiting for a slow receiver must not delay one that becomes due later."""
    clock = ScaledClock(T0, rate=0)  # frozen until advanced
    scheduler = Scheduler(clock)
    release = asyncio.Event()
    second = asyncio.Event()

    async def slow() -> None:
        await release.wait()

    async def failing() -> None:
        raise RuntimeError("receiver exploded")

    scheduler.call_later(timedelta(0), slow, name="slow")
    scheduler.call_later(timedelta(0), failing, name="failing")
    task = asyncio.create_task(scheduler.run())
    await asyncio.sleep(0.05)
    scheduler.call_later(timedelta(seconds=1), second.set, name="second")
    clock.advance(timedelta(seconds=1))
    await asyncio.wait_for(second.wait(), timeout=2)  # while slow() still waits
    assert not release.is_set()
    assert any("failing" in e for e in scheduler.errors)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    scheduler.close()


async def test_webhook_dispatcher_bounds_deliveries_in_flight(monkeypatch: pytest.MonkeyPatch) -> None:
    from orderbridge.sandbox.common import webhooks

    monkeypatch.setattr(webhooks, "MAX_CONCURRENT_DELIVERIES", 3)
    clock = ManualClock(T0)
    scheduler = Scheduler(clock)
    now_in_flight = 0
    peak = 0

    async def receiver(request: httpx.Request) -> httpx.Response:
        nonlocal now_in_flight, peak
        now_in_flight += 1
        peak = max(peak, now_in_flight)
        await asyncio.sleep(0.01)
        now_in_flight -= 1
        return httpx.Response(200)

    http = httpx.AsyncClient(transport=httpx.MockTransport(receiver))
    dispatcher = WebhookDispatcher("tiktok", clock, scheduler, FaultPlan(), [], http=http)
    sent = [dispatcher.enqueue("http://engine/webhooks", "ORDER_STATUS_CHANGE", b"{}", {}) for _ in range(12)]
    await scheduler.run_due()
    assert all(d.status is DeliveryStatus.DELIVERED for d in sent)
    assert peak == 3
    await dispatcher.aclose()


async def test_a_duplicate_arrives_on_the_retry_schedule_not_at_once() -> None:
    """TikTok and Shopify resend minutes apart: a duplicated delivery's twin comes after the
    schedule's first gap (2 min here), never a millisecond after the first."""
    clock = ManualClock(T0)
    scheduler = Scheduler(clock)
    arrivals: list[float] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        arrivals.append((clock.now() - T0).total_seconds())
        return httpx.Response(200)

    plan = FaultPlan()
    plan.add_stream_rule(StreamRule(sandbox="tiktok", match="*", duplicate_rate=1, limit=1))
    http = httpx.AsyncClient(transport=httpx.MockTransport(receiver))
    dispatcher = WebhookDispatcher("tiktok", clock, scheduler, plan, [timedelta(minutes=2)], http=http)
    dispatcher.enqueue("http://e/", "ORDER_STATUS_CHANGE", b"1", {})
    clock.advance(1)
    await scheduler.run_due()
    assert arrivals == [1.0]
    clock.advance(119)
    await scheduler.run_due()
    assert arrivals == [1.0, 120.0]
    await dispatcher.aclose()
