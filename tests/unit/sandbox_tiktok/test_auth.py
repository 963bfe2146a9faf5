"""Signing, authentication errors and OAuth."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from orderbridge.clock import ManualClock, from_unix, to_unix
from orderbridge.sandbox.tiktok.signing import request_sign
from orderbridge.sandbox.tiktok.state import App

from .conftest import BASE, Client, doc_sign

DOC_SECRET = "e59af819cc"
DOC_PATH = "/authorization/202309/shops"
DOC_PARAMS = {"app_key": "29a39d", "timestamp": "1623812664"}
DOC_SIGN = "b596b73e0cc6de07ac26f036364178ab16b0a907af13d43f0a0cd2345f582dc8"


def test_signer_reproduces_the_doc_example() -> None:
    assert request_sign(DOC_SECRET, DOC_PATH, DOC_PARAMS) == DOC_SIGN
    assert doc_sign(DOC_SECRET, DOC_PATH, DOC_PARAMS) == DOC_SIGN


async def test_verifier_accepts_the_doc_example(api: Client) -> None:
    world = api.sandbox.world
    world.apps["29a39d"] = App("29a39d", DOC_SECRET, "1", "doc", "http://x")
    token = world.tokens[api.token]
    token.app_key = "29a39d"
    # The doc's timestamp is from 2021: verify against a clock frozen at that instant.
    api.sandbox.auth.clock = ManualClock(from_unix(1623812664))
    resp = await api.call("GET", DOC_PATH, app_key="29a39d", timestamp=1623812664, cipher=None,
                          sign=DOC_SIGN)
    assert resp.json()["code"] == 0, resp.json()
    assert resp.json()["data"]["shops"][0]["cipher"] == api.cipher


async def test_authorized_shops(api: Client) -> None:
    data = await api.ok("GET", "/authorization/202309/shops", cipher=None)
    shop = data["shops"][0]
    assert shop == {"id": api.shop["shop_id"], "name": "Matcha Shop", "region": "US",
                    "seller_type": "LOCAL", "cipher": api.cipher, "code": shop["code"]}


async def _code(api: Client, **kw: object) -> int:
    resp = await api.call("POST", "/order/202309/orders/search", query={"page_size": 10}, body={}, **kw)  # type: ignore[arg-type]
    assert resp.headers["content-type"].startswith("application/json")
    code: int = resp.json()["code"]
    return code


async def test_auth_error_codes(api: Client) -> None:
    now = to_unix(api.clock.now())
    assert await _code(api) == 0
    assert await _code(api, sign="0" * 64) == 106001
    assert await _code(api, secret="wrong") == 106001
    assert await _code(api, sign=None) == 36009004
    assert await _code(api, timestamp=now - 301) == 36009004
    assert await _code(api, timestamp=now - 299) == 0
    assert await _code(api, timestamp=now + 31) == 36009004
    assert await _code(api, app_key=None) == 36009004
    assert await _code(api, app_key="nope") == 36009004
    assert await _code(api, token=None) == 36009004
    assert await _code(api, token="unknown") == 36009004  # common errors: a bad token
    assert await _code(api, cipher=None) == 106013
    assert await _code(api, cipher=api.shop2["shop_cipher"]) == 101000
    resp = await api.call("GET", "/authorization/202309/shops")
    assert resp.json()["code"] == 36009004
    assert "Unexpected identifier" in resp.json()["message"]


async def test_expired_token_then_refresh_rotates(api: Client) -> None:
    await api.control("POST", f"/tokens/{api.token}/expire")
    assert await _code(api) == 105002
    refresh = api.shop["refresh_token"]
    q = {"app_key": api.app_key, "app_secret": api.secret, "refresh_token": refresh,
         "grant_type": "refresh_token"}
    data = (await api.http.get(BASE + "/api/v2/token/refresh", params=q)).json()["data"]
    assert data["refresh_token"] != refresh
    assert data["access_token_expire_in"] == to_unix(api.clock.now() + timedelta(days=7))
    again = (await api.http.get(BASE + "/api/v2/token/refresh", params=q)).json()
    assert again["code"] != 0
    api.token = data["access_token"]
    assert await _code(api) == 0


async def test_token_get_single_use_and_expiry(api: Client) -> None:
    minted = await api.control("POST", f"/shops/{api.shop['shop_id']}/auth_code")
    q = {"app_key": api.app_key, "app_secret": api.secret, "auth_code": minted["auth_code"],
         "grant_type": "authorized_code"}
    first = (await api.http.get(BASE + "/api/v2/token/get", params=q)).json()
    assert first["code"] == 0
    data = first["data"]
    assert set(data) >= {"access_token", "access_token_expire_in", "refresh_token",
                         "refresh_token_expire_in", "open_id", "seller_name",
                         "seller_base_region", "user_type", "granted_scopes"}
    assert data["seller_name"] == "Matcha Shop"
    assert data["seller_base_region"] == "US"
    assert (await api.http.get(BASE + "/api/v2/token/get", params=q)).json()["code"] != 0
    late = await api.control("POST", f"/shops/{api.shop['shop_id']}/auth_code")
    api.clock.advance(timedelta(minutes=31))
    q["auth_code"] = late["auth_code"]
    assert (await api.http.get(BASE + "/api/v2/token/get", params=q)).json()["code"] != 0


async def test_authorize_page_redirects_with_code_and_state(api: Client) -> None:
    url = api.info["authorize_url"] + "&state=xyz&redirect_uri=http://app.test/cb"
    page = await api.http.get(url)
    assert page.status_code == 200
    assert "Matcha Shop" in page.text
    href = page.text.split(f'id="shop-{api.shop["shop_id"]}" href="')[1].split('"')[0]
    redirect = await api.http.get(BASE + href.replace("&amp;", "&"))
    assert redirect.status_code == 302
    target = urlsplit(redirect.headers["location"])
    assert target.netloc == "app.test"
    q = parse_qs(target.query)
    assert q["state"] == ["xyz"]
    assert q["code"][0] in api.sandbox.world.auth_codes
