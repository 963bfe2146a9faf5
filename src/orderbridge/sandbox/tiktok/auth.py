"""Request authentication (app key, timestamp, sign, token, shop cipher) and OAuth tokens.

Checks run in this order and answer with the documented codes: app_key missing/unknown
36009004; timestamp missing or outside [now - 5 min, now + 30 s] of the sandbox clock
36009004; sign missing 36009004 (the doc lists "missing signature" under the catch-all),
wrong 106001; access token missing, unknown or revoked 36009004, expired 105002;
shop_cipher missing 106013, sent to /authorization/* 36009004 "Unexpected identifier",
unknown or not authorized for the token 101000.
"""

from __future__ import annotations

import hmac
import random
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from orderbridge.clock import Clock, to_unix
from orderbridge.sandbox.tiktok.constants import (
    ACCESS_TOKEN_LIFETIME,
    AUTH_CODE_LIFETIME,
    REFRESH_TOKEN_LIFETIME,
    TIMESTAMP_FUTURE_TOLERANCE,
    TIMESTAMP_PAST_TOLERANCE,
    ErrorCode,
)
from orderbridge.sandbox.tiktok.errors import auth_error, bad_request
from orderbridge.sandbox.tiktok.signing import request_sign
from orderbridge.sandbox.tiktok.state import App, AuthCode, Shop, Token, World

__all__ = ["Auth", "AuthKind", "Caller"]

GRANTED_SCOPES = (
    "seller.order.info", "seller.fulfillment.basic", "seller.logistics",
    "seller.return_refund.basic", "seller.product.basic", "seller.authorization.info",
    "seller.shop.info",
)
SELLER_USER_TYPE = 0  # doc: 0 seller, 1 creator, 3 partner


class AuthKind(StrEnum):
    """How an endpoint authenticates."""

    SHOP = "shop"  # signed, token, shop_cipher required
    NO_SHOP = "no_shop"  # signed, token, shop_cipher refused (/authorization/*)
    TOKEN = "token"  # unsigned OAuth token endpoints (app_secret in the query)


@dataclass
class Caller:
    app: App
    token: Token | None = None
    shop: Shop | None = None


