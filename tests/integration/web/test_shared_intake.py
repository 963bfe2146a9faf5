"""Several web processes share webhook intake: two app instances (each its own ``Services``
and database engine, as two processes would have) take deliveries for the same orders at
once. Each delivery runs in its own thread (the web layer's), so the transactions really
overlap on the database.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select

from orderbridge.adapters.db import links, transaction
from orderbridge.adapters.db.tables import inbox, order_links
from orderbridge.bootstrap import Services
from orderbridge.clock import ManualClock
from orderbridge.web.app import create_app
from tests.integration.web.conftest import APP_KEY, APP_SECRET, NOW, SHOPIFY_SECRET, _settings
from tests.integration.web.test_tiktok_webhooks import envelope, make_connection, sign

ORDERS = ["576000000000000101", "576000000000000102"]
# Deliveries per app: each event is sent to both apps (a redelivery landing elsewhere).
EVENTS = 6


@pytest.fixture
async def second(migrated_db_url: str) -> AsyncIterator[Services]:
    settings = _settings(migrated_db_url, tiktok_app_key=APP_KEY, tiktok_app_secret=APP_SECRET,
                         shopify_client_secret=SHOPIFY_SECRET)
    svc = Services.create(settings, clock=ManualClock(NOW), migrate_db=False)
    try:
        yield svc
    finally:
        await svc.aclose()


def _bodies() -> list[bytes]:
    """Order events for both orders, and package events naming them in either order."""
    bodies = []
    for n in range(EVENTS):
        if n % 3 == 2:
            names = ORDERS if n % 2 else ORDERS[::-1]
            data = {"package_list": [{"package_id": f"p{n}", "order_id_list": names}]}
            bodies.append(envelope(4, data, notification=f"n-{n}"))
        else:
            bodies.append(envelope(1, {"order_id": ORDERS[n % 2], "order_status": "AWAITING_SHIPMENT",
                                       "update_time": 1763316000 + n}, notification=f"n-{n}"))
    return bodies


async def test_two_web_apps_take_webhooks_for_the_same_orders_at_once(
        services: Services, second: Services) -> None:
    cid = make_connection(services)
    apps = [create_app(services), create_app(second)]
    clients = [httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://orderbridge.test")
               for app in apps]
    try:
        sends = [
            client.post("/webhooks/tiktok", content=body,
                        headers={"content-type": "application/json", "authorization": sign(body)})
            for body in _bodies() for client in clients
        ]
        answers = await asyncio.gather(*sends)
    finally:
        for client in clients:
            await client.aclose()
    assert [a.status_code for a in answers] == [200] * len(answers), [a.text for a in answers]
    with transaction(services.db, write=False) as conn:
        stored = Counter(conn.execute(select(inbox.c.event_id, inbox.c.error)).all())
        made = conn.execute(select(order_links.c.tiktok_order_id)).scalars().all()
        due = {oid: links.find_link(conn, cid, oid) for oid in ORDERS}
    assert stored == Counter({(f"n-{n}", None): 1 for n in range(EVENTS)})
    assert sorted(made) == ORDERS
    for oid, link in due.items():
        assert link is not None, oid
        assert link.next_due_at == NOW, oid
