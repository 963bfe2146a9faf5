"""The engine under failure: faults, races, abandoned leases, restarts, bad orders."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from orderbridge.adapters.db import cursors, links, order_exceptions, transaction
from orderbridge.adapters.db.tables import connections as connections_table
from orderbridge.adapters.tiktok import translate as tiktok_translate
from orderbridge.bootstrap import Services
from orderbridge.clock import ManualClock
from orderbridge.engine import observe
from orderbridge.engine.poller import poll_connection
from orderbridge.engine.worker import AUTH_RETRY, Reconciler

from .conftest import HOUR, Harness

ITEMS: list[dict[str, Any]] = [{"seller_sku": "MW-SET-NAT", "units": 1}]


async def _one_order_each(h: Harness, ids: list[str]) -> None:
    for order_id in ids:
        assert len(await h.shopify_orders(order_id)) == 1, order_id


async def test_the_poller_finds_orders_no_webhook_announced(harness: Harness) -> None:
    h = harness
    ids = [await h.place(items=ITEMS) for _ in range(3)]
    report = await poll_connection(h.services, h.connection, "poller-test")
    assert report.orders >= 3
    assert report.created >= 3
    await h.settle()
    await _one_order_each(h, ids)
    with transaction(h.services.db, write=False) as conn:
        assert cursors.get_cursor(conn, h.connection.id, "orders") is not None
    # Another process's poller is kept out by the lease.
    assert (await poll_connection(h.services, h.connection, "someone-else")).skipped


async def test_two_reconcilers_racing_never_double_process(harness: Harness) -> None:
    h = harness
    ids = [await h.place(items=ITEMS) for _ in range(12)]
    h.mark_due(*ids)
    rivals = [Reconciler(h.services, f"rival-{i}", batch=5) for i in range(3)]
    for _ in range(10):
        counts = await asyncio.gather(*(r.run_once() for r in rivals))
        if not any(counts):
            break
    await h.settle()
    await _one_order_each(h, ids)
    with transaction(h.services.db, write=False) as conn:
        leased = [links.find_link(conn, h.connection.id, i) for i in ids]
    assert all(row is not None and row.lease_owner is None for row in leased)


async def test_5xx_and_429_from_both_apis_are_retried_with_backoff(harness: Harness) -> None:
    h = harness
    await h.control.add_fault("shopify", "orderCreate", error_rate=1.0, limit=2)
    await h.control.add_fault("shopify", "*", throttle_rate=0.3, limit=10)
    await h.control.add_fault("tiktok", "GET /order/202507/orders", error_rate=1.0, limit=4)
    await h.control.add_fault("tiktok", "*", throttle_rate=0.3, limit=10)
    ids = [await h.place(items=ITEMS) for _ in range(3)]
    h.mark_due(*ids)
    for _ in range(12):  # back-offs are short at first; let them come due
        await h.settle()
        await h.control.advance(60)
    await _one_order_each(h, ids)
    assert all(h.link(i).state == "created_held" for i in ids)


async def test_lost_order_create_with_lagging_search_makes_one_order(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness
    runtime = await h.reconciler._runtime(h.connection.id)
    assert runtime is not None
    # The dropped response hangs until the client gives up: make that one second.
    monkeypatch.setattr(runtime.shopify, "_timeout", httpx.Timeout(1.0))
    await h.control.shopify_timing(index_lag_seconds=90)
    await h.control.add_fault("shopify", "orderCreate", drop_response_rate=1.0, limit=1)
    order_id = await h.place(items=ITEMS)
    h.mark_due(order_id)
    await h.settle()
    assert h.link(order_id).state in ("create_unknown", "creating")
    for _ in range(20):
        await h.control.advance(30)
        await h.settle()
    assert len(await h.shopify_orders(order_id)) == 1
    assert h.link(order_id).state == "created_held"


async def test_late_fulfilment_orders_are_held_when_they_appear(harness: Harness) -> None:
    h = harness
    await h.control.shopify_timing(fulfillment_order_delay_seconds=120)
    order_id = await h.place(items=ITEMS)
    h.mark_due(order_id)
    await h.settle()
    await h.advance(10)
    shop_order = await h.control.shopify_order(h.link(order_id).shopify_order_id or "")
    assert not shop_order["fulfillment_orders"]
    await h.advance(300)
    shop_order = await h.control.shopify_order(h.link(order_id).shopify_order_id or "")
    holds = [hold for fo in shop_order["fulfillment_orders"] for hold in fo["holds"]]
    assert holds
    assert all(hold["handle"] == "orderbridge" for hold in holds)


async def test_a_restart_fires_the_pending_release_timer(harness: Harness) -> None:
    h = harness
    order_id = await h.place(items=ITEMS)
    h.mark_due(order_id)
    await h.settle()
    await h.advance(10)
    assert h.link(order_id).state == "created_held"
    # The process goes away; a new one (new Services, new Reconciler) opens the same DB.
    fresh = Services.create(h.services.settings, clock=h.services.clock, http=h.http, migrate_db=False)
    try:
        for _ in range(10):
            await h.control.advance(15 * 60)
            await h.settle(Reconciler(fresh, "after-restart"))
        assert h.link(order_id).state == "released"
    finally:
        fresh.db.dispose()


class _Killed(BaseException):
    """What SIGKILL looks like from inside: nothing after this point runs."""


async def _die_after_one(done: list[str]) -> None:
    if done:
        raise _Killed


async def _watched(
    h: Harness, name: str, monkeypatch: pytest.MonkeyPatch,
    before: Callable[[list[str]], Awaitable[None]] | None = None,
) -> tuple[Reconciler, list[str]]:
    """A reconciler whose executor records the kind of every action it runs (after
    ``before(done)``, which may raise to play a crash)."""
    reconciler = Reconciler(h.services, name, batch=10)
    runtime = await reconciler._runtime(h.connection.id)
    assert runtime is not None
    real = runtime.executor.execute
    done: list[str] = []

    async def execute(action: Any, ctx: Any) -> Any:
        if before is not None:
            await before(done)
        done.append(action.kind.value)
        return await real(action, ctx)

    monkeypatch.setattr(runtime.executor, "execute", execute)
    return reconciler, done


async def test_a_worker_killed_between_two_actions_is_finished_by_another(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness
    order_id = await h.place(items=ITEMS)
    h.mark_due(order_id)
    await h.settle()
    await h.advance(10)
    assert h.link(order_id).state == "created_held"
    await h.control.advance(HOUR + 1)  # AWAITING_SHIPMENT: the release takes three actions

    doomed, done = await _watched(h, "doomed", monkeypatch, _die_after_one)
    monkeypatch.setattr(doomed, "_release_all", _no_release)
    h.mark_due(order_id)
    with pytest.raises(_Killed):
        await doomed.run_once()
    assert done == ["update_shopify_address"]
    assert h.link(order_id).lease_owner == "doomed"

    await h.settle()  # the lease still holds: nobody touches the order
    assert h.link(order_id).lease_owner == "doomed"
    await h.control.advance(h.services.settings.lease_seconds + 1)
    await h.settle()
    link = h.link(order_id)
    assert link.state == "released"
    assert link.lease_owner is None
    shop_order = await h.control.shopify_order(link.shopify_order_id or "")
    assert shop_order["financial_status"].upper() == "PAID"
    assert len([t for t in shop_order["transactions"] if t["manual"]]) == 1
    assert len(await h.shopify_orders(order_id)) == 1


async def _no_release(*_args: Any) -> None:
    return None


PUERTO_RICO: dict[str, str] = {
    "name": "Ana Rivera", "address_line1": "151 Calle San Francisco", "city": "San Juan",
    "county": "San Juan", "state": "Puerto Rico", "state_code": "PR", "postal_code": "00901",
}


async def test_a_territory_order_stopped_before_its_hold_is_held_after_restart(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Created, then the engine stopped before the hold; it comes back after the hour.

    TikTok now shows the Puerto Rico address: UNSUPPORTED_DESTINATION is raised, and the
    hold still goes on every open fulfilment order (an exception never stops a protective
    action), so no warehouse can ship it.
    """
    h = harness
    order_id = await h.place(items=ITEMS, recipient_address=PUERTO_RICO)
    first, done = await _watched(h, "first", monkeypatch)
    h.mark_due(order_id)
    await first.run_once()
    assert done == ["create_shopify_order"]  # then the engine stops: no pass places the hold
    [shop_order] = await h.shopify_orders(order_id)

    # The restart comes after the hour.
    await h.advance(HOUR + 20 * 60, settle=False)
    h.mark_due(order_id)
    await h.settle()
    link = h.link(order_id)
    shop_order = await h.control.shopify_order(link.shopify_order_id or "")
    open_fos = [fo for fo in shop_order["fulfillment_orders"]
                if fo["status"].upper() not in ("CLOSED", "CANCELLED")]
    assert open_fos, shop_order["fulfillment_orders"]
    for fo in open_fos:
        assert any(hold["handle"] == "orderbridge" for hold in fo["holds"]), fo
    assert link.state == "created_held"
    with transaction(h.services.db, write=False) as conn:
        open_codes = {e.code for e in order_exceptions.open_exceptions(conn, link_id=link.id)}
    assert "UNSUPPORTED_DESTINATION" in open_codes
    assert len(await h.shopify_orders(order_id)) == 1


