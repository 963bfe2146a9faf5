"""Every return path through the engine and both sandboxes over real HTTP, on both databases:
refund only, return and refund, rejected, arbitration, partial offer, edited return,
replacement and FBT. Each ends with the Shopify order reconciled to the cent: its total is
TikTok's, its one "TikTok Shop" payment is TikTok's, and its refunds are exactly the money
TikTok says moved (nothing for an approval that has not settled, nothing twice)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from orderbridge.adapters.db import events, transaction
from orderbridge.devkit import tiktok_client, usps_number
from orderbridge.engine.policy_store import set_policy

from .conftest import HOUR, Harness

MINUTE = 60.0
MONEY_MOVED = {"RETURN_OR_REFUND_REQUEST_COMPLETE", "REPLACEMENT_REQUEST_REFUND_SUCCESS"}


def cents(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


async def delivered(h: Harness, units: int, serial: int) -> tuple[str, str]:
    order_id, shopify_id = await h.released_order(units=units)
    await h.control.fulfil(shopify_id, "USPS", usps_number(serial))
    h.mark_due(order_id)
    await h.settle()
    await h.control.tiktok_action(order_id, "collected")
    await h.control.tiktok_action(order_id, "delivered")
    h.mark_due(order_id)
    await h.settle()
    return order_id, shopify_id


async def open_return(h: Harness, order_id: str, kind: str, units: int = 1) -> str:
    tiktok = await h.tiktok_order(order_id)
    lines = [li["id"] for li in tiktok["line_items"]][:units]
    opened = await h.control.call("POST", f"/tiktok/orders/{order_id}/returns",
                                  {"return_type": kind, "order_line_item_ids": lines})
    return str(opened["return_id"])


async def step(h: Harness, return_id: str, name: str, body: Any = None) -> dict[str, Any]:
    result: dict[str, Any] = await h.control.call("POST", f"/tiktok/returns/{return_id}/{name}", body)
    return result


async def look(h: Harness, order_id: str, minutes: float = 2) -> None:
    """The return webhook's hint, time for TikTok to settle, and more looks after it."""
    await h.advance(minutes * MINUTE)
    h.mark_due(order_id)
    await h.settle()
    await h.advance(HOUR)
    h.mark_due(order_id)
    await h.settle()


async def reconcile(h: Harness, order_id: str, shopify_id: str) -> dict[str, Any]:
    """Shopify's total, payment and refunds against TikTok's, to the cent."""
    tiktok = await h.tiktok_order(order_id)
    shopify = await h.control.shopify_order(shopify_id)
    total = cents(tiktok["payment"]["total_amount"])
    assert cents(shopify["total_price"]) == total
    sales = [t for t in shopify["transactions"] if t["kind"].upper() in ("SALE", "CAPTURE")]
    assert sum(cents(t["amount"]) for t in sales) == total
    returns = await h.control.call("GET", "/tiktok/returns", order_id=order_id)
    moved = {r["return_id"]: cents(r["refund_amount"]["refund_total"])
             for r in returns if r["return_status"] in MONEY_MOVED}
    refunds = {r["note"].removeprefix("TikTok refund "): r for r in shopify["refunds"]}
    assert set(refunds) == set(moved)  # one Shopify refund per TikTok refund, no other
    for return_id, amount in moved.items():
        assert sum(cents(t["amount"]) for t in refunds[return_id]["transactions"]) == amount
    counts = await h.control.mutation_counts(h.connection.shopify_domain)
    assert sum(f.get("refundCreate", 0) for f in counts["per_shop"].values()) == len(moved)
    return shopify


def restocks(shopify: dict[str, Any]) -> list[tuple[int, str]]:
    return [(li["quantity"], li["restock_type"]) for r in shopify["refunds"] for li in r["refund_line_items"]]


