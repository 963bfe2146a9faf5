"""The measurement routes: plan, the sandbox's cost accounting, exact instants."""

from __future__ import annotations

from datetime import datetime

from .conftest import FOS, HOLD, SHOP, Env

LEAN_READ = "query($id: ID!) { order(id: $id) { fulfillmentOrders(first: 5) { nodes { id status } } } }"


async def test_settings_report_the_plan_and_cost_model(env: Env) -> None:
    put = await env.control.put(f"/shopify/shops/{SHOP}/settings", json={"plan": "advanced", "bucket_size": 500})
    got = (await env.control.get(f"/shopify/shops/{SHOP}/settings")).json()
    assert got["plan"] == "advanced"
    assert got["restore_rate"] == 200.0 == put.json()["restore_rate"]
    assert got["bucket_size"] == 500
    assert got["cost_model"]["mutation"] == 10
    assert (await env.control.get("/shopify/shops/nowhere/settings")).status_code == 404


async def test_costs_tally_each_root_field_as_charged(env: Env) -> None:
    order = await env.create()
    await env.advance(2)  # the fulfilment order appears
    body = await env.gql(LEAN_READ, {"id": order["id"]})
    lean_actual = body["extensions"]["cost"]["actualQueryCost"]
    assert lean_actual == 4  # the order 1 + the connection 2 + one fulfilment order 1
    await env.fos(order["id"])
    rows = {r["operation"]: r for r in (await env.control.get("/shopify/costs", params={"shop": SHOP})).json()
            if r["app"] == "orderbridge"}
    assert rows["orderCreate"]["requests"] == 1
    assert rows["orderCreate"]["actual_points"] == 10
    assert rows["order"]["requests"] == 2
    assert rows["order"]["actual_points"] == lean_actual + (await env.gql(FOS, {"id": order["id"]}))[
        "extensions"]["cost"]["actualQueryCost"]
    assert rows["order"]["requested_points"] >= rows["order"]["actual_points"]
    assert rows["productVariants"]["requests"] == 1  # the variant look-up of env.create
    assert all(r["throttled"] == 0 for r in rows.values())


async def test_costs_count_throttled_requests_without_charging(env: Env) -> None:
    await env.control.put(f"/shopify/shops/{SHOP}/settings", json={"bucket_size": 5})
    body = await env.gql("mutation { orderCancel(orderId: \"gid://shopify/Order/1\", reason: OTHER, "
                         "restock: false, refund: false) { userErrors { message } } }")
    assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
    [row] = [r for r in (await env.control.get("/shopify/costs")).json() if r["operation"] == "orderCancel"]
    assert (row["requests"], row["throttled"], row["actual_points"]) == (1, 1, 0)


async def test_instants_give_order_and_fulfilment_creation_to_the_microsecond(env: Env) -> None:
    env.clock.advance(0.123456)
    order = await env.create()
    created = env.clock.now()
    env.clock.advance(5.5)
    await env.scheduler.run_due()
    answer = await env.control.post(f"/shopify/orders/{order['id']}/fulfill",
                                    json={"tracking_company": "USPS", "tracking_number": "9400111899223197428490"})
    assert answer.status_code == 200, answer.text
    [row] = [r for r in (await env.control.get("/shopify/instants", params={"shop": SHOP})).json()
             if r["id"] == order["id"]]
    assert row["source_identifier"] == "576000000000000001"
    assert datetime.fromisoformat(row["created"]) == created
    [fulfilment] = row["fulfillments"]
    assert datetime.fromisoformat(fulfilment["created"]) == env.clock.now()
    assert fulfilment["id"] == answer.json()["fulfillment_id"]
    assert fulfilment["tracking_numbers"] == ["9400111899223197428490"]


async def test_instants_give_the_instant_each_hold_was_placed(env: Env) -> None:
    order = await env.create()
    await env.advance(2)
    [fo] = await env.fos(order["id"])
    env.clock.advance(0.25)
    held = await env.gql(HOLD, {"id": fo["id"], "handle": "bench"})
    assert held["data"]["fulfillmentOrderHold"]["userErrors"] == []
    [row] = [r for r in (await env.control.get("/shopify/instants")).json() if r["id"] == order["id"]]
    assert row["holds"] == [{"fulfillment_order_id": fo["id"], "handle": "bench",
                             "placed": env.clock.now().isoformat(timespec="microseconds")}]
