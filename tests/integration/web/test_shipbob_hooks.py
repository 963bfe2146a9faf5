"""``POST /webhooks/shipbob/{connection}`` over real HTTP, fed by the ShipBob sandbox's own
signed deliveries, on both databases: a delivery signed with the connection's secret is stored
in the inbox and makes the order it names due; one signed with another secret gets 401 and
leaves nothing behind; an unknown connection gets 404."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from orderbridge.adapters.db import connections, links, threepl_orders, transaction
from orderbridge.adapters.db.tables import inbox, order_links
from orderbridge.adapters.shipbob import (
    NewOrder,
    NewProduct,
    Recipient,
    RecipientAddress,
    ShipBobClient,
)
from orderbridge.bootstrap import Services
from orderbridge.devkit import ControlClient, shipbob_client, usps_number
from orderbridge.sandbox.runner import RunningSandboxes
from tests.integration.sandboxes.conftest import served  # noqa: F401  (fixture)

from .conftest import _settings, serve_app

SECRET = "whsec_" + base64.b64encode(b"acme-shipbob-webhook-secret-32b!").decode()
OTHER = "whsec_" + base64.b64encode(b"somebody-else-secret-0123456789!").decode()


@dataclass
class Hooks:
    services: Services
    client: ShipBobClient
    control: ControlClient
    http: httpx.AsyncClient  # the app over real HTTP
    link_id: int


@pytest.fixture
async def hooks(migrated_db_url: str, served: RunningSandboxes) -> AsyncIterator[Hooks]:  # noqa: F811
    info = served.info()
    services = Services.create(_settings(migrated_db_url, shipbob_webhook_secrets={"acme": SECRET}),
                               clock=served.world.clock, migrate_db=False)
    now = services.clock.now()
    with transaction(services.db) as conn:
        row = connections.create_connection(conn, services.cipher, name="acme", tiktok_shop_id="7001",
                                            shopify_domain="acme.myshopify.com", now=now)
        link, _ = links.get_or_create_link(conn, row.id, "5800001", now)
        conn.execute(order_links.update().where(order_links.c.id == link.id).values(
            shopify_order_name="#1042", next_due_at=now + timedelta(days=1)))
    try:
        async with httpx.AsyncClient(timeout=10.0) as plain, serve_app(services) as app:
            yield Hooks(services, shipbob_client(info, plain), ControlClient(info["control_url"], plain), app,
                        link.id)
    finally:
        await services.aclose()


async def shipped(h: Hooks, reference: str) -> None:
    order = await h.client.create_order(NewOrder(
        reference_id=reference, order_number=reference, shipping_method="Standard",
        recipient=Recipient(name="Ada Buyer", address=RecipientAddress(
            address1="1 Main St", city="Austin", state="TX", country="US", zip_code="73301")),
        products=[NewProduct(reference_id="MW-SET-NAT", name="Matcha set", quantity=1)]))
    await h.control.warehouse("shipbob", order.id, "ship", {"carrier": "USPS", "tracking_number": usps_number(5)})
    await h.control.advance(1)  # the sandbox sends the delivery (from its own thread)
    await answered(h)


async def answered(h: Hooks, seconds: float = 15.0) -> dict[str, Any]:
    """The sandbox's delivery once our app has answered its first attempt (real I/O between
    two threads: polled, as tests/integration/web/test_sandbox_flows.py does)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        found = await h.control.deliveries(sandbox="shipbob", topic="order.shipped")
        full = await h.control.delivery(found[0]["id"]) if found else {}
        if full.get("attempts"):
            return full
        assert loop.time() < deadline, "the sandbox never delivered"
        await asyncio.sleep(0.05)


def inbox_rows(h: Hooks) -> list[Any]:
    with transaction(h.services.db, write=False) as conn:
        return list(conn.execute(select(inbox.c.source, inbox.c.event_id, inbox.c.topic, inbox.c.processed_at,
                                        inbox.c.connection_id)))


def due_at(h: Hooks) -> Any:
    with transaction(h.services.db, write=False) as conn:
        link = links.get_link(conn, h.link_id)
    assert link is not None
    return link.next_due_at


async def test_a_signed_delivery_is_stored_and_makes_the_order_due(hooks: Hooks) -> None:
    h = hooks
    url = str(h.http.base_url.join("/webhooks/shipbob/acme"))
    await h.client.subscribe(["order.shipped"], url, SECRET)
    await shipped(h, "#1042")
    [delivery] = await h.control.deliveries(sandbox="shipbob", topic="order.shipped")
    assert delivery["topic"] == "order.shipped", delivery
    [row] = inbox_rows(h)
    assert (row.source, row.topic) == ("3pl", "order.shipped")
    assert row.event_id.startswith("shipbob:msg_")
    assert row.processed_at is not None
    assert due_at(h) <= h.services.clock.now()


async def test_a_bad_signature_gets_401_and_nothing_is_stored(hooks: Hooks) -> None:
    h = hooks
    url = str(h.http.base_url.join("/webhooks/shipbob/acme"))
    before = due_at(h)
    await h.client.subscribe(["order.shipped"], url, OTHER)  # not the connection's secret
    await shipped(h, "#1042")
    full = await answered(h)
    assert full["attempts"][0]["status"] == 401  # the sandbox's own attempt
    answer = await h.http.post("/webhooks/shipbob/acme", content=full["body"].encode(), headers=full["headers"])
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert inbox_rows(h) == []
    assert due_at(h) == before
    # Unsigned, and to a connection with no secret: refused too, nothing stored.
    assert (await h.http.post("/webhooks/shipbob/acme", content=b"{}")).status_code == 401
    assert (await h.http.post("/webhooks/shipbob/nobody", content=full["body"].encode(),
                              headers=full["headers"])).status_code == 404
    with transaction(h.services.db, write=False) as conn:
        assert conn.execute(select(func.count()).select_from(inbox)).scalar() == 0


def stored_views(h: Hooks, reference: str) -> list[Any]:
    with transaction(h.services.db, write=False) as conn:
        link = links.get_link(conn, h.link_id)
        assert link is not None
        return threepl_orders.find_by_references(conn, link.connection_id, [reference])


async def test_an_order_shipped_delivery_stores_the_order_with_its_tracking(hooks: Hooks) -> None:
    """What the 3PL poll would store, at once: the order's next pass writes the tracking."""
    h = hooks
    await h.client.subscribe(["order.shipped"], str(h.http.base_url.join("/webhooks/shipbob/acme")), SECRET)
    await shipped(h, "#1042")
    [view] = stored_views(h, "#1042")
    assert (view.provider, view.reference) == ("shipbob", "#1042")
    assert [(p.carrier, p.tracking_number) for p in view.packages] == [("USPS", usps_number(5))]


async def test_a_refused_delivery_stores_no_order(hooks: Hooks) -> None:
    h = hooks
    await h.client.subscribe(["order.shipped"], str(h.http.base_url.join("/webhooks/shipbob/acme")), OTHER)
    await shipped(h, "#1042")
    assert stored_views(h, "#1042") == []
