"""The Shopify sandbox's OAuth endpoints over real HTTP, checked against Shopify's documented
behaviour independently of OrderBridge's client (the hmac is recomputed here)."""

import hashlib
import hmac
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from tests.integration.sandboxes.conftest import Kit

REDIRECT = "https://app.example.com/oauth/shopify/callback"
SHOP = "matcha-shop.myshopify.com"


def _admin(kit: Kit) -> str:
    return str(kit.info["shopify"]["admin_url_template"]).format(shop=SHOP)


async def _authorize(kit: Kit, **params: str) -> httpx.Response:
    query = {"client_id": kit.info["shopify"]["api_key"], "scope": "read_orders,write_orders",
             "redirect_uri": REDIRECT, "state": "nonce-1", "grant_options[]": ""} | params
    return await kit.http.get(f"{_admin(kit)}/oauth/authorize", params=query)


async def _token(kit: Kit, **form: str) -> httpx.Response:
    body = {"client_id": kit.info["shopify"]["api_key"], "client_secret": kit.info["shopify"]["client_secret"]}
    return await kit.http.post(f"{_admin(kit)}/oauth/access_token", data=body | form)


async def _code(kit: Kit) -> str:
    response = await _authorize(kit)
    assert response.status_code == 302
    return dict(parse_qsl(urlsplit(response.headers["location"]).query))["code"]


async def _shop_query(kit: Kit, token: str) -> int:
    url = kit.info["shopify"]["graphql_url_template"].format(shop=SHOP, version=kit.info["shopify"]["api_version"])
    response = await kit.http.post(url, json={"query": "{ shop { id } }"}, headers={"X-Shopify-Access-Token": token})
    return response.status_code


async def test_authorize_redirects_with_a_signed_query(kit: Kit) -> None:
    response = await _authorize(kit)
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    params = dict(parse_qsl(urlsplit(location).query))
    assert set(params) == {"code", "hmac", "host", "shop", "state", "timestamp"}
    assert params["shop"] == SHOP
    assert params["state"] == "nonce-1"
    message = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "hmac")
    secret = kit.info["shopify"]["client_secret"].encode()
    assert params["hmac"] == hmac.new(secret, message.encode(), hashlib.sha256).hexdigest()


async def test_authorize_refuses_bad_requests(kit: Kit) -> None:
    assert (await _authorize(kit, client_id="nope")).status_code == 400
    assert (await _authorize(kit, scope="read_orders,write_everything")).status_code == 400
    assert (await _authorize(kit, redirect_uri="javascript:alert(1)")).status_code == 400
    assert (await _authorize(kit, **{"grant_options[]": "per-user"})).status_code == 400
    await kit.control.call("PUT", "/shopify/apps/orderbridge/redirect-urls", {"urls": [REDIRECT]})
    assert (await _authorize(kit, redirect_uri="https://evil.example.com/cb")).status_code == 400
    assert (await _authorize(kit)).status_code == 302
    other = await kit.http.get(str(kit.info["shopify"]["admin_url_template"]).format(shop="nope.myshopify.com")
                               + "/oauth/authorize", params={"client_id": kit.info["shopify"]["api_key"]})
    assert other.status_code == 404


async def test_a_code_is_single_use_and_needs_the_client_secret(kit: Kit) -> None:
    code = await _code(kit)
    wrong = await _token(kit, code=code, client_secret="shpss_wrong")
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_client"
    granted = await _token(kit, code=code)
    assert granted.status_code == 200
    body: dict[str, Any] = granted.json()
    assert set(body) == {"access_token", "scope"}  # non-expiring: no expiry, no refresh token
    assert body["scope"] == "read_orders,write_orders"
    assert await _shop_query(kit, body["access_token"]) == 200
    again = await _token(kit, code=code)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_request"


async def test_expiring_tokens_refresh_and_uninstall_revokes_everything(kit: Kit) -> None:
    body = (await _token(kit, code=await _code(kit), expiring="1")).json()
    assert body["expires_in"] == 3600
    assert body["refresh_token_expires_in"] == 90 * 86400
    first, refresh = body["access_token"], body["refresh_token"]
    await kit.control.advance(1800)
    refreshed = (await _token(kit, grant_type="refresh_token", refresh_token=refresh)).json()
    assert refreshed["access_token"] != first
    assert refreshed["refresh_token"] != refresh
    spent = await _token(kit, grant_type="refresh_token", refresh_token=refresh)
    assert spent.status_code == 400
    assert spent.json()["error"] == "invalid_grant"
    assert await _shop_query(kit, first) == 200  # the old access token lasts until it expires
    await kit.control.advance(1800)
    assert await _shop_query(kit, first) == 401
    assert await _shop_query(kit, refreshed["access_token"]) == 200
    later = (await _token(kit, grant_type="refresh_token", refresh_token=refreshed["refresh_token"])).json()
    await kit.control.call("POST", f"/shopify/shops/{SHOP}/uninstall")
    assert await _shop_query(kit, later["access_token"]) == 401
    gone = await _token(kit, grant_type="refresh_token", refresh_token=later["refresh_token"])
    assert gone.status_code == 400