@pytest.fixture
def one_bad_order() -> Iterator[list[str]]:
    bad: list[str] = []
    real = tiktok_translate.to_domain_order

    def translate(order: Any) -> Any:
        if order.id in bad:
            raise ValueError("wrong type for field 'payment'")
        return real(order)

    observe.to_domain_order = translate  # type: ignore[assignment]
    try:
        yield bad
    finally:
        observe.to_domain_order = real


async def test_a_bad_payload_affects_only_its_own_order(harness: Harness, one_bad_order: list[str]) -> None:
    h = harness
    ids = [await h.place(items=ITEMS) for _ in range(3)]
    one_bad_order.append(ids[1])
    h.mark_due(*ids)
    await h.settle()
    assert len(await h.shopify_orders(ids[0])) == 1
    assert len(await h.shopify_orders(ids[2])) == 1
    assert not await h.shopify_orders(ids[1])
    bad = h.link(ids[1])
    assert bad.attempts == 1
    assert bad.next_due_at is not None
    assert bad.next_due_at > h.now() + timedelta(seconds=3)  # backed off, with jitter
    with transaction(h.services.db, write=False) as conn:
        codes = [e.code for e in order_exceptions.open_exceptions(conn, link_id=bad.id)]
    assert codes == ["ORDER_UNREADABLE"]
    # Fixed upstream: the order goes on by itself and the exception resolves.
    one_bad_order.clear()
    await h.control.advance(30)
    await h.settle()
    assert len(await h.shopify_orders(ids[1])) == 1
    with transaction(h.services.db, write=False) as conn:
        assert not order_exceptions.open_exceptions(conn, link_id=bad.id)


