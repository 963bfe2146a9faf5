"""The dashboard over HTTP on both databases: sign-in, sessions, CSRF, roles, pages, paging.

(The same pages in a real browser: tests/e2e/test_dashboard_browser.py.)
"""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest

from orderbridge.adapters.db import connections, links, order_exceptions, transaction
from orderbridge.adapters.db.grants import grant_connection
from orderbridge.adapters.db.operators import Role, add_user, find_user
from orderbridge.adapters.db.web_sessions import set_password_hash
from orderbridge.bootstrap import Services
from orderbridge.clock import ManualClock
from orderbridge.web import passwords
from orderbridge.web.app import create_app

BASE = "http://orderbridge.test"
PASSWORD = "correct horse battery"


def _user(services: Services, name: str, role: Role, connection_ids: list[int] | None = None) -> None:
    """A user with a password, granted ``connection_ids`` (default: every connection now)."""
    now = services.clock.now()
    with transaction(services.db) as conn:
        user = find_user(conn, name) or add_user(conn, name, role, now=now)
        set_password_hash(conn, user.id, passwords.hash_password(PASSWORD), now=now)
        every = [c.id for c in connections.list_connections(conn, services.cipher)]
        for cid in every if connection_ids is None else connection_ids:
            grant_connection(conn, user.id, cid, now=now)


def _seed(services: Services, orders: int) -> list[int]:
    """A connection with ``orders`` links (one a minute) and an open exception on the first."""
    now = services.clock.now()
    with transaction(services.db) as conn:
        cid = connections.create_connection(
            conn, services.cipher, name="main-shop", tiktok_shop_id="7000001", shopify_domain="main.myshopify.com",
            now=now, tiktok_shop_name="Main TikTok Shop").id
        ids = []
        for i in range(orders):
            link, _ = links.get_or_create_link(conn, cid, f"5770000000000{i:05d}", now + timedelta(minutes=i))
            ids.append(link.id)
        order_exceptions.raise_exception(
            conn, ids[0], "UNMAPPED_SKU", "error", "TikTok SKU 1729 links to no Shopify variant",
            {"sku_id": "1729"}, "link_sku", now=now)
    return ids


@pytest.fixture
async def browser(services: Services) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(services))
    return httpx.AsyncClient(transport=transport, base_url=BASE)


async def _sign_in(http: httpx.AsyncClient, name: str, password: str = PASSWORD) -> httpx.Response:
    return await http.post("/dashboard/login", data={"name": name, "password": password, "next": "/dashboard"},
                           headers={"Origin": BASE})


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


async def test_pages_need_a_session_and_sign_in_comes_back(services: Services, browser: httpx.AsyncClient) -> None:
    _user(services, "vera", Role.VIEWER)
    async with browser as http:
        first = await http.get("/dashboard/orders?state=released")
        assert first.status_code == 303
        assert first.headers["location"] == "/dashboard/login?next=/dashboard/orders%3Fstate%3Dreleased"
        assert (await http.get("/dashboard/login")).status_code == 200
        signed = await _sign_in(http, "vera")
        assert signed.status_code == 303
        cookie = signed.headers["set-cookie"]
        assert "ob_session=obs_" in cookie
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie
        page = await http.get("/dashboard")
        assert page.status_code == 200
        assert "vera (viewer)" in page.text
        assert "style-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["cache-control"] == "no-store"


async def test_wrong_or_unknown_credentials_look_the_same_and_are_rate_limited(
    services: Services, browser: httpx.AsyncClient
) -> None:
    _user(services, "vera", Role.VIEWER)
    limit = services.settings.auth_failures_per_minute
    async with browser as http:
        wrong = await _sign_in(http, "vera", "not the password!")
        unknown = await _sign_in(http, "nobody", PASSWORD)
        assert wrong.status_code == unknown.status_code == 401
        assert "Wrong name or password." in wrong.text
        assert "Wrong name or password." in unknown.text
        assert "ob_session" not in wrong.headers.get("set-cookie", "")
        for _ in range(limit - 2):
            await _sign_in(http, "vera", "still not it!!")
        blocked = await _sign_in(http, "vera")  # even the right password, for this minute
        assert blocked.status_code == 429
        assert isinstance(services.clock, ManualClock)
        services.clock.advance(61)
        assert (await _sign_in(http, "vera")).status_code == 303


async def test_a_sign_in_form_from_another_site_and_a_redirect_elsewhere_are_refused(
    services: Services, browser: httpx.AsyncClient
) -> None:
    _user(services, "vera", Role.VIEWER)
    async with browser as http:
        forged = await http.post("/dashboard/login", data={"name": "vera", "password": PASSWORD},
                                 headers={"Origin": "http://evil.example"})
        assert forged.status_code == 403
        away = await http.post("/dashboard/login", headers={"Origin": BASE},
                               data={"name": "vera", "password": PASSWORD, "next": "https://evil.example/x"})
        assert away.headers["location"] == "/dashboard"


