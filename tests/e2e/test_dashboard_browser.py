"""The dashboard in a real browser: Debian's Chromium driven by Playwright, over real HTTP.

An operator signs in, reads the overview, finds an order through the list's filter, opens
it, dismisses its exception with the page's own button (the form's CSRF token and the
browser's Origin header do their work), and signs out; a page opened after that goes back
to the sign-in form. A viewer sees no buttons. No script runs on the pages (the CSP allows
none), so the browser proves the forms work without one.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright, expect

from orderbridge.adapters.db import connections, generate_key, links, order_exceptions, transaction
from orderbridge.adapters.db.operators import Role, add_user
from orderbridge.adapters.db.web_sessions import set_password_hash
from orderbridge.bootstrap import Services
from orderbridge.cli.runner import WebServer
from orderbridge.settings import Settings
from orderbridge.web import passwords
from orderbridge.web.app import create_app

PASSWORD = "correct horse battery"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.slow


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[str]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'dash.db'}", secret_key=generate_key(),
                        base_url="http://127.0.0.1")
    services = Services.create(settings)
    now = datetime.now(UTC)
    with transaction(services.db) as conn:
        for name, role in (("olive", Role.OPERATOR), ("vera", Role.VIEWER)):
            user = add_user(conn, name, role, now=now)
            set_password_hash(conn, user.id, passwords.hash_password(PASSWORD), now=now)
        cid = connections.create_connection(conn, services.cipher, name="main-shop", tiktok_shop_id="7000001",
                                            shopify_domain="main.myshopify.com", now=now,
                                            tiktok_shop_name="Main TikTok Shop").id
        for i in range(5):
            link, _ = links.get_or_create_link(conn, cid, f"57700000000000000{i}", now + timedelta(seconds=i))
        order_exceptions.raise_exception(conn, link.id, "TRACKING_REJECTED", "error",
                                         "TikTok refused the tracking number", None, "retry", now=now)
    web = WebServer(create_app(services), "127.0.0.1", 0)
    port = await web.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await web.stop()
        await services.aclose()


@pytest.fixture
async def chromium() -> AsyncIterator[Browser]:
    assert CHROMIUM, "Chromium is missing: `apt-get install chromium` (`make test` does it as root)"
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
        try:
            yield browser
        finally:
            await browser.close()


async def test_an_operator_signs_in_finds_an_order_and_fixes_it(site: str, chromium: Browser) -> None:
    page = await chromium.new_page()
    await page.goto(f"{site}/dashboard/orders")
    await expect(page).to_have_url(f"{site}/dashboard/login?next=/dashboard/orders")
    await page.get_by_label("Name").fill("olive")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{site}/dashboard/orders")
    await expect(page.get_by_text("olive (operator)")).to_be_visible()

    await page.get_by_role("link", name="Overview").click()
    card = page.locator("#connection-1")
    await expect(card).to_contain_text("Main TikTok Shop → main.myshopify.com")
    await expect(card).to_contain_text("5 new")
    await expect(card).to_contain_text("1 open exceptions")

    await page.get_by_role("link", name="Orders").click()
    await page.get_by_label("Exception").fill("TRACKING_REJECTED")
    await page.get_by_role("button", name="Filter").click()
    rows = page.locator("table.orders tbody tr")
    await expect(rows).to_have_count(1)
    await rows.get_by_role("link", name="577000000000000004").click()
    await expect(page.get_by_role("heading", name="TikTok order 577000000000000004")).to_be_visible()

    await page.get_by_role("button", name="dismiss").click()
    await expect(page.get_by_role("status")).to_contain_text("dismiss on TRACKING_REJECTED")
    await expect(page.locator("ol.timeline")).to_contain_text("operator: dismiss on TRACKING_REJECTED (by olive)")
    await expect(page.get_by_role("button", name="dismiss")).to_have_count(0)
    await page.get_by_role("link", name="SLA desk").click()
    await expect(page.get_by_role("heading", name="SLA desk")).to_be_visible()
    await expect(page.locator("table.sla")).to_contain_text("Nothing waits for a carrier scan.")

    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(f"{site}/dashboard/login")
    await page.goto(f"{site}/dashboard/exceptions")
    await expect(page).to_have_url(f"{site}/dashboard/login?next=/dashboard/exceptions")


async def test_a_viewer_reads_but_has_no_buttons(site: str, chromium: Browser) -> None:
    page = await chromium.new_page()
    await page.goto(f"{site}/dashboard/login")
    await page.get_by_label("Name").fill("vera")
    await page.get_by_label("Password").fill("wrong password!!")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_have_text("Wrong name or password.")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_label("Name").fill("vera")
    await page.get_by_role("button", name="Sign in").click()
    await page.goto(f"{site}/dashboard/exceptions")
    await expect(page.locator("#code-TRACKING_REJECTED")).to_contain_text("TikTok refused the tracking number")
    await expect(page.get_by_role("button", name="dismiss")).to_have_count(0)
    await page.get_by_role("link", name="SLA desk").click()
    await expect(page.get_by_role("heading", name="SLA desk")).to_be_visible()
    await expect(page.locator("table.sla")).to_contain_text("Nothing waits for a carrier scan.")
    await page.get_by_role("link", name="Cancellations").click()
    await expect(page.get_by_role("heading", name="Cancellation desk")).to_be_visible()
    await expect(page.locator("table.cancellations")).to_contain_text("No buyer cancellation request is pending.")