async def test_an_unknown_status_raises_an_exception_on_that_order_only(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness
    ids = [await h.place(items=ITEMS) for _ in range(2)]
    real = observe.to_domain_order

    def odd(order: Any) -> Any:
        if order.id == ids[0]:
            order = order.model_copy(update={"status": "TELEPORTED"})
        return real(order)

    monkeypatch.setattr(observe, "to_domain_order", odd)
    h.mark_due(*ids)
    await h.settle()
    assert len(await h.shopify_orders(ids[1])) == 1
    with transaction(h.services.db, write=False) as conn:
        codes = [e.code for e in order_exceptions.open_exceptions(conn, link_id=h.link(ids[0]).id)]
    assert "UNKNOWN_STATUS" in codes


async def test_a_connection_that_cannot_be_read_waits_and_resumes_once_fixed(harness: Harness) -> None:
    """Its row is read with the claim: a token that no longer decrypts (a rotated secret
    key, a corrupt row) pushes its links back without failing the pass, and once the row
    is readable again the orders go on."""
    h = harness
    table = connections_table
    with transaction(h.services.db) as conn:
        good = conn.execute(select(table.c.shopify_token_enc).where(table.c.id == h.connection.id)).scalar()
        conn.execute(update(table).where(table.c.id == h.connection.id).values(shopify_token_enc="not-fernet"))
    order_id = await h.place(items=ITEMS)
    h.mark_due(order_id)
    assert await h.reconciler.run_once() == 1
    stuck = h.link(order_id)
    assert stuck.state == "new"
    assert stuck.lease_owner is None
    assert stuck.next_due_at is not None
    assert stuck.next_due_at >= h.now() + AUTH_RETRY - timedelta(seconds=5)
    assert await h.shopify_orders(order_id) == []
    with transaction(h.services.db) as conn:
        conn.execute(update(table).where(table.c.id == h.connection.id).values(shopify_token_enc=good))
    h.mark_due(order_id)
    await h.settle()
    assert len(await h.shopify_orders(order_id)) == 1
    assert h.link(order_id).state == "created_held"


async def test_a_link_waiting_long_in_a_pass_keeps_its_lease(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pass whose action waits longer than the lease (a busy Shopify budget) keeps the
    link: its lease is renewed while the work is in flight, so no other worker takes the
    order and does it again (the livelock seen under load)."""
    h = harness
    order_id = await h.place(items=ITEMS)
    slow = Reconciler(h.services, "slow", batch=10)
    runtime = await slow._runtime(h.connection.id)
    assert runtime is not None
    real = runtime.executor.execute
    entered, go_on = asyncio.Event(), asyncio.Event()

    async def waits_for_budget(action: Any, ctx: Any) -> Any:
        entered.set()
        await go_on.wait()
        return await real(action, ctx)

    monkeypatch.setattr(runtime.executor, "execute", waits_for_budget)
    h.mark_due(order_id)
    passing = asyncio.create_task(slow.run_once())
    await asyncio.wait_for(entered.wait(), timeout=10)
    lease = h.services.settings.lease_seconds
    first_expiry = h.link(order_id).lease_expires_at
    assert first_expiry is not None
    for _ in range(3):  # three times 0.6 of a lease: it would have expired twice over
        await h.control.advance(lease * 0.6)
        before = h.now()
        for _ in range(100):  # the renewer looks every second (real time)
            expiry = h.link(order_id).lease_expires_at
            if expiry is not None and expiry > before + timedelta(seconds=lease * 0.5):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError(f"the lease was not renewed: expires {expiry}, now {before}")
        rival = Reconciler(h.services, "rival", batch=10)
        assert await rival.run_once() == 0  # nothing to take: the order is still held
    go_on.set()
    assert await asyncio.wait_for(passing, timeout=30) == 1
    link = h.link(order_id)
    assert link.lease_owner is None
    assert link.shopify_order_id  # the slow pass's create was saved (no LeaseLost)
    assert len(await h.shopify_orders(order_id)) == 1


async def test_a_clock_tiktok_refuses_is_raised_on_the_order_then_clears(harness: Harness) -> None:
    """An engine whose clock runs ten minutes behind TikTok's: every signed call is refused
    for its timestamp. The order carries a CLOCK_MISMATCH exception a person can see (not
    only a last error); once the clock is right the order goes on and the exception clears."""
    h = harness
    order_id = await h.place(items=ITEMS)
    skewed = Services.create(h.services.settings, clock=ManualClock(h.now() - timedelta(minutes=10)),
                             http=h.http, migrate_db=False)
    try:
        h.mark_due(order_id)
        with transaction(skewed.db) as conn:  # due on the skewed clock too
            links.ensure_due(conn, h.connection.id, [order_id], skewed.clock.now(), skewed.clock.now())
        assert await Reconciler(skewed, "skewed", batch=10).run_once() == 1
    finally:
        skewed.db.dispose()
    link = h.link(order_id)
    with transaction(h.services.db, write=False) as conn:
        found = order_exceptions.open_exceptions(conn, link_id=link.id)
    [mismatch] = [e for e in found if e.code == "CLOCK_MISMATCH"]
    assert "clock" in mismatch.message
    assert link.shopify_order_id is None
    # The clock is put right: the order is mirrored and the exception resolved.
    await h.control.advance(3600)
    h.mark_due(order_id)
    await h.settle()
    link = h.link(order_id)
    assert link.shopify_order_id
    with transaction(h.services.db, write=False) as conn:
        assert not [e for e in order_exceptions.open_exceptions(conn, link_id=link.id)
                    if e.code == "CLOCK_MISMATCH"]
