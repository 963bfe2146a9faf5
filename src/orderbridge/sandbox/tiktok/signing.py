"""Request signing and webhook signatures, written from the official recipe.

Request ``sign``: every query parameter except ``sign`` and ``access_token``, sorted by
key, concatenated as ``{key}{value}``, prefixed with the path, suffixed with the raw body
unless the request is multipart, wrapped as ``secret + s + secret``, then
``hex(HMAC-SHA256(secret, s))``.

Webhook ``Authorization``: ``hex(HMAC-SHA256(app_secret, app_key + raw_body))``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

__all__ = ["EXCLUDED_PARAMS", "request_sign", "string_to_sign", "webhook_signature"]

EXCLUDED_PARAMS = frozenset({"sign", "access_token"})


def string_to_sign(
    secret: str, path: str, params: Mapping[str, str], body: bytes = b"", multipart: bool = False
) -> bytes:
    """The wrapped string that is HMAC'd (exposed for debugging and tests)."""
    parts = "".join(f"{k}{params[k]}" for k in sorted(params) if k not in EXCLUDED_PARAMS)
    payload = (path + parts).encode()
    if not multipart:
        payload += body
    return secret.encode() + payload + secret.encode()


def request_sign(
    secret: str, path: str, params: Mapping[str, str], body: bytes = b"", multipart: bool = False
) -> str:
    """The ``sign`` query parameter for a request."""
    message = string_to_sign(secret, path, params, body, multipart)
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def webhook_signature(app_key: str, app_secret: str, body: bytes) -> str:
    """The ``Authorization`` header value of a webhook delivery."""
    return hmac.new(app_secret.encode(), app_key.encode() + body, hashlib.sha256).hexdigest()