class Auth:
    """App and seller credentials of the sandbox."""

    def __init__(self, world: World, clock: Clock) -> None:
        self.world = world
        self.clock = clock
        self._rng = random.Random(f"{world.seed}:auth")

    def _secret(self, prefix: str, length: int = 40) -> str:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        return prefix + "".join(self._rng.choice(alphabet) for _ in range(length))

    # --- signed API requests ------------------------------------------------------------
    def verify(self, kind: AuthKind, path: str, params: Mapping[str, str],
               headers: Mapping[str, str], body: bytes) -> Caller:
        """Authenticate one API request or raise the TikTok error."""
        app_key = params.get("app_key", "")
        app = self.world.apps.get(app_key)
        if app is None:
            raise auth_error(ErrorCode.INVALID_REQUEST,
                             "Invalid app_key" if app_key else "app_key is required")
        raw_ts = params.get("timestamp", "")
        if not raw_ts.isdigit():
            raise auth_error(ErrorCode.INVALID_REQUEST, "timestamp is required and must be Unix seconds")
        now = to_unix(self.clock.now())
        stamp = int(raw_ts)
        if not (now - TIMESTAMP_PAST_TOLERANCE.total_seconds() <= stamp
                <= now + TIMESTAMP_FUTURE_TOLERANCE.total_seconds()):
            raise auth_error(ErrorCode.INVALID_REQUEST, "Invalid timestamp: outside the allowed window")
        sign = params.get("sign", "")
        if not sign:
            raise auth_error(ErrorCode.INVALID_REQUEST, "sign is required")
        multipart = headers.get("content-type", "").lower().startswith("multipart/form-data")
        expected = request_sign(app.app_secret, path, params, body, multipart)
        if not hmac.compare_digest(expected, sign.lower()):
            raise auth_error(ErrorCode.BAD_SIGN, "Invalid sign")
        caller = Caller(app)
        access = headers.get("x-tts-access-token", "")
        if not access:
            raise auth_error(ErrorCode.INVALID_REQUEST, "x-tts-access-token is required")
        token = self.world.tokens.get(access)
        if token is None or token.revoked or token.app_key != app.app_key:
            # The gateway's catch-all (common errors): a token it does not know.
            raise auth_error(ErrorCode.INVALID_REQUEST, "Invalid access_token")
        if self.clock.now() >= token.access_expires:
            raise auth_error(ErrorCode.TOKEN_EXPIRED, "Access token is expired, please refresh it")
        caller.token = token
        cipher = params.get("shop_cipher", "")
        if kind is AuthKind.NO_SHOP:
            if cipher:
                raise auth_error(ErrorCode.INVALID_REQUEST, "Unexpected identifier: shop_cipher")
            return caller
        if not cipher:
            raise auth_error(ErrorCode.SHOP_CIPHER_MISSING, "shop_cipher is required")
        shop = self.world.shop_by_cipher(cipher)
        if shop is None or shop.id != token.shop_id:
            raise auth_error(ErrorCode.TOKEN_OR_SHOP_MISMATCH,
                             "The access token is not authorized for this shop")
        caller.shop = shop
        return caller

    # --- OAuth ----------------------------------------------------------------------------
    def mint_code(self, app_key: str, shop_id: str) -> AuthCode:
        """An authorization code as the redirect after consent carries it."""
        code = AuthCode(self._secret("TTP_", 32), app_key, shop_id,
                        self.clock.now() + AUTH_CODE_LIFETIME)
        self.world.auth_codes[code.code] = code
        return code

    def mint_tokens(self, app_key: str, shop_id: str) -> Token:
        now = self.clock.now()
        token = Token(self._secret("ROW_"), self._secret("ROW_"), app_key, shop_id,
                      now + ACCESS_TOKEN_LIFETIME, now + REFRESH_TOKEN_LIFETIME)
        self.world.tokens[token.access_token] = token
        self.world.refresh_tokens[token.refresh_token] = token
        return token

    def _app_from(self, params: Mapping[str, str]) -> App:
        app = self.world.apps.get(params.get("app_key", ""))
        if app is None or not hmac.compare_digest(app.app_secret, params.get("app_secret", "")):
            raise auth_error(ErrorCode.INVALID_REQUEST, "Invalid app_key or app_secret")
        return app

    def token_get(self, params: Mapping[str, str]) -> dict[str, Any]:
        """/api/v2/token/get: exchange a single-use auth code."""
        app = self._app_from(params)
        if params.get("grant_type") != "authorized_code":
            raise bad_request("grant_type must be authorized_code")
        code = self.world.auth_codes.get(params.get("auth_code", ""))
        if code is None or code.app_key != app.app_key:
            raise auth_error(ErrorCode.INVALID_REQUEST, "Invalid auth_code")
        if code.used:
            raise auth_error(ErrorCode.INVALID_REQUEST, "auth_code has already been used")
        if self.clock.now() >= code.expires:
            raise auth_error(ErrorCode.INVALID_REQUEST, "auth_code is expired")
        code.used = True
        return self.token_json(self.mint_tokens(app.app_key, code.shop_id))

    def token_refresh(self, params: Mapping[str, str]) -> dict[str, Any]:
        """/api/v2/token/refresh: new access token, rotated refresh token."""
        app = self._app_from(params)
        if params.get("grant_type") != "refresh_token":
            raise bad_request("grant_type must be refresh_token")
        old = self.world.refresh_tokens.get(params.get("refresh_token", ""))
        if old is None or old.revoked or old.app_key != app.app_key:
            raise auth_error(ErrorCode.INVALID_REQUEST, "Invalid refresh_token")
        if self.clock.now() >= old.refresh_expires:
            raise auth_error(ErrorCode.TOKEN_EXPIRED, "refresh_token is expired, re-authorize")
        # Rotation: the old refresh token dies; the old access token lives until it expires.
        self.world.refresh_tokens.pop(old.refresh_token, None)
        return self.token_json(self.mint_tokens(app.app_key, old.shop_id))

    def token_json(self, token: Token) -> dict[str, Any]:
        shop = self.world.shops[token.shop_id]
        return {
            "access_token": token.access_token,
            "access_token_expire_in": to_unix(token.access_expires),
            "refresh_token": token.refresh_token,
            "refresh_token_expire_in": to_unix(token.refresh_expires),
            "open_id": shop.open_id, "seller_name": shop.name,
            "seller_base_region": shop.region, "user_type": SELLER_USER_TYPE,
            "granted_scopes": list(GRANTED_SCOPES),
        }

    def revoke_shop(self, shop_id: str) -> int:
        """The seller deauthorizes: every token of the shop stops working."""
        count = 0
        for token in self.world.tokens.values():
            if token.shop_id == shop_id and not token.revoked:
                token.revoked = True
                count += 1
        return count
