"""Each invariant fails when the sandboxes' records break it, naming the order; an engine
exception excuses a difference only when it is open and says what the checker observed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from orderbridge.adapters.db import order_exceptions, transaction
from orderbridge.devkit import shopify_client, usps_number
from orderbridge.invariants import InvariantReport, check_invariants
from tests.integration.engine_runtime.conftest import HOUR, Harness

PAID = [{"seller_sku": "MW-SET-NAT", "units": 2}, {"seller_sku": "BOWL-WHT", "units": 1}]


async def _check(h: Harness) -> InvariantReport:
    return await check_invariants(h.control, h.services, h.connection.id, now=h.now())


def _failing(report: InvariantReport) -> dict[int, list[str]]:
    return {r.number: [v.tiktok_order_id for v in r.violations] for r in report.failing()}


def _raise(h: Harness, order_id: str, code: str, data: dict[str, Any], *, resolved: bool = False) -> None:
    """An exception as the engine would record it (crafted: the checker must judge it)."""
    link = h.link(order_id)
    with transaction(h.services.db) as conn:
        order_exceptions.resolve(conn, link.id, code, now=h.now())
        order_exceptions.raise_exception(conn, link.id, code, "warning", f"crafted {code}", data, now=h.now())
        if resolved:
            order_exceptions.resolve(conn, link.id, code, now=h.now())


async def _held(h: Harness) -> str:
    order_id = await h.place(items=PAID)
    h.mark_due(order_id)
    await h.settle()
    await h.advance(10)
    h.mark_due(order_id)
    await h.settle()
    return order_id


async def test_our_own_hold_released_early_breaks_invariant_2_from_shopifys_history(harness: Harness) -> None:
    """A release the engine made too early (here: the app's own token, as a buggy engine
    would): Shopify's record says who released it and when, whatever the engine remembers."""
    h = harness
    order_id = await _held(h)
    shop_order = await h.control.shopify_order(h.link(order_id).shopify_order_id or "")
    [fo] = shop_order["fulfillment_orders"]
    [hold] = fo["holds"]
    shopify = shopify_client(h.info, h.http)
    await shopify.release_fulfillment_holds(fo["id"], [hold["id"]])  # inside the remorse window
    [release] = await h.control.hold_releases(order_id=shop_order["admin_graphql_api_id"])
    assert release["by_hold_owner"]
    assert release["fulfillable_after"]
    report = await _check(h)
    assert _failing(report).get(2) == [order_id], "\n".join(report.lines())
    [violation] = report.result(2).violations
    assert "Shopify records our hold" in violation.sentence
    assert "but the rule allowed it from" in violation.sentence


async def test_tracking_missing_on_tiktok_breaks_invariant_4_unless_an_open_exception_names_it(
    harness: Harness,
) -> None:
    h = harness
    order_id, shopify_id = await h.released_order()
    number = usps_number(22319742849)
    await h.control.fulfil(shopify_id, "USPS", number)
    await h.advance(HOUR, settle=False)  # the fulfilment webhook is lost; nobody pushes
    assert not await h.control.tiktok_packages(order_id)
    report = await _check(h)
    assert _failing(report).get(4) == [order_id], "\n".join(report.lines())
    assert "never reached TikTok" in report.result(4).violations[0].sentence
    [fulfilment] = (await h.control.shopify_order(shopify_id))["fulfillments"]
    fid = fulfilment["admin_graphql_api_id"]
    # The right code about another fulfilment, or about another number, explains nothing.
    _raise(h, order_id, "INVALID_TRACKING", {"fulfillment_id": "gid://shopify/Fulfillment/1",
                                             "tracking_number": number})
    _raise(h, order_id, "DUPLICATE_TRACKING", {"fulfillment_id": fid, "tracking_number": "9400100000000000000000"})
    assert _failing(await _check(h)).get(4) == [order_id]
    # Nor does a closed one about this very package.
    _raise(h, order_id, "NON_MCF_TRACKING", {"fulfillment_id": fid, "tracking_number": number}, resolved=True)
    assert _failing(await _check(h)).get(4) == [order_id]
    # An open one about this fulfilment and number does.
    _raise(h, order_id, "NON_MCF_TRACKING", {"fulfillment_id": fid, "tracking_number": number})
    assert (await _check(h)).result(4).passed


async def test_a_total_off_by_a_cent_breaks_invariant_5_unless_that_difference_is_recorded(
    harness: Harness,
) -> None:
    h = harness
    order_id, shopify_id = await h.released_order()
    assert (await _check(h)).passed
    # The buyer paid one cent more on TikTok than the Shopify order totals.
    payment = h.world.tiktok.world.orders[order_id].payment
    payment.total_amount += Decimal("0.01")
    tiktok_total = str(payment.total_amount)
    shop_order = await h.control.shopify_order(shopify_id)
    assert Decimal(shop_order["current_total_price"]) == payment.total_amount - Decimal("0.01")
    report = await _check(h)
    assert _failing(report) == {5: [order_id]}, "\n".join(report.lines())
    assert "no TOTALS_MISMATCH warning says why" in report.result(5).violations[0].sentence
    # A warning for another amount does not explain this difference.
    _raise(h, order_id, "TOTALS_MISMATCH", {"tiktok_total": tiktok_total, "difference": "0.02"})
    report = await _check(h)
    assert _failing(report) == {5: [order_id]}, "\n".join(report.lines())
    assert "difference 0.02" in report.result(5).violations[0].sentence
    _raise(h, order_id, "TOTALS_MISMATCH", {"tiktok_total": "1.00", "difference": "-0.01"})
    assert _failing(await _check(h)) == {5: [order_id]}
    # The right amount, but closed: nothing on the order explains it any more.
    _raise(h, order_id, "TOTALS_MISMATCH", {"tiktok_total": tiktok_total, "difference": "-0.01"}, resolved=True)
    assert _failing(await _check(h)) == {5: [order_id]}
    # Open, for this TikTok total and this very difference: explained.
    _raise(h, order_id, "TOTALS_MISMATCH", {"tiktok_total": tiktok_total, "difference": "-0.01"})
    assert (await _check(h)).passed


async def test_a_lost_webhook_breaks_invariant_6_naming_the_order(harness: Harness) -> None:
    h = harness
    order_id = await h.place(items=PAID)  # its webhook never arrives and nobody polls
    await h.advance(HOUR, settle=False)
    report = await _check(h)
    assert order_id in _failing(report).get(6, []), "\n".join(report.lines())
    sentence = next(v.sentence for v in report.result(6).violations if v.tiktok_order_id == order_id)
    assert "the engine has no link" in sentence