async def test_sessions_end_when_idle_and_at_sign_out(services: Services, browser: httpx.AsyncClient) -> None:
    _user(services, "vera", Role.VIEWER)
    assert isinstance(services.clock, ManualClock)
    async with browser as http:
        await _sign_in(http, "vera")
        services.clock.advance(services.settings.session_idle_minutes * 60 - 5)
        page = await http.get("/dashboard")
        assert page.status_code == 200  # seen: the idle time starts again
        services.clock.advance(services.settings.session_idle_minutes * 60 + 1)
        assert (await http.get("/dashboard")).status_code == 303
        await _sign_in(http, "vera")
        page = await http.get("/dashboard")
        token = http.cookies.get("ob_session")
        bad = await http.post("/dashboard/logout", data={"csrf": "forged"}, headers={"Origin": BASE})
        assert bad.status_code == 403
        out = await http.post("/dashboard/logout", data={"csrf": _csrf(page.text)}, headers={"Origin": BASE})
        assert out.status_code == 303
        http.cookies.set("ob_session", token or "")  # the old cookie, replayed
        assert (await http.get("/dashboard")).status_code == 303


async def test_operators_act_with_the_forms_token_and_viewers_cannot(
    services: Services, browser: httpx.AsyncClient
) -> None:
    ids = _seed(services, 1)
    _user(services, "vera", Role.VIEWER)
    _user(services, "olive", Role.OPERATOR)
    with transaction(services.db, write=False) as conn:
        [exc] = order_exceptions.open_exceptions(conn, link_id=ids[0])
    action = f"/dashboard/exceptions/{exc.id}/action"
    async with browser as http:
        await _sign_in(http, "vera")
        page = await http.get("/dashboard/exceptions")
        assert "UNMAPPED_SKU" in page.text
        assert "dismiss</button>" not in page.text  # no buttons for a viewer
        denied = await http.post(action, data={"action": "dismiss", "csrf": _csrf(page.text)},
                                 headers={"Origin": BASE})
        assert denied.status_code == 403
    async with httpx.AsyncClient(transport=http._transport, base_url=BASE) as http2:
        await _sign_in(http2, "olive")
        page = await http2.get(f"/dashboard/orders/{ids[0]}")
        assert "dismiss</button>" in page.text
        no_token = await http2.post(action, data={"action": "dismiss"}, headers={"Origin": BASE})
        assert no_token.status_code == 403
        done = await http2.post(action, headers={"Origin": BASE}, data={
            "action": "dismiss", "csrf": _csrf(page.text), "back": f"/dashboard/orders/{ids[0]}"})
        assert done.status_code == 303
        assert done.headers["location"].startswith(f"/dashboard/orders/{ids[0]}?notice=dismiss")
        after = await http2.get(done.headers["location"])
        assert "dismiss on UNMAPPED_SKU" in after.text
        assert "operator: dismiss on UNMAPPED_SKU (by olive)" in after.text  # on the timeline
    with transaction(services.db, write=False) as conn:
        assert order_exceptions.open_exceptions(conn, link_id=ids[0]) == []


async def test_the_order_list_pages_by_key_and_finds_an_order(services: Services, browser: httpx.AsyncClient) -> None:
    ids = _seed(services, 120)
    _user(services, "vera", Role.VIEWER)
    async with browser as http:
        await _sign_in(http, "vera")
        seen: list[str] = []
        url: str | None = "/dashboard/orders"
        while url:
            page = await http.get(url)
            assert page.status_code == 200
            seen += re.findall(r'href="/dashboard/orders/\d+">(\d+)<', page.text)
            nxt = re.search(r'rel="next" href="([^"]+)"', page.text)
            url = nxt.group(1).replace("&amp;", "&") if nxt else None
        assert len(seen) == len(set(seen)) == 120
        assert seen[0] == "577000000000000119"  # newest first
        found = await http.get("/dashboard/orders", params={"q": "577000000000000007"})
        assert re.findall(r'href="/dashboard/orders/(\d+)"', found.text) == [str(ids[7])]
        flagged = await http.get("/dashboard/orders", params={"exception": "UNMAPPED_SKU"})
        assert re.findall(r'href="/dashboard/orders/(\d+)"', flagged.text) == [str(ids[0])]
        missing = await http.get("/dashboard/orders/999999")
        assert missing.status_code == 404
        assert "text/html" in missing.headers["content-type"]
        bad = await http.get("/dashboard/orders", params={"connection": "x"})
        assert bad.status_code == 422
