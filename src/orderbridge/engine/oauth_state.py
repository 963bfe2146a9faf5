"""The ``state`` of an authorize link (TikTok, Shopify): signed, expiring, single use.

``make_state(secret, name, now)`` is printed in the TikTok authorize link by ``orderbridge
connect tiktok``, and put in the Shopify one by ``GET /oauth/shopify/install`` (bound to the
store with ``shop=``); the OAuth callback checks it with ``read_state`` (signature, expiry,
store) and then records it in the inbox (source ``oauth``), so a replayed redirect is
refused. Signed rather than stored, so the CLI and the web app need share nothing but
``ORDERBRIDGE_SECRET_KEY``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import datetime, timedelta
from typing import Final

from orderbridge.clock import from_unix, to_unix
from orderbridge.errors import ConfigurationError

__all__ = ["STATE_LIFETIME", "InvalidState", "make_state", "read_state"]

# TikTok's code lives 30 min; the seller may take a while to find the link first.
STATE_LIFETIME: Final = timedelta(hours=24)
_CONTEXT: Final = b"orderbridge-oauth-state:"


class InvalidState(ValueError):
    """The ``state`` of a redirect is forged, expired or malformed."""


def _key(secret: str | None) -> bytes:
    if not secret:
        raise ConfigurationError("ORDERBRIDGE_SECRET_KEY is required (it signs the OAuth state)")
    return _CONTEXT + secret.encode("utf-8")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_state(secret: str | None, name: str, now: datetime, *, shop: str | None = None) -> str:
    """A state naming the connection ``name`` (and the store ``shop``), valid for ``STATE_LIFETIME``."""
    payload: dict[str, object] = {"n": name, "e": to_unix(now + STATE_LIFETIME), "r": secrets.token_urlsafe(12)}
    if shop is not None:
        payload["s"] = shop
    body = _b64(json.dumps(payload, separators=(",", ":")).encode("utf-8"))
    sig = _b64(hmac.new(_key(secret), body.encode("ascii"), hashlib.sha256).digest())
    return f"{body}.{sig}"


def read_state(secret: str | None, state: str, now: datetime, *, shop: str | None = None) -> str:
    """The connection name in a valid ``state`` (made for ``shop``); ``InvalidState`` otherwise."""
    body, _, sig = state.partition(".")
    if not body or not sig:
        raise InvalidState("malformed state")
    expected = _b64(hmac.new(_key(secret), body.encode("ascii", "replace"), hashlib.sha256).digest())
    if not hmac.compare_digest(expected.encode("ascii"), sig.encode("ascii", "replace")):
        raise InvalidState("state signature does not match (not made by this deployment)")
    try:
        payload = json.loads(_unb64(body))
        name, expires, bound = str(payload["n"]), int(payload["e"]), payload.get("s")
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidState("malformed state") from exc
    if from_unix(expires) < now:
        raise InvalidState("the authorize link has expired: run `orderbridge connect` again for a new one")
    if bound != shop:
        raise InvalidState("the state was made for another store")
    return name
