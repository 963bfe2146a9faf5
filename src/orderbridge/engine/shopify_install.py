"""Installing the app on a Shopify store with OAuth (the authorization code grant).

1. ``expect_install(name, domain)`` (``orderbridge connect shopify --name N --domain D``
   without ``--token``): the operator names the store that may install; the connection
   ``N`` records the domain (paused until its token arrives). Only such stores may install:
   the install route is public, and a stranger's store must not create connections.
2. ``install_redirect(shop)`` (``GET /oauth/shopify/install?shop=…``): the store's authorize
   URL, with a ``state`` signed with ``ORDERBRIDGE_SECRET_KEY``, bound to the store,
   expiring, and accepted once (``engine/oauth_state.py``, as TikTok's).
3. ``check_callback(params)`` (``GET /oauth/shopify/callback``): Shopify's ``hmac`` (constant
   time), a recent ``timestamp``, the shop's domain format, the ``state`` (signature, expiry,
   store) and that the connection still expects this store. The web layer then records the
   state as used, and ``complete_install`` exchanges the code (real HTTP), refuses a grant
   lacking a required scope, and stores the connection's Shopify side through
   ``connect_shopify`` (scopes read back from Shopify, a location chosen, tokens encrypted,
   the expiring token's refresh token and expiries kept for ``engine/shopify_tokens.py``).

Every refusal is an ``InstallRefused`` with a message for the merchant and an HTTP status.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from orderbridge.adapters.db import connections, transaction
from orderbridge.adapters.db.connections import ConnectionRow
from orderbridge.adapters.shopify.oauth import authorize_url, valid_shop_domain, verify_callback
from orderbridge.engine.connect import (
    MissingScopes,
    connect_shopify,
    missing_scopes,
    save_connection,
)
from orderbridge.engine.oauth_state import InvalidState, make_state, read_state
from orderbridge.engine.ports import Process
from orderbridge.errors import ConfigurationError, OrderBridgeError, RetryableError

__all__ = [
    "CALLBACK_PATH",
    "INSTALL_PATH",
    "Callback",
    "InstallRefused",
    "check_callback",
    "complete_install",
    "expect_install",
    "install_redirect",
    "install_url",
]

INSTALL_PATH: Final = "/oauth/shopify/install"
CALLBACK_PATH: Final = "/oauth/shopify/callback"
MAX_PARAM_LENGTH: Final = 2048


class InstallRefused(OrderBridgeError):
    """An install step refused, with what to tell the merchant and the HTTP status to answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class Callback:
    """A redirect from Shopify that passed every check but the state's single use."""

    name: str
    shop: str
    code: str
    state: str


def _base(services: Process) -> str:
    return services.settings.base_url.rstrip("/")


def install_url(services: Process, domain: str) -> str:
    """What the merchant opens to install the app on ``domain``."""
    return f"{_base(services)}{INSTALL_PATH}?shop={domain}"


def _shop(value: str | None) -> str:
    shop = valid_shop_domain((value or "").strip())
    if shop is None:
        raise InstallRefused(f"{(value or '')[:100]!r} is not a store's myshopify.com domain "
                             "(like example.myshopify.com)")
    return shop


def expect_install(services: Process, name: str, domain: str) -> ConnectionRow:
    """Let the store ``domain`` install the app as connection ``name`` (see the module docstring)."""
    try:
        shop = _shop(domain)
    except InstallRefused as exc:
        raise ConfigurationError(str(exc)) from None
    with transaction(services.db, write=False) as conn:
        row = connections.find_connection(conn, services.cipher, name=name)
        other = connections.find_connection(conn, services.cipher, shopify_domain=shop)
    if other is not None and other.name != name:
        raise ConfigurationError(f"Shopify store {shop} is already connection {other.name!r}")
    if row is not None and row.shopify_token and row.shopify_domain not in ("", shop):
        raise ConfigurationError(f"connection {name!r} is connected to {row.shopify_domain}: "
                                 "use another connection name for another store")
    return save_connection(services, name, shopify_domain=shop, fields={},
                           summary=f"Shopify store {shop} may install the app")


