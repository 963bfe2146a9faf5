"""The dashboard's SLA desk page, with orders the engine mirrored from the sandbox (both
databases): released orders waiting for a carrier scan are listed least time left first,
with TikTok's dispatch deadline; a viewer granted the connection signs in to see it. The
order list shows each one's time left to dispatch, and an order's page its money balanced
to the cent (TikTok's total, the Shopify total and the payment OrderBridge recorded)."""

from __future__ import annotations

import re

import httpx

from orderbridge.adapters.db import transaction
from orderbridge.adapters.db.grants import grant_connection
from orderbridge.adapters.db.operators import Role, add_user
from orderbridge.adapters.db.web_sessions import set_password_hash
from orderbridge.web import passwords
from orderbridge.web.app import create_app

from .conftest import HOUR, Harness

PASSWORD = "correct horse battery"


async def test_the_sla_page_lists_orders_waiting_for_a_scan(harness: Harness) -> None:
    h = harness
    orders = [await h.place(items=[{"seller_sku": "MW-SET-NAT", "units": 1}]) for _ in range(2)]
    h.mark_due(*orders)
    await h.settle()
    await h.advance(HOUR + 20 * 60)
    now = h.now()
    with transaction(h.services.db) as conn:
        user = add_user(conn, "vera", Role.VIEWER, now=now)
        set_password_hash(conn, user.id, passwords.hash_password(PASSWORD), now=now)
        grant_connection(conn, user.id, h.link(orders[0]).connection_id, now=now)
    base = str(h.services.settings.base_url).rstrip("/")
    transport = httpx.ASGITransport(app=create_app(h.services))
    async with httpx.AsyncClient(transport=transport, base_url=base) as http:
        assert (await http.get("/dashboard/sla")).status_code == 303  # sign in first
        signed = await http.post("/dashboard/login", headers={"Origin": base},
                                 data={"name": "vera", "password": PASSWORD, "next": "/dashboard/sla"})
        assert signed.headers["location"] == "/dashboard/sla"
        page = await http.get("/dashboard/sla")
        listing = await http.get("/dashboard/orders")
        detail = await http.get(f"/dashboard/orders/{h.link(orders[0]).id}")
    assert page.status_code == 200
    assert re.search(r'<td class="[a-z]*">\d+d \d+h \d{2}m</td>', listing.text), "time left to dispatch"
    assert "Balanced to the cent." in detail.text
    assert "OrderBridge recorded the payment." in detail.text
    listed = re.findall(r'href="/dashboard/orders/\d+">(\d+)<', page.text)
    assert sorted(listed) == sorted(orders)
    assert page.text.count("from_tiktok") >= len(orders)  # TikTok's rts_sla_time, not a guess
    assert "not shipped" in page.text
    async with httpx.AsyncClient(transport=transport, base_url=base, cookies=http.cookies) as http:
        before = await http.get("/dashboard/orders?risk=true")
        assert before.status_code == 200
        assert _ids(before.text) == []
        # 2d 13h 39m of business time left now: 40 hours on (the engine idle, the orders as
        # stored) leaves under 24 business hours.
        await h.advance(40 * HOUR, settle=False)
        await http.post("/dashboard/login", headers={"Origin": base},  # the session timed out meanwhile
                        data={"name": "vera", "password": PASSWORD, "next": "/dashboard"})
        risky = (await http.get("/dashboard/orders?risk=true")).text
        home = (await http.get("/dashboard")).text
    assert sorted(_ids(risky)) == sorted(orders)
    assert f"<b>{len(orders)}</b> at SLA risk" in home


def _ids(html: str) -> list[str]:
    return re.findall(r'href="/dashboard/orders/\d+">(\d+)<', html)
