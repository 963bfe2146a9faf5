"""The dashboard in a real browser: Debian's Chromium driven by Playwright, over real HTTP.

An operator signs in, reads the overview, finds an order through the list's filter, opens
it, dismisses its exception with the page's own button (the form's CSRF token and the
browser's Origin header do their work), approves a buyer's cancellation request, and signs
out; a page opened after that goes back to the sign-in form. The operator is granted one of
two connections: the other's order is a 404 page and appears nowhere. A viewer sees no
buttons. An admin changes a policy, a wrong value answered next to its field. No script
runs on the pages (the CSP allows none), so the browser proves the forms work without one;
the keyboard reaches the main content first. A screenshot of each page is kept
(``$DASHBOARD_SCREENSHOTS``, else the test's temporary directory).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from orderbridge.adapters.db import connections, generate_key, links, order_exceptions, transaction
from orderbridge.adapters.db.grants import grant_connection
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


@dataclass(frozen=True)
class Site:
    url: str
    hidden: int  # an order of the connection nobody but the admin may see
    shots: Path  # where the screenshots go


async def shot(page: Page, site: Site, name: str) -> None:
    """Keep a full-page screenshot of what the browser shows now."""
    await page.screenshot(path=str(site.shots / f"{name}.png"), full_page=True)


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'dash.db'}", secret_key=generate_key(),
                        base_url="http://127.0.0.1")
    services = Services.create(settings)
    now = datetime.now(UTC)
    with transaction(services.db) as conn:
        cid = connections.create_connection(conn, services.cipher, name="main-shop", tiktok_shop_id="7000001",
                                            shopify_domain="main.myshopify.com", now=now,
                                            tiktok_shop_name="Main TikTok Shop").id
        other = connections.create_connection(conn, services.cipher, name="other-shop", tiktok_shop_id="7000002",
                                              shopify_domain="other.myshopify.com", now=now).id
        for name, role in (("olive", Role.OPERATOR), ("vera", Role.VIEWER), ("ada", Role.ADMIN)):
            user = add_user(conn, name, role, now=now)
            set_password_hash(conn, user.id, passwords.hash_password(PASSWORD), now=now)
            grant_connection(conn, user.id, cid, now=now)  # not other-shop
        for i in range(5):
            link, _ = links.get_or_create_link(conn, cid, f"57700000000000000{i}", now + timedelta(seconds=i))
        order_exceptions.raise_exception(conn, link.id, "TRACKING_REJECTED", "error",
                                         "TikTok refused the tracking number", None, "retry", now=now)
        first, _ = links.get_or_create_link(conn, cid, "577000000000000100", now - timedelta(hours=1))
        order_exceptions.raise_exception(conn, first.id, "CANCEL_REQUEST_PENDING", "error",
                                         "The buyer asks to cancel; the order is already released",
                                         {"cancel_id": "4300777"}, "approve", now=now)
        hidden, _ = links.get_or_create_link(conn, other, "577000000000000999", now)
        order_exceptions.raise_exception(conn, hidden.id, "CANCEL_REQUEST_PENDING", "error",
                                         "The buyer asks to cancel (another shop)",
                                         {"cancel_id": "4300999"}, "approve", now=now)
    web = WebServer(create_app(services), "127.0.0.1", 0)
    port = await web.start()
    try:
        shots = Path(os.environ.get("DASHBOARD_SCREENSHOTS") or tmp_path / "screenshots")
        os.makedirs(shots, exist_ok=True)
        yield Site(url=f"http://127.0.0.1:{port}", hidden=hidden.id, shots=shots)
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


async def test_an_operator_signs_in_finds_an_order_and_fixes_it(site: Site, chromium: Browser) -> None:
    page = await chromium.new_page()
    await page.goto(f"{site.url}/dashboard/orders")
    await expect(page).to_have_url(f"{site.url}/dashboard/login?next=/dashboard/orders")
    await page.get_by_label("Name").fill("olive")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{site.url}/dashboard/orders")
    await expect(page.get_by_text("olive (operator)")).to_be_visible()

    await page.get_by_role("link", name="Overview").click()
    card = page.locator("#connection-1")
    await expect(card).to_contain_text("Main TikTok Shop → main.myshopify.com")
    await expect(card).to_contain_text("6 new")
    await expect(card).to_contain_text("2 open exceptions")
    await expect(card).to_contain_text("1 cancellation requests")
    await expect(page.locator("main")).not_to_contain_text("other-shop")
    await shot(page, site, "overview")

    await page.get_by_role("link", name="Orders").click()
    await page.get_by_label("Exception").fill("TRACKING_REJECTED")
    await page.get_by_role("button", name="Filter").click()
    rows = page.locator("table.orders tbody tr")
    await expect(rows).to_have_count(1)
    await shot(page, site, "orders")
    await rows.get_by_role("link", name="577000000000000004").click()
    await expect(page.get_by_role("heading", name="TikTok order 577000000000000004")).to_be_visible()
    await expect(page.locator("table.money")).to_contain_text("Buyer paid on TikTok")
    await shot(page, site, "order")

    await page.get_by_role("button", name="dismiss").click()
    await expect(page.get_by_role("status")).to_contain_text("dismiss on TRACKING_REJECTED")
    await expect(page.locator("ol.timeline")).to_contain_text("operator: dismiss on TRACKING_REJECTED (by olive)")
    await expect(page.get_by_role("button", name="dismiss")).to_have_count(0)
    await page.get_by_role("link", name="SLA desk").click()
    await expect(page.get_by_role("heading", name="SLA desk")).to_be_visible()
    await expect(page.locator("table.sla")).to_contain_text("Nothing waits for a carrier scan.")
    await shot(page, site, "sla")

    await page.get_by_role("link", name="Cancellations").click()
    desk = page.locator("table.cancellations tbody tr")
    await expect(desk).to_have_count(1)  # the other connection's requests are not listed
    await expect(desk).to_contain_text("577000000000000100")
    await expect(desk).to_contain_text("4300777")
    await expect(desk).not_to_contain_text("4300999")
    await expect(page.get_by_role("button", name="Reject")).to_have_count(0)
    await shot(page, site, "cancellations")
    # Approving (3PL, Shopify, TikTok in order) is driven end to end in
    # tests/integration/engine_runtime/test_cancel_desk_approve.py.

    hidden = await page.goto(f"{site.url}/dashboard/orders/{site.hidden}")
    assert hidden is not None
    assert hidden.status == 404  # another connection's order: as if it did not exist
    await page.goto(f"{site.url}/dashboard/orders?q=577000000000000999")
    await expect(page.locator("table.orders")).to_contain_text("No order matches.")
    await page.get_by_role("link", name="Products").click()
    await expect(page.locator("main")).not_to_contain_text("other-shop")
    await shot(page, site, "products")

    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(f"{site.url}/dashboard/login")
    await page.goto(f"{site.url}/dashboard/exceptions")
    await expect(page).to_have_url(f"{site.url}/dashboard/login?next=/dashboard/exceptions")


async def test_a_viewer_reads_but_has_no_buttons(site: Site, chromium: Browser) -> None:
    page = await chromium.new_page()
    await page.goto(f"{site.url}/dashboard/login")
    await page.get_by_label("Name").fill("vera")
    await page.get_by_label("Password").fill("wrong password!!")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_have_text("Wrong name or password.")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_label("Name").fill("vera")
    await page.get_by_role("button", name="Sign in").click()
    await page.goto(f"{site.url}/dashboard/exceptions")
    await expect(page.locator("#code-TRACKING_REJECTED")).to_contain_text("TikTok refused the tracking number")
    await expect(page.get_by_role("button", name="dismiss")).to_have_count(0)
    await page.get_by_role("link", name="SLA desk").click()
    await expect(page.get_by_role("heading", name="SLA desk")).to_be_visible()
    await expect(page.locator("table.sla")).to_contain_text("Nothing waits for a carrier scan.")
    await page.get_by_role("link", name="Cancellations").click()
    await expect(page.get_by_role("heading", name="Cancellation desk")).to_be_visible()
    await expect(page.locator("table.cancellations")).to_contain_text("4300777")
    await expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    assert (await page.goto(f"{site.url}/dashboard/settings")).status == 403  # type: ignore[union-attr]


async def test_an_admin_changes_a_policy_with_messages_next_to_the_field(site: Site, chromium: Browser) -> None:
    page = await chromium.new_page()
    await page.goto(f"{site.url}/dashboard/login")
    await expect(page.get_by_label("Name")).to_be_focused()  # the form is ready to type in
    await page.keyboard.type("ada")
    await page.keyboard.press("Tab")
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")  # the keyboard alone signs in
    await expect(page.get_by_text("ada (admin)")).to_be_visible()
    await page.keyboard.press("Tab")  # the first stop of every page skips the navigation
    await expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    await page.get_by_role("link", name="Settings").click()
    card = page.locator("#connection-1")
    field = card.get_by_label("create at")
    await field.fill("someday")
    await card.get_by_label("status tags").fill("true")
    await card.get_by_role("button", name="Save main-shop").click()
    await expect(page.get_by_role("status")).to_contain_text("Not saved")
    await expect(field).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#p1-create_at-error")).to_contain_text("Input should be")
    await shot(page, site, "settings-invalid")
    await field.fill("paid")
    await card.get_by_role("button", name="Save main-shop").click()
    await expect(page.get_by_role("status")).to_contain_text("main-shop: saved create_at, status_tags")
    await expect(card.get_by_label("create at")).to_have_value("paid")
    await shot(page, site, "settings")
    await expect(page.locator("#connection-2")).to_contain_text("other-shop")  # admins see every connection
