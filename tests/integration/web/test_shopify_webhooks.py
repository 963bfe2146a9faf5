"""POST /webhooks/shopify: HMAC, (topic, event id) de-duplication, topics, compliance."""

import base64
import hashlib
import hmac
import json
from typing import Any

import httpx
from sqlalchemy import select

from orderbridge.adapters.db import ConnectionStatus, connections, events, links, transaction
from orderbridge.adapters.db.tables import inbox, order_links
from orderbridge.bootstrap import Services
from orderbridge.web.compliance import REDACTED_BODY
from tests.integration.web.conftest import NOW, SHOPIFY_SECRET

DOMAIN = "matcha-shop.myshopify.com"
LATER = NOW.replace(year=2027)


def hmac_of(body: bytes, secret: str = SHOPIFY_SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


async def deliver(client: httpx.AsyncClient, topic: str, payload: dict[str, Any], *, event_id: str = "e-1",
                  signature: str | None = None, domain: str = DOMAIN, body: bytes | None = None) -> httpx.Response:
    raw = body if body is not None else json.dumps(payload).encode()
    headers = {"X-Shopify-Topic": topic, "X-Shopify-Hmac-Sha256": signature or hmac_of(raw),
               "X-Shopify-Shop-Domain": domain, "X-Shopify-API-Version": "2026-10",
               "X-Shopify-Webhook-Id": f"w-{event_id}", "X-Shopify-Event-Id": event_id,
               "X-Shopify-Triggered-At": "2026-11-16T18:00:00.123456789Z"}
    return await client.post("/webhooks/shopify", content=raw, headers=headers)


def setup_link(services: Services, shopify_order_id: str = "gid://shopify/Order/1001") -> tuple[int, int]:
    with transaction(services.db) as conn:
        row = connections.create_connection(conn, services.cipher, name="c1", tiktok_shop_id="7495",
                                            shopify_domain=DOMAIN, now=NOW)
        link, _ = links.get_or_create_link(conn, row.id, "576001", NOW, due_at=LATER)
        conn.execute(order_links.update().where(order_links.c.id == link.id).values(
            shopify_order_id=shopify_order_id, tiktok_snapshot={"recipient": "Jane"},
            shopify_snapshot={"email": "relay@scs.tiktokw.us"}, state="created_held",
            memory={"state": "created_held", "held_fulfillment_order_ids": ["gid://shopify/FulfillmentOrder/77"]}))
    return row.id, link.id


def due(services: Services, link_id: int) -> Any:
    with transaction(services.db, write=False) as conn:
        return links.get_link(conn, link_id).next_due_at  # type: ignore[union-attr]


def inbox_rows(services: Services) -> list[Any]:
    with transaction(services.db, write=False) as conn:
        return list(conn.execute(select(inbox).order_by(inbox.c.id)))


async def test_order_topics_mark_the_link_due_by_gid_or_numeric_id(services: Services, client: httpx.AsyncClient) -> None:
    _, link_id = setup_link(services)
    response = await deliver(client, "orders/updated", {"id": 1001, "admin_graphql_api_id": "gid://shopify/Order/1001"})
    assert response.status_code == 200
    assert due(services, link_id) == NOW
    [row] = inbox_rows(services)
    assert (row.source, row.event_id, row.topic) == ("shopify", "orders/updated:e-1", "orders/updated")
    assert row.headers["x-shopify-shop-domain"] == DOMAIN


async def test_fulfillment_refund_and_fulfillment_order_topics(services: Services, client: httpx.AsyncClient) -> None:
    _, link_id = setup_link(services)
    for n, (topic, payload) in enumerate([
        ("fulfillments/create", {"id": 5, "order_id": 1001}),
        ("refunds/create", {"id": 6, "order_id": 1001}),
        ("fulfillment_orders/placed_on_hold", {"fulfillment_order": {"id": "gid://shopify/FulfillmentOrder/77"}}),
        # Shopify's documented body: the fulfilment order only (no order id); memory knows it.
        ("fulfillment_orders/hold_released", {"fulfillment_order": {"id": "gid://shopify/FulfillmentOrder/77",
                                                                    "status": "open"}}),
    ]):
        with transaction(services.db) as conn:
            conn.execute(order_links.update().values(next_due_at=LATER))
        assert (await deliver(client, topic, payload, event_id=f"e{n}")).status_code == 200
        assert due(services, link_id) == NOW, topic


def add_link(services: Services, connection_id: int, tiktok_id: str, held: list[str]) -> int:
    with transaction(services.db) as conn:
        link, _ = links.get_or_create_link(conn, connection_id, tiktok_id, NOW, due_at=LATER)
        conn.execute(order_links.update().where(order_links.c.id == link.id).values(
            shopify_order_id="gid://shopify/Order/2002", state="created_held",
            memory={"state": "created_held", "held_fulfillment_order_ids": held}))
    return link.id


SPLIT_MOVE_MERGE = [
    # Shopify's shapes: the original fulfilment order (the one we held, 77) and a new one (90).
    ("fulfillment_orders/split", {
        "split_line_items": [{"id": "gid://shopify/FulfillmentOrderLineItem/5", "quantity": 1}],
        "fulfillment_order": {"id": "gid://shopify/FulfillmentOrder/77", "status": "on_hold"},
        "remaining_fulfillment_order": {"id": "gid://shopify/FulfillmentOrder/90", "status": "open"},
        "replacement_fulfillment_order": None}),
    ("fulfillment_orders/moved", {
        "original_fulfillment_order": {"id": "gid://shopify/FulfillmentOrder/77", "status": "on_hold"},
        "moved_fulfillment_order": {"id": "gid://shopify/FulfillmentOrder/90", "status": "open"},
        "destination_location_id": "gid://shopify/Location/3", "source_location": {"id": "gid://shopify/Location/1"},
        "fulfillment_order_line_items_requested": [{"id": "gid://shopify/FulfillmentOrderLineItem/5", "quantity": 1}]}),
    ("fulfillment_orders/merged", {  # the result is a new one; the intents name ours by number
        "merge_intents": [{"fulfillment_order_id": 77, "fulfillment_order_line_items": [{"id": 5, "quantity": 1}]},
                          {"fulfillment_order_id": 91, "fulfillment_order_line_items": [{"id": 6, "quantity": 1}]}],
        "fulfillment_order": {"id": "gid://shopify/FulfillmentOrder/92", "status": "open"}}),
    # The order id, when a payload carries one, finds the link too.
    ("fulfillment_orders/split", {
        "fulfillment_order": {"id": "gid://shopify/FulfillmentOrder/55", "status": "open", "order_id": 1001},
        "remaining_fulfillment_order": {"id": "gid://shopify/FulfillmentOrder/56", "status": "open"}}),
]


async def test_split_moved_and_merged_mark_the_link_of_the_original_fulfilment_order_due(
        services: Services, client: httpx.AsyncClient) -> None:
    connection_id, link_id = setup_link(services)
    # Another order whose held fulfilment order is 7 (a prefix of 77) and one holding 90's
    # neighbour: neither may be woken by these payloads.
    other = add_link(services, connection_id, "576002", ["gid://shopify/FulfillmentOrder/7",
                                                        "gid://shopify/FulfillmentOrder/9"])
    for n, (topic, payload) in enumerate(SPLIT_MOVE_MERGE):
        with transaction(services.db) as conn:
            conn.execute(order_links.update().values(next_due_at=LATER))
        response = await deliver(client, topic, payload, event_id=f"fo{n}")
        assert response.status_code == 200, topic
        assert due(services, link_id) == NOW, (topic, payload)
        assert due(services, other) == LATER, (topic, payload)
    with transaction(services.db, write=False) as conn:
        story = [e.summary for e in events.timeline(conn, link_id)]
    for topic in ("fulfillment_orders/split", "fulfillment_orders/moved", "fulfillment_orders/merged"):
        assert f"Shopify webhook {topic}" in story


async def test_a_fulfilment_order_payload_naming_none_of_ours_marks_nothing(
        services: Services, client: httpx.AsyncClient) -> None:
    _, link_id = setup_link(services)
    for n, payload in enumerate([
        {"fulfillment_order": {"id": "gid://shopify/FulfillmentOrder/78"}},
        {"fulfillment_order": {"id": "%"}, "merge_intents": [{"fulfillment_order_id": "7%"}, "x", None]},
        {"original_fulfillment_order": {"id": True}, "moved_fulfillment_order": "gid://shopify/FulfillmentOrder/77"},
    ]):
        assert (await deliver(client, "fulfillment_orders/moved", payload, event_id=f"none{n}")).status_code == 200
        assert due(services, link_id) == LATER, payload


async def test_bad_hmac_is_401_and_nothing_is_stored(services: Services, client: httpx.AsyncClient) -> None:
    setup_link(services)
    body = json.dumps({"id": 1001}).encode()
    for signature in ("bm9wZQ==", hmac_of(body, "other-secret")):
        assert (await deliver(client, "orders/updated", {}, body=body, signature=signature)).status_code == 401
    assert inbox_rows(services) == []


async def test_duplicate_event_ids_are_ignored_per_topic(services: Services, client: httpx.AsyncClient) -> None:
    _, link_id = setup_link(services)
    payload = {"id": 1001}
    assert (await deliver(client, "orders/updated", payload)).status_code == 200
    assert (await deliver(client, "orders/updated", payload)).status_code == 200
    assert (await deliver(client, "orders/cancelled", payload)).status_code == 200
    assert [r.event_id for r in inbox_rows(services)] == ["orders/updated:e-1", "orders/cancelled:e-1"]
    with transaction(services.db, write=False) as conn:
        assert len(events.timeline(conn, link_id)) == 2


async def test_signed_but_unreadable_is_stored_and_400(services: Services, client: httpx.AsyncClient) -> None:
    setup_link(services)
    response = await deliver(client, "orders/updated", {}, body=b"[1, 2")
    assert response.status_code == 400
    [row] = inbox_rows(services)
    assert bytes(row.body) == b"[1, 2"
    assert row.error


async def test_app_uninstalled_without_a_token_to_confirm_with_is_not_acted_on(
        services: Services, client: httpx.AsyncClient) -> None:
    """Disconnecting waits for Shopify to refuse our token (test_shopify_install.py); with no
    token stored there is nothing to ask with, so nothing changes."""
    cid, _ = setup_link(services)
    assert (await deliver(client, "app/uninstalled", {"id": 1, "myshopify_domain": DOMAIN})).status_code == 200
    with transaction(services.db, write=False) as conn:
        row = connections.get_connection(conn, services.cipher, cid)
        assert row is not None
        assert row.status == ConnectionStatus.ACTIVE
        assert any("not acted on" in e.summary for e in events.recent(conn, connection_id=cid))
    [stored] = inbox_rows(services)
    assert "no Shopify token" in stored.error


async def test_compliance_topics(services: Services, client: httpx.AsyncClient) -> None:
    cid, link_id = setup_link(services)
    request = {"shop_domain": DOMAIN, "customer": {"id": 1, "email": "buyer@example.com"}, "orders_requested": [1001]}
    assert (await deliver(client, "customers/data_request", request, event_id="c1")).status_code == 200
    with transaction(services.db, write=False) as conn:
        [entry] = [e for e in events.recent(conn, connection_id=cid) if "data request" in e.summary]
        assert entry.data is not None
        assert entry.data["tiktok_orders"] == ["576001"]
        assert entry.data["customer_id"] == 1  # the id only: no email or phone kept
    redact = {"shop_domain": DOMAIN, "customer": {"id": 1}, "orders_to_redact": [1001]}
    assert (await deliver(client, "customers/redact", redact, event_id="c2")).status_code == 200
    with transaction(services.db, write=False) as conn:
        link = links.get_link(conn, link_id)
        assert link is not None
        assert link.tiktok_snapshot is None
        assert link.shopify_snapshot is None
    await deliver(client, "orders/updated", {"id": 1001, "email": "relay@scs.tiktokw.us"}, event_id="o1")
    shop_redact = {"shop_id": 9, "shop_domain": DOMAIN}
    # Not acted on while the app is installed here (a replay cannot erase a live store's data).
    assert (await deliver(client, "shop/redact", shop_redact, event_id="c3")).status_code == 200
    assert {r.topic: bytes(r.body) for r in inbox_rows(services)}["orders/updated"] != REDACTED_BODY
    assert "still installed" in next(r.error for r in inbox_rows(services) if r.topic == "shop/redact")
    with transaction(services.db) as conn:  # as a confirmed app/uninstalled leaves it
        connections.update_connection(conn, services.cipher, cid, now=NOW, status=ConnectionStatus.DISCONNECTED)
    assert (await deliver(client, "shop/redact", shop_redact, event_id="c4")).status_code == 200
    bodies = {r.topic: bytes(r.body) for r in inbox_rows(services)}
    assert bodies["orders/updated"] == REDACTED_BODY
    assert bodies["shop/redact"] != REDACTED_BODY


async def test_unknown_store_is_stored_and_acknowledged(services: Services, client: httpx.AsyncClient) -> None:
    assert (await deliver(client, "orders/updated", {"id": 1}, domain="other.myshopify.com")).status_code == 200
    [row] = inbox_rows(services)
    assert row.connection_id is None
    assert "no connection" in row.error


async def test_hold_released_is_looked_at_only_for_orders_under_our_hold_and_not_our_own(
    services: Services, client: httpx.AsyncClient
) -> None:
    """The echo of our own release (memory lists the fulfilment order as released by us) and
    a release on an order already released make nothing due; a release by hand does."""
    _, link_id = setup_link(services)
    fo_id = "gid://shopify/FulfillmentOrder/77"
    payload = {"fulfillment_order": {"id": fo_id, "status": "open"}}
    topic = "fulfillment_orders/hold_released"
    assert (await deliver(client, topic, payload, event_id="by-hand")).status_code == 200
    assert due(services, link_id) == NOW  # by hand: looked at at once
    for n, (state, released) in enumerate([("created_held", [fo_id]), ("released", [])]):
        with transaction(services.db) as conn:
            conn.execute(order_links.update().values(
                next_due_at=LATER, state=state,
                memory={"state": state, "held_fulfillment_order_ids": [fo_id],
                        "released_fulfillment_order_ids": released}))
        assert (await deliver(client, topic, payload, event_id=f"echo{n}")).status_code == 200
        assert due(services, link_id) == LATER, state


async def test_a_signed_order_body_replayed_under_other_headers_acts_on_nothing(
        services: Services, client: httpx.AsyncClient) -> None:
    cid, link_id = setup_link(services)
    with transaction(services.db) as conn:
        other = connections.create_connection(conn, services.cipher, name="c2", tiktok_shop_id="8000",
                                              shopify_domain="other.myshopify.com", now=NOW)
    genuine = json.dumps({"id": 1001, "admin_graphql_api_id": "gid://shopify/Order/1001",
                          "cancelled_at": "2026-11-16T18:00:00Z", "line_items": []}).encode()
    for n, (topic, domain) in enumerate([("app/uninstalled", DOMAIN), ("shop/redact", DOMAIN),
                                         ("customers/redact", DOMAIN), ("app/uninstalled", "other.myshopify.com")]):
        response = await deliver(client, topic, {}, body=genuine, domain=domain, event_id=f"r{n}")
        assert response.status_code == 400, (topic, response.text)
    genuine_uninstall = json.dumps({"id": 9, "myshopify_domain": DOMAIN}).encode()
    moved = await deliver(client, "app/uninstalled", {}, body=genuine_uninstall, domain="other.myshopify.com",
                          event_id="r9")
    assert moved.status_code == 400
    assert "not the header's shop" in moved.text
    with transaction(services.db, write=False) as conn:
        for row_id in (cid, other.id):
            row = connections.get_connection(conn, services.cipher, row_id)
            assert row is not None
            assert row.status == ConnectionStatus.ACTIVE
        link = links.get_link(conn, link_id)
        assert link is not None
        assert link.tiktok_snapshot == {"recipient": "Jane"}
    assert len(inbox_rows(services)) == 2  # each refused body is kept once (keyed by its hash), with its reason
    assert all(r.error for r in inbox_rows(services))
