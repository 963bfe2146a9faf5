"""Routing errors, garbage input, rate limiting and fault injection."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from orderbridge.clock import ManualClock
from orderbridge.sandbox.common.faults import EndpointRule, FaultPlan
from orderbridge.sandbox.common.scheduler import Scheduler
from orderbridge.sandbox.tiktok import TikTokSandbox

from .conftest import BASE, Client, make_app

SEARCH = "/order/202309/orders/search"


async def test_unknown_path_method_and_version(api: Client) -> None:
    resp = await api.call("GET", "/order/202309/nothing")
    assert resp.status_code == 404
    assert resp.json()["code"] == 36009009
    resp = await api.call("GET", SEARCH, query={"page_size": 1})
    assert resp.json()["code"] == 36009010
    resp = await api.call("POST", "/order/202101/orders/search", query={"page_size": 1}, body={})
    assert resp.json()["code"] == 36009004  # common errors: a bad version is the gateway's catch-all
    assert "version" in resp.json()["message"].lower()


@pytest.mark.parametrize("raw", [b"{not json", b"[1,2]", b"\xff\xfe", b'{"order_status": 5, "create_time_ge": "x"}'])
async def test_garbage_body_is_a_clean_error(api: Client, raw: bytes) -> None:
    resp = await api.call("POST", SEARCH, query={"page_size": 5}, raw_body=raw)
    payload = resp.json()
    assert payload["code"] != 0 or payload["data"]["orders"] == []
    assert "Traceback" not in resp.text
    assert resp.status_code < 500


async def test_garbage_ship_bodies(api: Client) -> None:
    order = await api.order()
    for body in ({"tracking_number": 5}, {"order_line_item_ids": "x"}, {}):
        resp = await api.call("POST", f"/fulfillment/202309/orders/{order['id']}/packages", body=body)
        assert resp.json()["code"] != 0
        assert resp.status_code < 500


async def test_internal_error_keeps_serving(api: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_: object, **__: object) -> None:
        raise RuntimeError("kaput")

    monkeypatch.setattr("orderbridge.sandbox.tiktok.api.order_json", boom)
    await api.order()
    resp = await api.call("POST", SEARCH, query={"page_size": 1}, body={})
    assert resp.status_code == 500
    assert resp.json()["code"] == 36009003
    assert "kaput" not in resp.text
    monkeypatch.undo()
    resp = await api.call("POST", SEARCH, query={"page_size": 1}, body={})
    assert resp.json()["code"] == 0


@pytest.fixture
async def limited() -> AsyncIterator[Client]:
    clock = ManualClock()
    now = [100.0]
    box = TikTokSandbox(clock=clock, scheduler=Scheduler(clock), faults=FaultPlan(), monotonic=lambda: now[0])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=make_app(box))) as http:
        client = Client(http, box, clock)
        client.now = now  # type: ignore[attr-defined]
        yield client


async def test_rate_limit_per_path(limited: Client) -> None:
    for _ in range(50):
        assert (await limited.call("POST", SEARCH, query={"page_size": 1}, body={})).json()["code"] == 0
    resp = await limited.call("POST", SEARCH, query={"page_size": 1}, body={})
    assert resp.status_code == 429
    assert resp.json()["code"] == 36009002
    other = await limited.call("POST", "/product/202309/products/search", query={"page_size": 1}, body={})
    assert other.json()["code"] == 0
    limited.now[0] += 1.0  # type: ignore[attr-defined]
    assert (await limited.call("POST", SEARCH, query={"page_size": 1}, body={})).json()["code"] == 0


async def test_faults_error_throttle_drop(api: Client, faults: FaultPlan) -> None:
    faults.add_endpoint_rule(EndpointRule("tiktok", f"POST {SEARCH}", error_rate=1.0, limit=1))
    resp = await api.call("POST", SEARCH, query={"page_size": 1}, body={})
    assert resp.status_code == 500
    assert resp.json()["code"] == 36009003
    faults.add_endpoint_rule(EndpointRule("tiktok", "POST /order/*", throttle_rate=1.0, limit=1))
    resp = await api.call("POST", SEARCH, query={"page_size": 1}, body={})
    assert resp.status_code == 429
    assert resp.json()["code"] == 36009002
    assert (await api.call("POST", SEARCH, query={"page_size": 1}, body={})).json()["code"] == 0


async def test_drop_response_commits_the_work(api: Client, faults: FaultPlan, monkeypatch: pytest.MonkeyPatch) -> None:
    async def no_hang(*_: object, **__: object) -> None:
        return None

    monkeypatch.setattr("orderbridge.sandbox.common.faults.hang_until_disconnected", no_hang)
    order = await api.order()
    cancel = "/return_refund/202309/cancellations"
    faults.add_endpoint_rule(EndpointRule("tiktok", f"POST {cancel}", drop_response_rate=1.0, limit=1))
    await api.call("POST", cancel, body={"order_id": order["id"],
                                         "cancel_reason": "seller_cancel_reason_out_of_stock"})
    assert (await api.detail(order["id"]))["status"] == "CANCELLED"


async def test_products_and_inventory(api: Client) -> None:
    data = await api.ok("POST", "/product/202309/products/search", query={"page_size": 2}, body={})
    assert data["total_count"] >= 4
    assert data["next_page_token"]
    product = data["products"][0]
    sku = product["skus"][0]
    assert sku["inventory"][0]["quantity"] == 500
    await api.ok("POST", f"/product/202309/products/{product['id']}/inventory/update",
                 body={"skus": [{"id": sku["id"], "inventory": [{"warehouse_id": sku["inventory"][0]["warehouse_id"],
                                                                 "quantity": 7}]}]})
    await api.order(items=[{"sku_id": sku["id"], "units": 2}])
    again = await api.ok("POST", "/product/202309/products/search", query={"page_size": 2}, body={})
    assert again["products"][0]["skus"][0]["inventory"][0]["quantity"] == 5


def test_control_openapi_is_generated(sandbox: TikTokSandbox) -> None:
    schema = make_app(sandbox).openapi()
    paths = schema["paths"]
    assert "/_control/tiktok/orders" in paths
    assert "/_control/tiktok/orders/{order_id}/pay" in paths
    assert paths["/_control/tiktok/orders"]["post"]["tags"] == ["tiktok"]


def test_info_keys(sandbox: TikTokSandbox) -> None:
    info = sandbox.info("http://127.0.0.1:9999/")
    assert {"api_base", "auth_base", "authorize_url", "app_key", "app_secret", "service_id"} <= set(info)
    shop = info["shops"][0]
    assert {"shop_id", "shop_cipher", "name", "auth_code", "access_token", "refresh_token", "region"} <= set(shop)
    assert info["authorize_url"].startswith("http://127.0.0.1:9999/open/authorize?service_id=")
    again = sandbox.info("http://127.0.0.1:9999")
    assert again["shops"][0]["auth_code"] == shop["auth_code"]


async def test_control_api_refuses_an_unknown_field(api: Client) -> None:
    # `quantity` for `units` was once ignored silently, giving a 1-unit order.
    resp = await api.http.post(BASE + "/_control/tiktok/orders",
                               json={"items": [{"seller_sku": "BOWL-WHT", "quantity": 3}]})
    assert resp.status_code == 422
    [error] = resp.json()["detail"]
    assert error["type"] == "extra_forbidden"
    assert error["loc"][-1] == "quantity"


async def test_a_caller_that_goes_away_mid_request_is_quiet(
    sandbox: TikTokSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    """An engine stopping while its request body is read: the sandbox logs no error and no
    traceback (QuietDisconnect turns it into one debug line); whatever Starlette writes to the
    closed connection reaches no one."""
    from orderbridge.sandbox.common.server import QuietDisconnect

    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": "/return_refund/202309/returns/search", "raw_path": b"",
             "query_string": b"app_key=k&shop_cipher=c", "root_path": "", "headers": [],
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 2)}
    with caplog.at_level("DEBUG"):
        await QuietDisconnect(sandbox.app, "tiktok")(scope, receive, send)
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL") or r.exc_info]
    assert any("went away" in r.getMessage() for r in caplog.records)
