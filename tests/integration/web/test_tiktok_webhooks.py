"""POST /webhooks/tiktok: verify, store (deduplicated), mark the orders due, answer empty."""

import hashlib
import hmac
import json
from typing import Any

import httpx
from sqlalchemy import func, select

from orderbridge.adapters.db import ConnectionStatus, connections, events, links, transaction
from orderbridge.adapters.db.tables import inbox
from orderbridge.bootstrap import Services
from tests.integration.web.conftest import APP_KEY, APP_SECRET, MAX_BODY, NOW

SHOP_ID = "7495000000000000001"


def sign(body: bytes, key: str = APP_KEY, secret: str = APP_SECRET) -> str:
    return hmac.new(secret.encode(), key.encode() + body, hashlib.sha256).hexdigest()


def envelope(kind: int, data: dict[str, Any], notification: str = "n-1", shop: str = SHOP_ID,
             sent: int | None = None) -> bytes:
    """A TikTok webhook body, sent now (``NOW``) unless ``sent`` (Unix seconds) says otherwise."""
    return json.dumps({"type": kind, "tts_notification_id": notification, "shop_id": shop,
                       "timestamp": int(NOW.timestamp()) if sent is None else sent, "data": data}).encode()


def make_connection(services: Services, shop_id: str = SHOP_ID) -> int:
    with transaction(services.db) as conn:
        row = connections.create_connection(conn, services.cipher, name="c1", tiktok_shop_id=shop_id,
                                            shopify_domain="matcha-shop.myshopify.com", now=NOW)
    return row.id


async def post(client: httpx.AsyncClient, body: bytes, signature: str | bytes | None = "auto") -> httpx.Response:
    headers: dict[str, str | bytes] = {"content-type": "application/json"}
    if signature == "auto":
        headers["authorization"] = sign(body)
    elif signature is not None:
        headers["authorization"] = signature
    return await client.post("/webhooks/tiktok", content=body, headers=headers)


def inbox_rows(services: Services) -> list[Any]:
    with transaction(services.db, write=False) as conn:
        return list(conn.execute(select(inbox).order_by(inbox.c.id)))


async def test_signed_order_webhook_is_stored_and_its_link_created_due(
        services: Services, client: httpx.AsyncClient) -> None:
    cid = make_connection(services)
    body = envelope(1, {"order_id": "576000000000000001", "order_status": "AWAITING_SHIPMENT",
                        "is_on_hold_order": False, "update_time": 1763316000})
    response = await post(client, body)
    assert response.status_code == 200
    assert response.content == b""
    [row] = inbox_rows(services)
    assert (row.source, row.event_id, row.topic, row.connection_id) == ("tiktok", "n-1", "ORDER_STATUS_CHANGE", cid)
    assert bytes(row.body) == body
    assert row.processed_at is not None
    assert row.error is None
    assert row.headers["authorization"] == sign(body)
    with transaction(services.db, write=False) as conn:
        link = links.find_link(conn, cid, "576000000000000001")
        assert link is not None
        assert link.next_due_at == NOW
        assert [e.summary for e in events.timeline(conn, link.id)] == ["TikTok webhook ORDER_STATUS_CHANGE"]


async def test_existing_link_is_marked_due_now(services: Services, client: httpx.AsyncClient) -> None:
    cid = make_connection(services)
    later = NOW.replace(year=2027)
    with transaction(services.db) as conn:
        links.get_or_create_link(conn, cid, "576000000000000009", NOW, due_at=later)
    assert (await post(client, envelope(3, {"order_id": "576000000000000009"}))).status_code == 200
    with transaction(services.db, write=False) as conn:
        link = links.find_link(conn, cid, "576000000000000009")
        assert link is not None
        assert link.next_due_at == NOW


async def test_bad_or_missing_signature_is_401_and_nothing_is_stored(
        services: Services, client: httpx.AsyncClient) -> None:
    make_connection(services)
    body = envelope(1, {"order_id": "1"})
    for signature in (None, "", "00" * 32, sign(body).upper() + "x", "Bearer " + sign(body), "é".encode("latin-1") * 64):
        response = await post(client, body, signature)
        assert response.status_code == 401, signature
        assert response.content == b""
    assert inbox_rows(services) == []


