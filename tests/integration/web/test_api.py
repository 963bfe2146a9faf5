"""The JSON API: connections, orders, exceptions, overrides in memory, SKU links."""

from typing import Any

import httpx

from orderbridge.adapters.db import connections, links, order_exceptions, transaction
from orderbridge.adapters.db.tables import order_links
from orderbridge.bootstrap import Services
from orderbridge.domain.link import LinkMemory
from tests.integration.web.conftest import NOW, grant_every_connection

LATER = NOW.replace(year=2027)


def seed(services: Services) -> dict[str, Any]:
    with transaction(services.db) as conn:
        row = connections.create_connection(
            conn, services.cipher, name="main", tiktok_shop_id="7495", shopify_domain="m.myshopify.com",
            now=NOW, tiktok_access_token="secret-access", shopify_token="shpat_secret")
        a, _ = links.get_or_create_link(conn, row.id, "576001", NOW, due_at=LATER)
        b, _ = links.get_or_create_link(conn, row.id, "576002", NOW, due_at=LATER)
        conn.execute(order_links.update().where(order_links.c.id == a.id).values(
            state="created_held", shopify_order_name="#1001", tiktok_status="AWAITING_SHIPMENT",
            memory={"state": "created_held", "rejections": [
                {"key": "k", "target": "shopify", "message": "no", "at": NOW.isoformat()}]}))
        bad, _ = order_exceptions.raise_exception(
            conn, a.id, "INVALID_TRACKING", "error", "bad number", {"tracking_number": "1z999"}, now=NOW)
        pending, _ = order_exceptions.raise_exception(
            conn, a.id, "CANCEL_REQUEST_PENDING", "error", "buyer asks", {"cancel_id": "c-9"}, now=NOW)
        other, _ = order_exceptions.raise_exception(conn, b.id, "TOTALS_MISMATCH", "warning", "off", now=NOW)
        grant_every_connection(conn, services)  # the users of the tokens see the connection
    return {"connection": row.id, "a": a.id, "b": b.id, "bad": bad.id, "pending": pending.id, "other": other.id}


def memory(services: Services, link_id: int) -> dict[str, Any]:
    with transaction(services.db, write=False) as conn:
        link = links.get_link(conn, link_id)
        assert link is not None
        return link.memory


async def test_health_and_readiness(api: httpx.AsyncClient) -> None:
    assert (await api.get("/healthz")).json() == {"status": "ok"}
    assert (await api.get("/readyz")).json() == {"ready": True}
    spec = (await api.get("/openapi.json")).json()
    assert {"/api/orders", "/api/exceptions/{exception_id}/action", "/webhooks/tiktok"} <= set(spec["paths"])


async def test_connections_never_show_tokens(services: Services, api: httpx.AsyncClient) -> None:
    seed(services)
    response = await api.get("/api/connections")
    assert response.status_code == 200
    [row] = response.json()
    assert row["name"] == "main"
    assert row["tiktok_connected"] is True
    assert "secret" not in response.text


async def test_orders_list_filters_and_detail(services: Services, api: httpx.AsyncClient) -> None:
    ids = seed(services)
    orders = (await api.get("/api/orders", params={"connection": "main"})).json()
    assert {o["tiktok_order_id"] for o in orders} == {"576001", "576002"}
    held = (await api.get("/api/orders", params={"state": "created_held"})).json()
    assert [o["shopify_order_name"] for o in held] == ["#1001"]
    assert held[0]["open_exceptions"] == ["INVALID_TRACKING", "CANCEL_REQUEST_PENDING"]
    by_code = (await api.get("/api/orders", params={"exception": "TOTALS_MISMATCH"})).json()
    assert [o["tiktok_order_id"] for o in by_code] == ["576002"]
    assert (await api.get("/api/orders", params={"connection": "nope"})).status_code == 404
    detail = (await api.get("/api/orders/576001")).json()
    assert detail["id"] == ids["a"]
    assert detail["memory"]["state"] == "created_held"
    assert len(detail["exceptions"]) == 2
    assert isinstance(detail["timeline"], list)
    assert (await api.get("/api/orders/404")).status_code == 404


async def test_exceptions_list(services: Services, api: httpx.AsyncClient) -> None:
    seed(services)
    open_ = (await api.get("/api/exceptions")).json()
    assert {e["code"] for e in open_} == {"INVALID_TRACKING", "CANCEL_REQUEST_PENDING", "TOTALS_MISMATCH"}
    assert {e["tiktok_order_id"] for e in open_} == {"576001", "576002"}
    assert (await api.get("/api/exceptions", params={"status": "dismissed"})).json() == []


async def test_retry_clears_rejections_and_marks_due(services: Services, api: httpx.AsyncClient) -> None:
    ids = seed(services)
    response = await api.post("/api/orders/576001/retry")
    assert response.status_code == 200
    assert response.json()["next_due_at"].startswith("2026-11-16T18:00")
    assert memory(services, ids["a"])["rejections"] == []


async def test_actions_are_written_into_memory_and_make_the_order_due(
        services: Services, api: httpx.AsyncClient) -> None:
    ids = seed(services)
    pushed = await api.post(f"/api/exceptions/{ids['bad']}/action", json={"action": "push_anyway"})
    assert pushed.status_code == 200, pushed.text
    approved = await api.post(f"/api/exceptions/{ids['pending']}/action", json={"action": "approve"})
    assert approved.status_code == 200
    stored = memory(services, ids["a"])
    mem = LinkMemory.from_json(stored)
    assert mem.push_anyway == ("1Z999",)
    assert mem.cancels_person_approved == ("c-9",)
    assert [(o["code"], o["action"]) for o in stored["overrides"]] == [
        ("INVALID_TRACKING", "push_anyway"), ("CANCEL_REQUEST_PENDING", "approve")]
    detail = (await api.get("/api/orders/576001")).json()
    assert detail["next_due_at"].startswith("2026-11-16T18:00")
    assert any(e["summary"] == "operator: push_anyway on INVALID_TRACKING (by olive)" for e in detail["timeline"])

    refused = await api.post(f"/api/exceptions/{ids['other']}/action", json={"action": "approve"})
    assert refused.status_code == 400
    assert "cancellation" in refused.json()["detail"]
    unknown = await api.post(f"/api/exceptions/{ids['other']}/action", json={"action": "explode"})
    assert unknown.status_code == 400
    assert (await api.post("/api/exceptions/999/action", json={"action": "dismiss"})).status_code == 404


async def test_dismiss_closes_the_exception_and_remembers_the_code(
        services: Services, api: httpx.AsyncClient) -> None:
    ids = seed(services)
    response = await api.post(f"/api/exceptions/{ids['other']}/dismiss")
    assert response.status_code == 200
    assert response.json()["exception"]["status"] == "dismissed"
    assert LinkMemory.from_json(memory(services, ids["b"])).dismissed == ("TOTALS_MISMATCH",)


async def test_a_leased_link_refuses_overrides_with_409(services: Services, api: httpx.AsyncClient) -> None:
    ids = seed(services)
    with transaction(services.db) as conn:
        links.claim_due_links(conn, "worker-1", LATER, limit=10, lease_seconds=60)
    services.clock.set(LATER)  # type: ignore[attr-defined]
    response = await api.post(f"/api/exceptions/{ids['bad']}/action", json={"action": "push_anyway"})
    assert response.status_code == 409
    retry = await api.post("/api/orders/576001/retry")  # still made due, memory untouched
    assert retry.status_code == 200
    assert memory(services, ids["a"]).get("overrides") is None
