"""The app side of Shopify's OAuth: domain shape, the redirect's hmac and age, the authorize URL."""

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest

from orderbridge.adapters.shopify.oauth import (
    CALLBACK_MAX_AGE,
    authorize_url,
    callback_hmac,
    valid_shop_domain,
    verify_callback,
)

SECRET = "hush"
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _params(**extra: str) -> list[tuple[str, str]]:
    base = {"code": "abc", "host": "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvc2hvcA==", "shop": "shop.myshopify.com",
            "state": "s.t", "timestamp": str(int(NOW.timestamp()))} | extra
    items = list(base.items())
    return [*items, ("hmac", callback_hmac(SECRET, items))]


@pytest.mark.parametrize(("shop", "ok"), [
    ("shop.myshopify.com", True), ("Shop-1.myshopify.com", True), ("a.myshopify.com", True),
    ("-shop.myshopify.com", False), ("shop.myshopify.com.evil.com", False), ("evil.com", False),
    ("sh op.myshopify.com", False), ("shop.myshopify.com/", False), ("", False), ("shop.MYSHOPIFY.COM", False),
    ("x" * 300 + ".myshopify.com", False), ("shöp.myshopify.com", False),
])
def test_shop_domain_shape(shop: str, ok: bool) -> None:
    assert (valid_shop_domain(shop) is not None) is ok
    if ok:
        assert valid_shop_domain(shop) == shop.lower()


def test_the_hmac_is_hex_sha256_of_the_sorted_pairs_without_hmac() -> None:
    params = [("timestamp", "1"), ("shop", "a.myshopify.com"), ("code", "x"), ("hmac", "ignored")]
    expected = hmac.new(SECRET.encode(), b"code=x&shop=a.myshopify.com&timestamp=1", hashlib.sha256).hexdigest()
    assert callback_hmac(SECRET, params) == expected
    # % and & in values, and = in keys, are escaped so that a value cannot forge another pair
    assert callback_hmac(SECRET, [("a", "1&b=2")]) != callback_hmac(SECRET, [("a", "1"), ("b", "2")])


def test_a_good_redirect_passes_and_every_change_fails() -> None:
    assert verify_callback(SECRET, _params(), NOW) is None
    good = _params()
    tampered = [(k, "other.myshopify.com" if k == "shop" else v) for k, v in good]
    assert "does not match" in str(verify_callback(SECRET, tampered, NOW))
    assert "does not match" in str(verify_callback("other secret", good, NOW))
    assert "single hmac" in str(verify_callback(SECRET, [p for p in good if p[0] != "hmac"], NOW))
    assert "repeated" in str(verify_callback(SECRET, [*good, ("code", "again")], NOW))
    upper = [(k, v.upper() if k == "hmac" else v) for k, v in good]
    assert verify_callback(SECRET, upper, NOW) is None


def test_an_old_or_future_redirect_is_refused() -> None:
    old = _params(timestamp=str(int((NOW - CALLBACK_MAX_AGE - timedelta(seconds=1)).timestamp())))
    assert "too old" in str(verify_callback(SECRET, old, NOW))
    future = _params(timestamp=str(int((NOW + timedelta(minutes=5)).timestamp())))
    assert "too old" in str(verify_callback(SECRET, future, NOW))
    assert "malformed" in str(verify_callback(SECRET, _params(timestamp="soon"), NOW))


def test_the_authorize_url_asks_for_an_offline_token() -> None:
    url = authorize_url("https://shop.myshopify.com/admin", "cid", ["read_orders", "write_orders"],
                        "https://ob.example.com/oauth/shopify/callback", "st")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://shop.myshopify.com/admin/oauth/authorize"
    assert dict(parse_qsl(parts.query, keep_blank_values=True)) == {
        "client_id": "cid", "scope": "read_orders,write_orders", "state": "st", "grant_options[]": "",
        "redirect_uri": "https://ob.example.com/oauth/shopify/callback"}