def _expected(services: Process, shop: str) -> ConnectionRow:
    with transaction(services.db, write=False) as conn:
        row = connections.find_connection(conn, services.cipher, shopify_domain=shop)
    if row is None:
        raise InstallRefused(f"{shop} is not expected here: the operator must first run "
                             f"`orderbridge connect shopify --name NAME --domain {shop}`", 403)
    return row


def _app(services: Process) -> tuple[str, str]:
    s = services.settings
    if not s.shopify_client_id or not s.shopify_client_secret:
        raise InstallRefused("this OrderBridge has no Shopify app configured "
                             "(ORDERBRIDGE_SHOPIFY_CLIENT_ID and ORDERBRIDGE_SHOPIFY_CLIENT_SECRET)", 503)
    return s.shopify_client_id, s.shopify_client_secret


def install_redirect(services: Process, shop_param: str | None) -> str:
    """The authorize URL to send the merchant of ``shop_param`` to."""
    client_id, _secret = _app(services)
    shop = _shop(shop_param)
    row = _expected(services, shop)
    s = services.settings
    state = make_state(s.secret_key, row.name, services.clock.now(), shop=shop)
    return authorize_url(s.shopify_admin_url_template.format(shop=shop), client_id, s.shopify_scope_list,
                         _base(services) + CALLBACK_PATH, state)


def check_callback(services: Process, params: Sequence[tuple[str, str]]) -> Callback:
    """Everything about a redirect from Shopify but the state's single use (see the module docstring)."""
    _client_id, secret = _app(services)
    if any(len(v) > MAX_PARAM_LENGTH for _, v in params):
        raise InstallRefused("a parameter of the redirect is too long")
    values = dict(params)
    if "error" in values:
        raise InstallRefused(f"Shopify did not authorise the app: {values['error'][:200]}")
    missing = [k for k in ("code", "hmac", "shop", "state", "timestamp") if not values.get(k)]
    if missing:
        raise InstallRefused(f"the redirect lacks {', '.join(missing)}")
    problem = verify_callback(secret, params, services.clock.now())
    if problem is not None:
        raise InstallRefused(problem, 401 if "hmac" in problem else 400)
    shop = _shop(values["shop"])
    try:
        name = read_state(services.settings.secret_key, values["state"], services.clock.now(), shop=shop)
    except InvalidState as exc:
        raise InstallRefused(f"invalid state: {exc}") from None
    row = _expected(services, shop)
    if row.name != name:
        raise InstallRefused(f"{shop} is now expected as connection {row.name!r}, not {name!r}: install again")
    return Callback(name=name, shop=shop, code=values["code"], state=values["state"])


async def complete_install(services: Process, callback: Callback) -> ConnectionRow:
    """Exchange the code, check the granted scopes, store the connection's Shopify side."""
    try:
        grant = await services.shopify_oauth().exchange_code(callback.shop, callback.code, services.clock.now())
    except RetryableError as exc:
        raise InstallRefused(f"Shopify could not be reached to finish the install ({exc}): try again", 502) from None
    except OrderBridgeError as exc:
        raise InstallRefused(f"Shopify refused the authorization code: {exc}") from None
    missing = missing_scopes(grant.scopes)
    if missing:
        raise InstallRefused(str(MissingScopes(missing)) + ": add them to ORDERBRIDGE_SHOPIFY_SCOPES "
                             "and install again", 403)
    try:
        return await connect_shopify(services, callback.name, callback.shop, grant.access_token, grant=grant)
    except RetryableError as exc:
        raise InstallRefused(f"Shopify could not be reached to finish the install ({exc}): try again", 502) from None
    except OrderBridgeError as exc:
        raise InstallRefused(f"the store could not be connected: {exc}") from None
