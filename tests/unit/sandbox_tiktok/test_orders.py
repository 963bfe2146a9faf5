"""Orders: shape, timeline, masking, money, search and detail."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orderbridge.clock import ManualClock
from orderbridge.sandbox.common.faults import FaultPlan
from orderbridge.sandbox.common.scheduler import Scheduler
from orderbridge.sandbox.tiktok import TikTokSandbox
from orderbridge.sandbox.tiktok.factory import DEFAULT_CATALOGUE

from .conftest import Client

DOC_ORDER_KEYS = {
    "id", "status", "user_id", "buyer_email", "buyer_message", "seller_note", "create_time",
    "paid_time", "update_time", "rts_sla_time", "tts_sla_time", "shipping_due_time",
    "collection_due_time", "delivery_sla_time", "delivery_due_time", "cancel_order_sla_time",
    "is_on_hold_order", "is_sample_order", "is_cod", "is_buyer_request_cancel",
    "is_replacement_order", "is_exchange_order", "has_updated_recipient_address", "order_type",
    "commerce_platform", "fulfillment_type", "shipping_type", "delivery_type",
    "delivery_option_id", "delivery_option_name", "shipping_provider", "shipping_provider_id",
    "tracking_number", "warehouse_id", "payment_method_name", "cancel_reason",
    "cancellation_initiator", "packages", "payment", "recipient_address", "line_items",
}


async def test_timeline_on_hold_then_awaiting_shipment(api: Client, scheduler: Scheduler) -> None:
    created = await api.order(items=[{"seller_sku": "MW-SET-NAT", "units": 2},
                                     {"seller_sku": "BOWL-WHT", "units": 1}])
    order = await api.detail(created["id"])
    assert set(order) >= DOC_ORDER_KEYS
    assert order["status"] == "ON_HOLD"
    assert order["is_on_hold_order"] is True
    assert len(order["line_items"]) == 3
    assert sum(1 for li in order["line_items"] if li["seller_sku"] == "MW-SET-NAT") == 2
    postcode = order["recipient_address"]["postal_code"]
    assert len(postcode) == 5  # masked as TikTok masks it: "95***"
    assert postcode.endswith("***")
    assert "*" in order["recipient_address"]["name"]
    assert [d["address_level"] for d in order["recipient_address"]["district_info"]] == ["L0", "L1", "L2"]
    api.clock.advance(timedelta(minutes=59))
    await scheduler.run_due()
    assert (await api.detail(created["id"]))["status"] == "ON_HOLD"
    api.clock.advance(timedelta(minutes=1))
    await scheduler.run_due()
    order = await api.detail(created["id"])
    assert order["status"] == "AWAITING_SHIPMENT"
    assert order["update_time"] > order["create_time"]
    assert order["recipient_address"]["name"] == "Jordan Lee" or "*" not in order["recipient_address"]["name"]
    assert order["recipient_address"]["postal_code"]
    assert order["rts_sla_time"] > order["paid_time"]
    assert order["shipping_due_time"] > order["rts_sla_time"]


async def test_rts_sla_is_two_business_days_pacific(api: Client) -> None:
    # 2026-01-09 is a Friday: +2 business days = Tuesday 2026-01-13 23:59:59 PST = 07:59:59Z next day
    api.clock.set(api.clock.now().replace(year=2026, month=1, day=9, hour=20, minute=0))
    order = await api.order()
    assert order["rts_sla_time"] == 1768377599  # 2026-01-14T07:59:59Z


async def test_skip_on_hold_and_unpaid_timeout(api: Client, scheduler: Scheduler) -> None:
    await api.control("PATCH", f"/shops/{api.shop['shop_id']}/settings", {"skip_on_hold": True})
    paid = await api.order()
    assert paid["status"] == "AWAITING_SHIPMENT"
    unpaid = await api.order(payment="pending")
    assert unpaid["status"] == "UNPAID"
    assert unpaid["paid_time"] == 0
    api.clock.advance(timedelta(hours=24))
    await scheduler.run_due()
    cancelled = await api.detail(unpaid["id"])
    assert cancelled["status"] == "CANCELLED"
    assert cancelled["cancel_reason"] == "system_cancel_unpaid_time_out"
    assert cancelled["cancellation_initiator"] == "SYSTEM"
    assert "*" in cancelled["recipient_address"]["name"]


async def test_pay_later_and_stock(api: Client, scheduler: Scheduler) -> None:
    sku = api.sandbox.world.find_sku(next(iter(api.sandbox.world.shops.values())), seller_sku="BOWL-WHT")
    assert sku is not None
    before = sum(sku[1].inventory.values())
    order = await api.order(payment="pending", items=[{"seller_sku": "BOWL-WHT", "units": 3}])
    assert sum(sku[1].inventory.values()) == before - 3
    paid = await api.control("POST", f"/orders/{order['id']}/pay")
    assert paid["status"] == "ON_HOLD"
    assert paid["paid_time"] > 0


async def test_search_paging_filters_and_detail_limits(api: Client) -> None:
    ids = []
    for _ in range(5):
        ids.append((await api.order())["id"])
        api.clock.advance(timedelta(seconds=10))
    await api.order(payment="pending")
    bad = await api.call("POST", "/order/202309/orders/search", body={})
    assert bad.json()["code"] == 36009004
    assert (await api.call("POST", "/order/202309/orders/search", query={"page_size": 101}, body={})).json()["code"] == 36009004
    seen: list[str] = []
    token = ""
    while True:
        q: dict[str, Any] = {"page_size": 2, "sort_field": "create_time", "sort_order": "ASC"}
        if token:
            q["page_token"] = token
        data = await api.ok("POST", "/order/202309/orders/search", query=q, body={"order_status": "ON_HOLD"})
        assert data["total_count"] == 5
        seen += [o["id"] for o in data["orders"]]
        token = data["next_page_token"]
        if not token:
            break
    assert seen == ids
    created = (await api.detail(ids[2]))["create_time"]
    data = await api.ok("POST", "/order/202309/orders/search", query={"page_size": 50},
                        body={"create_time_ge": created})
    assert {o["id"] for o in data["orders"]} >= set(ids[2:])
    assert ids[0] not in {o["id"] for o in data["orders"]}
    detail = await api.ok("GET", "/order/202309/orders", query={"ids": ",".join(ids)})
    assert [o["id"] for o in detail["orders"]] == ids
    too_many = await api.call("GET", "/order/202309/orders", query={"ids": ",".join(["576"] * 51)})
    assert too_many.json()["code"] == 36009004
    unknown = await api.ok("GET", "/order/202309/orders", query={"ids": "576000000000000999"})
    assert unknown["orders"] == []
    other = await api.order(shop="Second Shop")
    resp = await api.call("GET", "/order/202309/orders", query={"ids": other["id"]})
    assert resp.json()["code"] == 21008111


async def test_fbt_masked_and_sample_zero(api: Client, scheduler: Scheduler) -> None:
    fbt = await api.order(fulfillment_type="FULFILLMENT_BY_TIKTOK")
    api.clock.advance(timedelta(hours=2))
    await scheduler.run_due()
    d = await api.detail(fbt["id"])
    assert d["status"] == "AWAITING_SHIPMENT"
    assert d["shipping_type"] == "TIKTOK"
    assert "*" in d["recipient_address"]["name"]
    # Since July 2025 FBT orders awaiting shipment carry the city level (L3).
    assert [x["address_level"] for x in d["recipient_address"]["district_info"]] == ["L0", "L1", "L2", "L3"]
    sample = await api.order(sample=True)
    assert sample["is_sample_order"] is True
    assert sample["payment"]["total_amount"] == "0"
    repl = await api.order(replacement_of=sample["id"])
    assert repl["is_replacement_order"] is True
    assert repl["replaced_order_id"] == sample["id"]
    assert repl["payment"]["total_amount"] == "0"


async def test_doc_example_amounts(api: Client) -> None:
    order = await api.order(
        items=[{"seller_sku": "MW-SET-NAT", "units": 2, "seller_discount": "2.50"},
               {"seller_sku": "BOWL-WHT", "units": 1, "platform_discount": "3.00"}],
        shipping_fee="5.99", shipping_fee_platform_discount="2.00", recipient_address={},
    )
    p = order["payment"]
    assert p["original_total_product_price"] == "67.98"
    assert p["sub_total"] == "59.98"
    assert p["shipping_fee"] == "3.99"
    assert p["product_tax"] == "4.35"
    assert p["total_amount"] == "68.32"
    assert order["line_items"][0]["item_tax"] == [
        {"tax_type": "SALES_TAX", "tax_amount": "1.63", "tax_rate": "0.0725"}]


def _d(v: str) -> Decimal:
    return Decimal(v)


STATES = [("CA", "California"), ("NY", "New York"), ("CO", "Colorado"), ("OR", "Oregon"),
          ("MN", "Minnesota"), ("TX", "Texas")]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    picks=st.lists(st.tuples(st.integers(0, len(DEFAULT_CATALOGUE) - 1), st.integers(1, 4),
                             st.integers(0, 300), st.integers(0, 300)), min_size=1, max_size=4),
    ship=st.integers(0, 1500), ship_disc=st.integers(0, 800), state=st.sampled_from(STATES),
)
def test_payment_formulas_hold(picks: list[tuple[int, int, int, int]], ship: int, ship_disc: int,
                               state: tuple[str, str]) -> None:
    clock = ManualClock()
    box = TikTokSandbox(clock=clock, scheduler=Scheduler(clock), faults=FaultPlan())
    from orderbridge.sandbox.tiktok.factory import ItemSpec
    from orderbridge.sandbox.tiktok.orders import OrderRequest
    from orderbridge.sandbox.tiktok.render import order_json
    from orderbridge.sandbox.tiktok.state import Address

    shop = next(iter(box.world.shops.values()))
    specs = []
    for idx, units, sd, pd in picks:
        found = box.world.find_sku(shop, seller_sku=DEFAULT_CATALOGUE[idx][2])
        assert found is not None
        price = found[1].price
        sdisc = min(Decimal(sd) / 100, price)
        pdisc = min(Decimal(pd) / 100, price - sdisc)
        specs.append(ItemSpec(found[0], found[1], units, sdisc, pdisc))
    addr = Address("A B", "(+1)5555550100", "1 Main St", "", "Town", "County", state[1], state[0], "12345")
    order = box.engine.place_order(shop, OrderRequest(
        items=specs, address=addr, shipping_fee=Decimal(ship) / 100,
        shipping_fee_seller_discount=Decimal(ship_disc) / 100))
    o = order_json(order, clock.now(), unmasked=True)
    p = {k: _d(v) for k, v in o["payment"].items() if k != "currency"}
    assert p["sub_total"] == p["original_total_product_price"] - p["seller_discount"] - p["platform_discount"]
    assert p["shipping_fee"] == (p["original_shipping_fee"] - p["shipping_fee_seller_discount"]
                                 - p["shipping_fee_platform_discount"])
    assert p["total_amount"] == p["sub_total"] + p["shipping_fee"] + p["tax"] + p["retail_delivery_fee"]
    taxes = [_d(li["item_tax"][0]["tax_amount"]) for li in o["line_items"]]
    assert p["product_tax"] == sum(taxes, Decimal(0))
    assert all(t == t.quantize(Decimal("0.01")) for t in taxes)
    assert len(o["line_items"]) == sum(u for _, u, _, _ in picks)
    assert sum((_d(li["original_price"]) for li in o["line_items"]), Decimal(0)) == p["original_total_product_price"]
    for li in o["line_items"]:
        assert _d(li["sale_price"]) == _d(li["original_price"]) - _d(li["seller_discount"]) - _d(li["platform_discount"])


async def test_update_time_sort_and_masking_after_completion(api: Client, scheduler: Scheduler) -> None:
    a = await api.order(recipient_address={})
    api.clock.advance(timedelta(minutes=5))
    b = await api.order(recipient_address={})
    api.clock.advance(timedelta(hours=1))
    await scheduler.run_due()  # both released
    api.clock.advance(timedelta(seconds=1))
    await api.ok("POST", f"/fulfillment/202309/orders/{a['id']}/packages",
                 body={"tracking_number": "1Z999AA10123456784", "shipping_provider_id": "7117859084333745966"})
    data = await api.ok("POST", "/order/202309/orders/search",
                        query={"page_size": 10, "sort_field": "update_time", "sort_order": "DESC"}, body={})
    assert data["orders"][0]["id"] == a["id"]
    since = (await api.detail(a["id"]))["update_time"]
    changed = await api.ok("POST", "/order/202309/orders/search", query={"page_size": 10},
                           body={"update_time_ge": since, "order_status": "AWAITING_COLLECTION"})
    assert [o["id"] for o in changed["orders"]] == [a["id"]]
    assert b["id"] not in [o["id"] for o in changed["orders"]]
    for step in ("collected", "delivered", "completed"):
        await api.control("POST", f"/orders/{a['id']}/{step}")
    assert (await api.detail(a["id"]))["recipient_address"]["postal_code"] == "95110"
    api.clock.advance(timedelta(days=30))
    api.token = (await api.control("POST", f"/shops/{api.shop['shop_id']}/tokens"))["access_token"]
    assert (await api.detail(a["id"]))["recipient_address"]["postal_code"] == "95***"
    raw = await api.control("GET", f"/orders/{a['id']}")
    assert raw["recipient_address"]["postal_code"] == "95110"


async def test_cancellation_search_page_size_bounds(api: Client) -> None:
    for size in (0, 51):
        resp = await api.call("POST", "/return_refund/202309/cancellations/search",
                              query={"page_size": size}, body={})
        assert resp.json()["code"] == 36009004


async def test_external_order_references_round_trip(api: Client) -> None:
    order = await api.order()
    line = order["line_items"][0]["id"]
    ref = {"id": order["id"], "external_order": {"id": "6001", "platform": "SHOPIFY",
                                                 "line_items": [{"id": "7001", "origin_id": line}]}}
    added = await api.ok("POST", "/order/202406/orders/external_orders", body={"orders": [ref]})
    assert added == {"errors": []}
    got = await api.ok("GET", f"/order/202406/orders/{order['id']}/external_orders", query={"platform": "SHOPIFY"})
    assert got["external_orders"] == [ref["external_order"]]
    bad = {"orders": [{"id": order["id"], "external_order": {"id": "6001", "platform": "SHOPIFY"}}]}
    resp = await api.call("POST", "/order/202406/orders/external_orders", body=bad)
    assert resp.json()["code"] == 36009004
    assert "line_items" in resp.json()["message"]


async def test_order_detail_202507_adds_the_payment_method_fields(api: Client) -> None:
    """Get Order Detail 202507 = the 202309 shape plus payment_method_code, payment_card_type
    and payment_auth_code (docs/api-versions.md)."""
    order = await api.order()
    old = await api.ok("GET", "/order/202309/orders", query={"ids": order["id"]})
    new = await api.ok("GET", "/order/202507/orders", query={"ids": order["id"]})
    [before], [after] = old["orders"], new["orders"]
    assert set(after) - set(before) == {"payment_method_code", "payment_card_type", "payment_auth_code"}
    assert {k: v for k, v in after.items() if k in before} == before
