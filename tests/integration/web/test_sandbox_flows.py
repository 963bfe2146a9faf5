"""Against the sandboxes: the OAuth redirect, and real webhook deliveries to a served app."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode, urlparse

import httpx
from sqlalchemy import select

from orderbridge.adapters.db import ConnectionStatus, connections, links, transaction
from orderbridge.adapters.db.tables import inbox
from orderbridge.bootstrap import Services
from orderbridge.devkit import ControlClient
from orderbridge.engine.oauth_state import make_state
from orderbridge.engine.sandbox_connection import connect_sandbox
from orderbridge.sandbox.common.server import ServedApp, ServerGroup, ServerThread
from orderbridge.web.app import create_app
from tests.integration.web.conftest import SandboxKit

CALLBACK = "http://orderbridge.test/oauth/tiktok/callback"


async def test_oauth_redirect_from_the_sandbox_connects_the_shop(sbx: SandboxKit) -> None:
    svc, tt = sbx.services, sbx.info["tiktok"]
    shop = tt["shops"][1]
    state = make_state(svc.settings.secret_key, "oauthed", svc.clock.now())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(svc)),
                                 base_url="http://orderbridge.test") as app, httpx.AsyncClient() as browser:
        query = {"service_id": tt["service_id"], "state": state, "shop_id": shop["shop_id"], "redirect_uri": CALLBACK}
        redirect = await browser.get(f"{tt['api_base']}/open/authorize/confirm?{urlencode(query)}")
        assert redirect.status_code == 302
        target = urlparse(redirect.headers["location"])
        page = await app.get(f"{target.path}?{target.query}")
        assert page.status_code == 200, page.text
        assert "Connected Second Shop" in page.text
        replay = await app.get(f"{target.path}?{target.query}")
        assert replay.status_code == 400
        assert "already used" in replay.text
        forged = await app.get("/oauth/tiktok/callback", params={"code": "x", "state": state[:-2] + "xx"})
        assert forged.status_code == 400
        denied = await app.get("/oauth/tiktok/callback", params={"code": "null", "error": "auth_denied"})
        assert denied.status_code == 400
    with transaction(svc.db, write=False) as conn:
        row = connections.find_connection(conn, svc.cipher, name="oauthed")
    assert row is not None
    assert row.tiktok_shop_id == shop["shop_id"]
    assert row.tiktok_access_token
    assert row.tiktok_shop_cipher == shop["shop_cipher"]


async def _eventually(check: Callable[[], Awaitable[bool]], seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.1)


async def test_real_webhooks_from_both_sandboxes_reach_the_served_app(sbx: SandboxKit) -> None:
    holder: dict[str, Services] = {}

    async def setup() -> Callable[[], Awaitable[None]]:
        served_svc = Services.create(sbx.services.settings, clock=sbx.services.clock, migrate_db=False)
        holder["svc"] = served_svc
        group = ServerGroup([ServedApp("orderbridge", create_app(served_svc), "127.0.0.1", 0)])
        await group.start()
        holder["url"] = group.urls()["orderbridge"]  # type: ignore[assignment]

        async def teardown() -> None:
            await group.stop()
            await served_svc.aclose()

        return teardown

    with ServerThread(setup).running():
        url = str(holder["url"])
        svc = Services.create(sbx.services.settings.model_copy(update={"base_url": url}),
                              clock=sbx.services.clock, migrate_db=False)
        try:
            row = await connect_sandbox(svc, sbx.info)
            async with httpx.AsyncClient(timeout=10) as http:
                control = ControlClient(sbx.info["control_url"], http)
                placed = await control.place_order(items=[{"seller_sku": "MW-SET-NAT", "units": 1}])
                await control.advance(1)

                async def stored() -> bool:
                    with transaction(svc.db, write=False) as conn:
                        return links.find_link(conn, row.id, placed["id"]) is not None

                await _eventually(stored)
                with transaction(svc.db, write=False) as conn:
                    link = links.find_link(conn, row.id, placed["id"])
                    sources = {r.source for r in conn.execute(select(inbox))}
                assert link is not None
                assert link.next_due_at is not None
                assert sources == {"tiktok"}

                await control.call("POST", f"/shopify/shops/{row.shopify_domain}/uninstall")
                await control.advance(1)

                async def disconnected() -> bool:
                    with transaction(svc.db, write=False) as conn:
                        current = connections.get_connection(conn, svc.cipher, row.id)
                        return current is not None and current.status == ConnectionStatus.DISCONNECTED

                await _eventually(disconnected)
        finally:
            await svc.aclose()
