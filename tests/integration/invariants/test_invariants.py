"""check_invariants passes on a correct run and fails when something is broken on purpose."""

from __future__ import annotations

from decimal import Decimal

from orderbridge.adapters.db import inbox, transaction
from orderbridge.adapters.shopify import CustomerSpec, LineItemSpec, OrderSpec
from orderbridge.devkit import shopify_client, tiktok_client, usps_number
from orderbridge.engine.policy_store import set_policy
from orderbridge.invariants import InvariantReport, check_invariants
from tests.integration.engine_runtime.conftest import HOUR, Harness

PAID = [{"seller_sku": "MW-SET-NAT", "units": 2}, {"seller_sku": "BOWL-WHT", "units": 1}]


async def _check(h: Harness) -> InvariantReport:
    return await check_invariants(h.control, h.services, h.connection.id, now=h.now())


def _failing(report: InvariantReport) -> dict[int, list[str]]:
    return {r.number: [v.tiktok_order_id for v in r.violations] for r in report.failing()}


async def _mirrored(h: Harness, *, paid: bool = True) -> str:
    """An order mirrored into Shopify, held, with its fulfilment orders made."""
    order_id = await h.place(items=PAID, payment="paid" if paid else "pending")
    h.mark_due(order_id)
    await h.settle()
    await h.advance(10)
    h.mark_due(order_id)
    await h.settle()
    return order_id


async def _correct_run(h: Harness) -> tuple[str, str]:
    shipped = await _mirrored(h)
    cancelled = await _mirrored(h)
    await h.control.tiktok_action(cancelled, "buyer_cancel")  # inside the remorse window
    h.mark_due(cancelled)
    await h.settle()
    await h.advance(HOUR + 20 * 60)
    link = h.link(shipped)
    await h.control.fulfil(link.shopify_order_id or "", "USPS", usps_number(22319742849))
    h.mark_due(shipped)
    await h.settle()
    await h.control.tiktok_action(shipped, "collected")
    await h.control.tiktok_action(shipped, "delivered")
    await h.advance(HOUR)
    return shipped, cancelled


async def test_a_correct_run_passes_every_invariant(harness: Harness) -> None:
    h = harness
    _shipped, cancelled = await _correct_run(h)
    report = await _check(h)
    assert report.passed, "\n".join(report.lines())
    assert h.link(cancelled).state == "cancelled"
    assert all(r.checked for r in report.results)
    assert report.result(4).checked == 1
    assert report.result(3).checked == 1  # the cancelled one
    text = "\n".join(report.lines())
    assert "PASS  1. one Shopify order" in text


async def test_a_second_shopify_order_breaks_invariant_1(harness: Harness) -> None:
    h = harness
    shipped, _ = await _correct_run(h)
    shopify = shopify_client(h.info, h.http)
    await shopify.create_order(OrderSpec(
        currency="USD", processed_at=h.now(), source_identifier=shipped,
        line_items=[LineItemSpec(quantity=1, unit_price=Decimal("24.99"), title="MW-SET-NAT", sku="MW-SET-NAT")],
        customer=CustomerSpec(first_name="TikTok", last_name="Order"), tags=[f"tiktok-{shipped}"],
    ))
    report = await _check(h)
    assert _failing(report).get(1) == [shipped], "\n".join(report.lines())
    [violation] = report.result(1).violations
    assert "2 Shopify orders" in violation.sentence


async def test_a_hold_released_by_hand_too_early_breaks_invariant_2_until_the_engine_records_it(
    harness: Harness,
) -> None:
    h = harness
    order_id = await _mirrored(h)
    shop_order = await h.control.shopify_order(h.link(order_id).shopify_order_id or "")
    [fo] = shop_order["fulfillment_orders"]
    assert fo["holds"]
    await h.control.release_by_hand(fo["id"])  # still in TikTok's remorse window
    report = await _check(h)
    assert _failing(report) == {2: [order_id]}, "\n".join(report.lines())
    assert "before the rule allows" in report.result(2).violations[0].sentence
    # The engine notices, respects the person's choice and raises HOLD_RELEASED_BY_HAND.
    h.mark_due(order_id)
    await h.settle()
    assert (await _check(h)).result(2).passed


async def test_a_cancellation_nobody_mirrors_breaks_invariant_3(harness: Harness) -> None:
    h = harness
    order_id = await _mirrored(h)
    await h.control.tiktok_action(order_id, "buyer_cancel")
    await h.advance(HOUR, settle=False)  # the webhook and the polls are lost; nobody looks
    report = await _check(h)
    assert order_id in _failing(report).get(3, []), "\n".join(report.lines())
    assert "still open" in report.result(3).violations[0].sentence


async def test_tracking_that_no_fulfilment_carries_breaks_invariant_4(harness: Harness) -> None:
    h = harness
    shipped, _ = await _correct_run(h)
    order = await h.tiktok_order(shipped)
    assert order["status"] == "DELIVERED"
    # A second upload of a number the merchant never entered, straight through TikTok's API.
    other = await h.place(items=[{"seller_sku": "BOWL-GRN", "units": 1}])
    await h.advance(HOUR + 60)
    tiktok = tiktok_client(h.info, h.http, h.services.clock)
    detail = await tiktok.get_order(other)
    assert detail is not None
    providers = await tiktok.get_shipping_providers(detail.delivery_option_id)
    usps = next(p for p in providers if p.name == "USPS")
    await tiktok.mark_package_shipped(other, usps_number(777), usps.id, [li.id for li in detail.line_items])
    report = await _check(h)
    assert other in _failing(report).get(4, []), "\n".join(report.lines())


async def test_an_unprocessed_inbox_row_breaks_invariant_6(harness: Harness) -> None:
    h = harness
    await _correct_run(h)
    with transaction(h.services.db) as conn:
        inbox.store(conn, "tiktok", "lost-1", received_at=h.now(), body=b"{}", connection_id=h.connection.id)
    report = await _check(h)
    assert _failing(report) == {6: ["inbox tiktok"]}, "\n".join(report.lines())


async def test_imported_tiktok_shipped_orders_pass_every_invariant(harness: Harness) -> None:
    """import_fulfilled: a TikTok-shipped order is created fulfilled at AWAITING_SHIPMENT,
    neither early (invariant 1) nor an unrecorded release (invariant 2)."""
    h = harness
    set_policy(h.services, h.connection, "tiktok_shipped_orders", "import_fulfilled")
    fbt = await h.place(items=PAID, fulfillment_type="FULFILLMENT_BY_TIKTOK")
    h.mark_due(fbt)
    await h.settle()
    report = await _check(h)
    assert report.passed, "\n".join(report.lines())  # ON_HOLD: not due yet
    await h.advance(HOUR + 20 * 60)
    assert len(await h.shopify_orders(fbt)) == 1
    report = await _check(h)
    assert report.passed, "\n".join(report.lines())