async def test_duplicate_delivery_is_acknowledged_and_ignored(
        services: Services, client: httpx.AsyncClient) -> None:
    cid = make_connection(services)
    body = envelope(11, {"order_id": "576000000000000002", "cancel_id": "c1"})
    assert (await post(client, body)).status_code == 200
    assert (await post(client, body)).status_code == 200
    assert len(inbox_rows(services)) == 1
    with transaction(services.db, write=False) as conn:
        link = links.find_link(conn, cid, "576000000000000002")
        assert link is not None
        assert len(events.timeline(conn, link.id)) == 1


async def test_package_update_marks_every_order_of_every_package(
        services: Services, client: httpx.AsyncClient) -> None:
    cid = make_connection(services)
    data = {"sc_type": "COMBINE", "package_list": [{"package_id": "p1", "order_id_list": ["o1", "o2"]},
                                                    {"package_id": "p2", "order_id_list": ["o3"]}]}
    assert (await post(client, envelope(4, data))).status_code == 200
    with transaction(services.db, write=False) as conn:
        assert {x.tiktok_order_id for x in links.list_links(conn, connection_id=cid)} == {"o1", "o2", "o3"}


async def test_body_too_large_is_413_and_nothing_is_stored(
        services: Services, client: httpx.AsyncClient) -> None:
    make_connection(services)
    body = envelope(1, {"order_id": "1", "pad": "x" * MAX_BODY})
    assert (await post(client, body)).status_code == 413

    async def chunks() -> Any:  # no Content-Length: the limit is enforced while reading
        for _ in range(10):
            yield b"x" * 1000

    response = await client.post("/webhooks/tiktok", content=chunks(), headers={"authorization": "x"})
    assert response.status_code == 413
    assert inbox_rows(services) == []


async def test_signed_but_malformed_body_is_stored_with_its_error_and_400(
        services: Services, client: httpx.AsyncClient) -> None:
    make_connection(services)
    for body in (b"not json", json.dumps({"type": 1, "shop_id": SHOP_ID}).encode(),
                 envelope(1, {"order_status": "UNPAID"}, notification="n-missing-order")):
        response = await post(client, body)
        assert response.status_code == 400, body
        assert "stored" in response.text
    rows = inbox_rows(services)
    assert len(rows) == 3
    assert all(r.error for r in rows)
    assert next(bytes(r.body) for r in rows) == b"not json"


async def test_unknown_types_and_unknown_shops_are_stored_and_acknowledged(
        services: Services, client: httpx.AsyncClient) -> None:
    make_connection(services)
    assert (await post(client, envelope(99, {"x": 1}, notification="n-99"))).status_code == 200
    assert (await post(client, envelope(1, {"order_id": "9"}, notification="n-other", shop="42"))).status_code == 200
    rows = inbox_rows(services)
    assert [r.topic for r in rows] == ["type_99", "ORDER_STATUS_CHANGE"]
    assert rows[1].connection_id is None
    assert "no connection" in rows[1].error
    with transaction(services.db, write=False) as conn:
        assert conn.execute(select(func.count()).select_from(links.t)).scalar() == 0


async def test_deauthorisation_disconnects_and_expiry_warns(
        services: Services, client: httpx.AsyncClient) -> None:
    cid = make_connection(services)
    await post(client, envelope(7, {"message": "soon", "expiration_time": 1765000000}, notification="n7"))
    await post(client, envelope(6, {"message": "bye"}, notification="n6"))
    with transaction(services.db, write=False) as conn:
        row = connections.get_connection(conn, services.cipher, cid)
        assert row is not None
        assert row.status == ConnectionStatus.DISCONNECTED
        summaries = [e.summary for e in events.recent(conn, connection_id=cid)]
    assert any("deauthorised" in s for s in summaries)
    assert any("expires soon" in s for s in summaries)


async def test_unconfigured_app_credentials_answer_503(services: Services) -> None:
    from dataclasses import replace

    from orderbridge.web.app import create_app

    bare = replace(services, settings=services.settings.model_copy(update={"tiktok_app_key": None}))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(bare)),
                                 base_url="http://orderbridge.test") as http:
        assert (await http.post("/webhooks/tiktok", content=b"{}")).status_code == 503
