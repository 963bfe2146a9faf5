"""The ``state`` of the TikTok authorize link: signed, expiring, single use.

``make_state(secret, name, now)`` is printed in the authorize link by ``orderbridge connect
tiktok``; the OAuth callback checks it with ``read_state`` (signature and expiry) and then
records it in the inbox (source ``oauth``), so a replayed redirect is refused. Signed rather
than stored, so the CLI and the web app need share nothing but ``ORDERBRIDGE_SECRET_KEY``.
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


def make_state(secret: str | None, name: str, now: datetime) -> str:
    """A state naming the connection ``name``, valid for ``STATE_LIFETIME``."""
    payload = {"n": name, "e": to_unix(now + STATE_LIFETIME), "r": secrets.token_urlsafe(12)}
    body = _b64(json.dumps(payload, separators=(",", ":")).encode("utf-8"))
    sig = _b64(hmac.new(_key(secret), body.encode("ascii"), hashlib.sha256).digest())
    return f"{body}.{sig}"


def read_state(secret: str | None, state: str, now: datetime) -> str:
    """The connection name in a valid ``state``; ``InvalidState`` otherwise."""
    body, _, sig = state.partition(".")
    if not body or not sig:
        raise InvalidState("malformed state")
    expected = _b64(hmac.new(_key(secret), body.encode("ascii", "replace"), hashlib.sha256).digest())
    if not hmac.compare_digest(expected.encode("ascii"), sig.encode("ascii", "replace")):
        raise InvalidState("state signature does not match (not made by this deployment)")
    try:
        payload = json.loads(_unb64(body))
        name, expires = str(payload["n"]), int(payload["e"])
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidState("malformed state") from exc
    if from_unix(expires) < now:
        raise InvalidState("the authorize link has expired: run `orderbridge connect tiktok` again")
    return name