async def test_refund_only_waits_for_the_money_then_refunds_without_restock(harness: Harness) -> None:
    h = harness
    order_id, shopify_id = await delivered(h, 2, 22319742801)
    available = (await h.control.shopify_order(shopify_id))["inventory"]["MW-SET-NAT"]["available"]
    rid = await open_return(h, order_id, "REFUND")
    await step(h, rid, "approve")  # RETURN_OR_REFUND_REQUEST_SUCCESS: approved, not paid yet
    h.mark_due(order_id)
    await h.settle()
    assert (await h.control.shopify_order(shopify_id))["refunds"] == []
    await look(h, order_id)  # a minute later TikTok completes it
    shopify = await reconcile(h, order_id, shopify_id)
    assert restocks(shopify) == [(1, "no_restock")]
    assert shopify["inventory"]["MW-SET-NAT"]["available"] == available
    assert shopify["financial_status"] == "partially_refunded"
    # The money back is TikTok's refund to the cent. Shopify's own split of the unit has no
    # tax: writing the address at release made Shopify recalculate it away (the sandbox store
    # collects none), and TikTok's tax sits on the non-taxable item that restored it.
    with transaction(h.services.db, write=False) as conn:
        [done] = [e.data for e in events.timeline(conn, h.link(order_id).id)
                  if e.summary == "refund_shopify: success"]
    ids = done["outcome"]["ids"]
    [record] = await h.control.call("GET", "/tiktok/returns", order_id=order_id)
    assert done["outcome"]["message"].startswith(f"refunded {cents(record['refund_amount']['refund_total'])};")
    assert cents(ids["shopify_lines"]) == cents(record["refund_amount"]["refund_subtotal"])
    assert cents(ids["shopify_tax"]) == 0


async def test_return_and_refund_restocks_what_came_back(harness: Harness) -> None:
    h = harness
    order_id, shopify_id = await delivered(h, 2, 22319742802)
    available = (await h.control.shopify_order(shopify_id))["inventory"]["MW-SET-NAT"]["available"]
    rid = await open_return(h, order_id, "RETURN_AND_REFUND", units=2)
    await step(h, rid, "approve")
    await step(h, rid, "ship", {"tracking_number": "9400111899223197428561"})
    h.mark_due(order_id)
    await h.settle()
    assert (await h.control.shopify_order(shopify_id))["refunds"] == []  # still on its way back
    await step(h, rid, "received")
    await look(h, order_id)
    shopify = await reconcile(h, order_id, shopify_id)
    assert restocks(shopify) == [(2, "return")]
    assert shopify["inventory"]["MW-SET-NAT"]["available"] == available + 2
    assert shopify["financial_status"] == "refunded"  # the whole order, shipping too


async def test_rejected_request_refunds_nothing(harness: Harness) -> None:
    h = harness
    order_id, shopify_id = await delivered(h, 1, 22319742803)
    rid = await open_return(h, order_id, "REFUND")
    rejected = await step(h, rid, "reject")
    assert rejected["return_status"] == "RETURN_OR_REFUND_REQUEST_REJECT"
    await look(h, order_id)
    shopify = await reconcile(h, order_id, shopify_id)
    assert shopify["refunds"] == []


async def test_arbitration_for_the_buyer_refunds_but_never_restocks_a_disputed_parcel(
        harness: Harness) -> None:
    h = harness
    order_id, shopify_id = await delivered(h, 1, 22319742804)
    available = (await h.control.shopify_order(shopify_id))["inventory"]["MW-SET-NAT"]["available"]
    rid = await open_return(h, order_id, "RETURN_AND_REFUND")
    await step(h, rid, "approve")
    await step(h, rid, "ship", {})
    await step(h, rid, "reject")  # the parcel refused
    await step(h, rid, "escalate")
    await look(h, order_id)
    assert (await h.control.shopify_order(shopify_id))["refunds"] == []
    await step(h, rid, "arbitrate", {"for_buyer": True})
    await look(h, order_id)
    shopify = await reconcile(h, order_id, shopify_id)
    assert restocks(shopify) == [(1, "no_restock")]
    assert shopify["inventory"]["MW-SET-NAT"]["available"] == available


async def test_partial_refund_offer_accepted_refunds_that_amount_only(harness: Harness) -> None:
    h = harness
    order_id, shopify_id = await delivered(h, 1, 22319742805)
    rid = await open_return(h, order_id, "RETURN_AND_REFUND")
    client = tiktok_client(h.info, h.http, h.services.clock)
    await client.approve_return(rid, "OFFER_PARTIAL_REFUND", f"{rid}-offer",
                                partial_refund=Decimal("7.25"))
    await client.approve_return(rid, "OFFER_PARTIAL_REFUND", f"{rid}-offer",
                                partial_refund=Decimal("7.25"))  # a retry: answered, not repeated
    await step(h, rid, "offer", {"accept": True})
    await look(h, order_id)
    shopify = await reconcile(h, order_id, shopify_id)
    [refund] = shopify["refunds"]
    assert refund["refund_line_items"] == []  # the buyer keeps the item: money only
    assert cents(refund["transactions"][0]["amount"]) == Decimal("7.25")


