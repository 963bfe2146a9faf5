"""The Shopify OAuth install and app/uninstalled, over real HTTP: the engine's web app served on a
port, the Shopify sandbox served on another; a test plays the merchant's browser."""

import asyncio
import base64
import hashlib
import hmac
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from sqlalchemy import select

from orderbridge.adapters.db import ConnectionStatus, connections, events, transaction
from orderbridge.adapters.db.connections import ConnectionRow
from orderbridge.adapters.db.tables import connections as ctable
from orderbridge.adapters.db.tables import inbox
from orderbridge.adapters.shopify import ShopifyClient
from orderbridge.bootstrap import Services
from orderbridge.devkit import ControlClient
from orderbridge.engine.oauth_state import make_state
from orderbridge.engine.sandbox_connection import connect_sandbox
from orderbridge.engine.shopify_install import expect_install
from orderbridge.errors import AuthError
from orderbridge.sandbox.common.server import ServedApp, ServerGroup, ServerThread
from orderbridge.web.app import create_app
from tests.integration.web.conftest import SandboxKit

DOMAIN = "second-shop.myshopify.com"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Engine:
    url: str
    services: Services  # the test's own, on the served app's database and settings
    info: dict[str, Any]
    http: httpx.AsyncClient  # the merchant's browser: follows no redirect by itself
    control: ControlClient

    @property
    def secret(self) -> str:
        return str(self.info["shopify"]["client_secret"])

    def row(self, name: str) -> ConnectionRow:
        with transaction(self.services.db, write=False) as conn:
            row = connections.find_connection(conn, self.services.cipher, name=name)
        assert row is not None
        return row

    async def authorize(self, shop: str = DOMAIN) -> str:
        """Open the install link; answer Shopify's authorize URL it redirects to."""
        response = await self.http.get(f"{self.url}/oauth/shopify/install", params={"shop": shop})
        assert response.status_code == 302, response.text
        return response.headers["location"]

    async def approve(self, authorize_url: str) -> str:
        """The merchant approves on Shopify (the sandbox): the callback URL Shopify redirects to."""
        response = await self.http.get(authorize_url)
        assert response.status_code == 302, response.text
        return response.headers["location"]


@asynccontextmanager
async def served_engine(sbx: SandboxKit, **overrides: Any) -> AsyncIterator[Engine]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    settings = sbx.services.settings.model_copy(update={"base_url": url, **overrides})

    async def setup() -> Callable[[], Awaitable[None]]:
        served_svc = Services.create(settings, clock=sbx.services.clock, migrate_db=False)
        group = ServerGroup([ServedApp("orderbridge", create_app(served_svc), "127.0.0.1", port)])
        await group.start()

        async def teardown() -> None:
            await group.stop()
            await served_svc.aclose()

        return teardown

    with ServerThread(setup).running():
        svc = Services.create(settings, clock=sbx.services.clock, migrate_db=False)
        try:
            async with httpx.AsyncClient(timeout=10) as http:
                yield Engine(url, svc, sbx.info, http, ControlClient(sbx.info["control_url"], http))
        finally:
            await svc.aclose()


def _signed(secret: str, params: dict[str, str]) -> dict[str, str]:
    message = "&".join(sorted(f"{k}={v}" for k, v in params.items()))
    return {**params, "hmac": hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()}


def _query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


async def test_install_end_to_end_then_the_token_is_refreshed_before_it_expires(sbx: SandboxKit) -> None:
    async with served_engine(sbx) as e:
        expect_install(e.services, "store", DOMAIN)
        authorize = await e.authorize()
        asked = _query(authorize)
        assert authorize.startswith(e.info["shopify"]["admin_url_template"].format(shop=DOMAIN) + "/oauth/authorize?")
        assert asked["client_id"] == e.info["shopify"]["api_key"]
        assert asked["redirect_uri"] == f"{e.url}/oauth/shopify/callback"
        assert "write_orders" in asked["scope"].split(",")
        callback = await e.approve(authorize)
        assert set(_query(callback)) == {"code", "hmac", "host", "shop", "state", "timestamp"}
        page = await e.http.get(callback)
        assert page.status_code == 200, page.text
        assert f"Connected {DOMAIN}" in page.text
        row = e.row("store")
        now = e.services.clock.now()
        assert row.shopify_domain == DOMAIN
        assert row.shopify_token
        assert row.shopify_refresh_token
        assert row.shopify_token_expires_at == now + timedelta(hours=1)
        assert row.shopify_location_id
        assert "write_order_edits" in row.shopify_scopes
        assert row.status == ConnectionStatus.PAUSED  # the TikTok side is still missing
        # The stored ciphertext is not the token.
        with transaction(e.services.db, write=False) as conn:
            stored = conn.execute(select(ctable.c.shopify_token_enc, ctable.c.shopify_refresh_token_enc)
                                  .where(ctable.c.id == row.id)).one()
        assert row.shopify_token not in stored[0]
        assert row.shopify_refresh_token not in stored[1]
        replay = await e.http.get(callback)
        assert replay.status_code == 400
        assert "already used" in replay.text

        first_token = row.shopify_token
        await e.control.advance(56 * 60)  # 4 minutes left: inside the refresh margin
        info = await e.services.shopify_client(row).shop_info()
        assert info.access_scopes
        refreshed = e.row("store")
        assert refreshed.shopify_token != first_token
        assert refreshed.shopify_refresh_token != row.shopify_refresh_token
        assert refreshed.shopify_token_expires_at == e.services.clock.now() + timedelta(hours=1)
        await e.control.advance(5 * 60)  # the first token has expired; the refreshed one works
        old = ShopifyClient(shop_domain=DOMAIN, access_token=first_token, http=e.http,
                            endpoint_template=e.services.settings.shopify_endpoint_template)
        with pytest.raises(AuthError):
            await old.shop_info()
        assert (await e.services.shopify_client(refreshed).shop_info()).access_scopes


