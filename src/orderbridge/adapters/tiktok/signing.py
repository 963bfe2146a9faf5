"""Request signing for the TikTok Shop Partner API (202309+), from the official recipe.

1. every query parameter except ``sign`` and ``access_token``;
2. keys sorted alphabetically;
3. ``{key}{value}`` concatenated with decoded values and no separators;
4. the request path (no host) prepended;
5. the raw body appended, byte-identical to what is sent, unless the request is
   ``multipart/form-data``;
6. wrapped as ``app_secret + s + app_secret``;
7. ``sign = lowercase hex HMAC-SHA256(key=app_secret, msg=s)``.

Callers must serialise a JSON body once and send exactly those bytes.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

__all__ = ["UNSIGNED_PARAMS", "sign_request", "string_to_sign"]

# Query parameters that never take part in the signature.
UNSIGNED_PARAMS = frozenset({"sign", "access_token"})


def string_to_sign(
    app_secret: str,
    path: str,
    params: Mapping[str, str],
    body: bytes = b"",
    *,
    multipart: bool = False,
) -> bytes:
    """The exact bytes that get HMAC'd (secret-wrapped), for debugging and tests."""
    pairs = "".join(f"{key}{params[key]}" for key in sorted(params) if key not in UNSIGNED_PARAMS)
    secret = app_secret.encode("utf-8")
    middle = (path + pairs).encode("utf-8")
    if not multipart:
        middle += body
    return secret + middle + secret


def sign_request(
    app_secret: str,
    path: str,
    params: Mapping[str, str],
    body: bytes = b"",
    *,
    multipart: bool = False,
) -> str:
    """The ``sign`` query parameter for a request (lowercase hex HMAC-SHA256)."""
    message = string_to_sign(app_secret, path, params, body, multipart=multipart)
    return hmac.new(app_secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