async def test_edited_return_is_refunded_under_its_new_id_only(harness: Harness) -> None:
    h = harness
    order_id, shopify_id = await delivered(h, 2, 22319742806)
    first = await open_return(h, order_id, "RETURN_AND_REFUND")
    edited = await step(h, first, "edit", {"return_type": "REFUND"})
    assert edited["pre_return_id"] == first
    await step(h, edited["return_id"], "approve")
    await look(h, order_id)
    shopify = await reconcile(h, order_id, shopify_id)
    assert [r["note"] for r in shopify["refunds"]] == [f"TikTok refund {edited['return_id']}"]


async def test_replacement_order_is_mirrored_and_the_original_not_refunded(harness: Harness) -> None:
    h = harness
    order_id, shopify_id = await delivered(h, 1, 22319742807)
    rid = await open_return(h, order_id, "REPLACEMENT")
    done = await step(h, rid, "approve")
    new_id = done["replacement_order_id"]
    await look(h, order_id)
    h.mark_due(new_id)  # the new order's own webhook
    await h.advance(HOUR + 20 * MINUTE)
    [mirrored] = await h.shopify_orders(new_id)
    assert cents(mirrored["total_price"]) == Decimal("0.00")
    assert "tiktok-replacement" in mirrored["tags"]
    assert {"name": "tiktok_replaces_order_id", "value": order_id} in mirrored["note_attributes"]
    await reconcile(h, order_id, shopify_id)
    assert (await h.control.shopify_order(shopify_id))["refunds"] == []
    with transaction(h.services.db, write=False) as conn:
        original = [e.summary for e in events.timeline(conn, h.link(order_id).id)]
        replacement = [e.summary for e in events.timeline(conn, h.link(new_id).id)]
    assert any(s.startswith(f"replaced by TikTok order {new_id} (Shopify #") for s in original)
    assert any(s.startswith(f"replacement of TikTok order {order_id}") for s in replacement)


async def test_fbt_return_refunds_money_and_never_touches_shopify_stock(harness: Harness) -> None:
    h = harness
    set_policy(h.services, h.connection, "tiktok_shipped_orders", "import_fulfilled")
    order_id = await h.place(items=[{"seller_sku": "BOWL-WHT", "units": 1}],
                             fulfillment_type="FULFILLMENT_BY_TIKTOK")
    h.mark_due(order_id)
    await h.settle()
    await h.advance(HOUR + 20 * MINUTE)
    [mirrored] = await h.shopify_orders(order_id)
    shopify_id = mirrored["admin_graphql_api_id"]
    before = mirrored["inventory"]["BOWL-WHT"]
    await h.control.call("POST", f"/tiktok/orders/{order_id}/tiktok_ships")
    await h.control.tiktok_action(order_id, "collected")
    await h.control.tiktok_action(order_id, "delivered")
    rid = await open_return(h, order_id, "RETURN_AND_REFUND")
    for name in ("approve", "buyer_shipped", "received"):
        await step(h, rid, name)
    await look(h, order_id)
    shopify = await reconcile(h, order_id, shopify_id)
    assert restocks(shopify) == [(1, "no_restock")]
    assert shopify["inventory"]["BOWL-WHT"] == before


async def test_policy_auto_approves_a_small_refund_only_request(harness: Harness) -> None:
    h = harness
    set_policy(h.services, h.connection, "auto_approve_refunds_under", "30")
    order_id, shopify_id = await delivered(h, 2, 22319742808)
    small = await open_return(h, order_id, "REFUND")  # one unit: 27.19 with tax
    h.mark_due(order_id)  # the return webhook's hint
    await h.settle()
    [record] = await h.control.call("GET", "/tiktok/returns", order_id=order_id)
    assert record["return_id"] == small
    assert record["return_status"] == "RETURN_OR_REFUND_REQUEST_SUCCESS"
    await look(h, order_id)
    shopify = await reconcile(h, order_id, shopify_id)
    assert restocks(shopify) == [(1, "no_restock")]
    second = (await h.tiktok_order(order_id))["line_items"][1]["id"]
    big = (await h.control.call("POST", f"/tiktok/orders/{order_id}/returns", {
        "return_type": "RETURN_AND_REFUND", "order_line_item_ids": [second]}))["return_id"]  # the seller's call
    await look(h, order_id)
    assert {r["return_id"]: r["return_status"] for r in await h.control.call(
        "GET", "/tiktok/returns", order_id=order_id)}[big] == "RETURN_OR_REFUND_REQUEST_PENDING"