async def test_bad_hmac_reused_state_expired_state_and_bad_domains_are_refused(sbx: SandboxKit) -> None:
    async with served_engine(sbx) as e:
        expect_install(e.services, "store", DOMAIN)
        authorize = await e.authorize()
        callback = await e.approve(authorize)
        params = _query(callback)

        forged = {**params, "hmac": "0" * 64}
        bad_hmac = await e.http.get(f"{e.url}/oauth/shopify/callback", params=forged)
        assert bad_hmac.status_code == 401
        assert "hmac does not match" in bad_hmac.text
        tampered = {**params, "shop": "first-shop.myshopify.com"}  # the signed value changed
        assert (await e.http.get(f"{e.url}/oauth/shopify/callback", params=tampered)).status_code == 401

        # The same state used twice (the merchant approves twice): only the first installs.
        second = await e.approve(authorize)
        assert (await e.http.get(callback)).status_code == 200
        reused = await e.http.get(second)
        assert reused.status_code == 400
        assert "already used" in reused.text

        # A state past its lifetime, made for this store by this deployment.
        old_state = make_state(e.services.settings.secret_key, "store", e.services.clock.now() - timedelta(hours=25),
                               shop=DOMAIN)
        late = await e.approve(authorize.replace(_query(authorize)["state"], old_state))
        expired = await e.http.get(late)
        assert expired.status_code == 400
        assert "expired" in expired.text

        for shop in ("evil.example.com", "-x.myshopify.com", "a.myshopify.com.evil.com", ""):
            response = await e.http.get(f"{e.url}/oauth/shopify/install", params={"shop": shop})
            assert response.status_code == 400, shop
            assert "myshopify.com domain" in response.text
        stranger = await e.http.get(f"{e.url}/oauth/shopify/install", params={"shop": "stranger.myshopify.com"})
        assert stranger.status_code == 403
        # Signed with the app's secret, but naming a domain of the wrong shape.
        now = str(int(e.services.clock.now().timestamp()))
        odd = _signed(e.secret, {"code": "c", "shop": "evil.example.com", "state": params["state"], "timestamp": now})
        wrong_shape = await e.http.get(f"{e.url}/oauth/shopify/callback", params=odd)
        assert wrong_shape.status_code == 400
        assert "myshopify.com domain" in wrong_shape.text
        stale = _signed(e.secret, {**{k: v for k, v in params.items() if k != "hmac"},
                                   "timestamp": str(int(e.services.clock.now().timestamp()) - 3600)})
        assert (await e.http.get(f"{e.url}/oauth/shopify/callback", params=stale)).status_code == 400
        missing = await e.http.get(f"{e.url}/oauth/shopify/callback", params={"shop": DOMAIN})
        assert missing.status_code == 400
        assert "lacks" in missing.text
    with transaction(sbx.services.db, write=False) as conn:
        assert len([r for r in conn.execute(select(inbox)) if r.source == "oauth"]) == 1  # one state used


async def test_a_grant_without_a_required_scope_is_refused(sbx: SandboxKit) -> None:
    async with served_engine(sbx, shopify_scopes="read_orders,write_orders,read_all_orders,"
                             "read_merchant_managed_fulfillment_orders,write_merchant_managed_fulfillment_orders,"
                             "read_locations,read_products") as e:
        expect_install(e.services, "store", DOMAIN)
        page = await e.http.get(await e.approve(await e.authorize()))
        assert page.status_code == 403
        assert "MISSING_SCOPES" in page.text
        assert "write_order_edits" in page.text
        assert e.row("store").shopify_token is None


