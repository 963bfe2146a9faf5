"""The signing recipe, checked against the official example and hand-built strings."""

from __future__ import annotations

import hashlib
import hmac

from orderbridge.adapters.tiktok import sign_request, string_to_sign


def test_official_example_vector() -> None:
    # tiktok-shop.md §1, from Partner Center's "sign your API request".
    params = {"app_key": "29a39d", "timestamp": "1623812664"}
    assert (
        string_to_sign("e59af819cc", "/authorization/202309/shops", params)
        == b"e59af819cc/authorization/202309/shopsapp_key29a39dtimestamp1623812664e59af819cc"
    )
    assert (
        sign_request("e59af819cc", "/authorization/202309/shops", params)
        == "b596b73e0cc6de07ac26f036364178ab16b0a907af13d43f0a0cd2345f582dc8"
    )


def test_sign_and_access_token_are_excluded_and_keys_sorted() -> None:
    params = {
        "timestamp": "1",
        "sign": "ignored",
        "access_token": "ignored",
        "app_key": "k",
        "page_size": "10",
    }
    assert string_to_sign("S", "/p", params) == b"S/papp_keykpage_size10timestamp1S"


def test_body_is_appended_verbatim_unless_multipart() -> None:
    body = b'{"b":1, "a":"\xc3\xa9"}'
    assert string_to_sign("S", "/p", {"x": "1"}, body) == b"S/px1" + body + b"S"
    assert string_to_sign("S", "/p", {"x": "1"}, body, multipart=True) == b"S/px1S"
    expected = hmac.new(b"S", b"S/px1" + body + b"S", hashlib.sha256).hexdigest()
    assert sign_request("S", "/p", {"x": "1"}, body) == expected
    assert expected == expected.lower()


def test_values_are_signed_decoded() -> None:
    # A page token with URL-special characters is signed as-is, not percent-encoded.
    assert string_to_sign("S", "/p", {"page_token": "a+b/c="}) == b"S/ppage_tokena+b/c=S"