def _uninstall_body(shop_id: int, domain: str) -> bytes:
    return json.dumps({"id": shop_id, "name": "Second Shop", "myshopify_domain": domain}).encode()


async def _deliver(e: Engine, body: bytes, domain: str, event_id: str) -> httpx.Response:
    digest = base64.b64encode(hmac.new(e.secret.encode(), body, hashlib.sha256).digest()).decode()
    headers = {"X-Shopify-Topic": "app/uninstalled", "X-Shopify-Hmac-Sha256": digest,
               "X-Shopify-Shop-Domain": domain, "X-Shopify-API-Version": "2026-10",
               "X-Shopify-Webhook-Id": f"w-{event_id}", "X-Shopify-Event-Id": event_id,
               "Content-Type": "application/json"}
    return await e.http.post(f"{e.url}/webhooks/shopify", content=body, headers=headers)


async def test_forged_uninstall_does_not_disconnect_a_genuine_one_does(sbx: SandboxKit) -> None:
    async with served_engine(sbx) as e:
        row = await connect_sandbox(e.services, e.info, shop_index=1)
        assert row.status == ConnectionStatus.ACTIVE
        # A correctly signed body (a replay of an old uninstall, say) for a store that has the app.
        forged = await _deliver(e, _uninstall_body(1, row.shopify_domain), row.shopify_domain, "replayed")
        assert forged.status_code == 200
        assert e.row("sandbox").status == ConnectionStatus.ACTIVE
        with transaction(e.services.db, write=False) as conn:
            [stored] = [r for r in conn.execute(select(inbox)) if r.topic == "app/uninstalled"]
            warnings = [ev.summary for ev in events.recent(conn, connection_id=row.id) if "not acted on" in ev.summary]
        assert "still accepts the token" in stored.error
        assert warnings
        # Redelivered: asked again, still not acted on.
        assert (await _deliver(e, _uninstall_body(1, row.shopify_domain), row.shopify_domain, "replayed")).status_code == 200
        assert e.row("sandbox").status == ConnectionStatus.ACTIVE

        # The merchant really uninstalls: Shopify sends the webhook and revokes the token.
        await e.control.call("POST", f"/shopify/shops/{row.shopify_domain}/uninstall")
        await e.control.advance(1)
        for _ in range(100):
            if e.row("sandbox").status == ConnectionStatus.DISCONNECTED:
                break
            await e.control.advance(1)
        assert e.row("sandbox").status == ConnectionStatus.DISCONNECTED
        with transaction(e.services.db, write=False) as conn:
            summaries = [ev.summary for ev in events.recent(conn, connection_id=row.id)]
        assert any("was uninstalled" in s and "refuses the token" in s for s in summaries)


async def test_an_installed_then_uninstalled_store_is_disconnected_and_can_install_again(sbx: SandboxKit) -> None:
    async with served_engine(sbx) as e:
        expect_install(e.services, "store", DOMAIN)
        assert (await e.http.get(await e.approve(await e.authorize()))).status_code == 200
        await e.control.call("POST", f"/shopify/shops/{DOMAIN}/uninstall")  # no subscription: we deliver it
        response = await _deliver(e, _uninstall_body(1, DOMAIN), DOMAIN, "gone")
        assert response.status_code == 200
        assert e.row("store").status == ConnectionStatus.DISCONNECTED
        # Reinstalling makes it connected again with a new token.
        assert (await e.http.get(await e.approve(await e.authorize()))).status_code == 200
        assert e.row("store").status == ConnectionStatus.PAUSED
        assert e.row("store").shopify_token


async def test_concurrent_calls_near_expiry_refresh_once(sbx: SandboxKit) -> None:
    """Shopify spends a refresh token on use: two refreshes at once would leave one client
    with a refused refresh. Calls of one connection in a process take turns refreshing."""
    async with served_engine(sbx) as e:
        expect_install(e.services, "store", DOMAIN)
        assert (await e.http.get(await e.approve(await e.authorize()))).status_code == 200
        row = e.row("store")
        await e.control.advance(58 * 60)
        clients = [e.services.shopify_client(row) for _ in range(4)]
        infos = await asyncio.gather(*(c.shop_info() for c in clients))
        assert all(i.access_scopes for i in infos)
        after = e.row("store")
        assert after.shopify_token != row.shopify_token
        assert after.shopify_token_expires_at == e.services.clock.now() + timedelta(hours=1)
