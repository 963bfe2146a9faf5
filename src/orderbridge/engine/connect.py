"""Connecting shops: TikTok OAuth, the Shopify token, webhooks, policy.

A connection pairs one TikTok shop with one Shopify store (docs/lifecycle.md). The two
sides may be connected in either order; until both are present the connection is
``paused`` (nothing is sent) and the missing side has a placeholder (TikTok shop id
``pending:<name>``, Shopify domain empty). ``connect`` checks what it can up front:

- the Shopify token's scopes (``REQUIRED_SCOPE_GROUPS``): refused with MISSING_SCOPES and
  the list of what is missing;
- that the TikTok shop ships its own orders: the recent orders are looked at, and a shop
  whose recent orders are *all* TikTok-shipped is refused. A shop with no orders yet
  cannot be checked up front (TikTok exposes no "default shipping type" setting); such
  orders are then skipped per policy with a TIKTOK_SHIPPED explanation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from orderbridge.adapters.db import (
    AlreadyExists,
    ConnectionStatus,
    connections,
    events,
    transaction,
)
from orderbridge.adapters.db.connections import ConnectionFields, ConnectionRow
from orderbridge.adapters.db.types import EventKind
from orderbridge.adapters.shopify import ShopifyClient, UserErrors
from orderbridge.adapters.shopify.oauth import OAuthGrant, valid_shop_domain
from orderbridge.adapters.tiktok import (
    MemoryTokenStore,
    Runtime,
    Shop,
    TikTokAuth,
    TikTokClient,
    TokenSet,
    WebhookEventType,
)
from orderbridge.clock import from_unix, to_unix
from orderbridge.engine.policy_store import set_policy, show_policy
from orderbridge.engine.ports import Process
from orderbridge.engine.shopify_tokens import save_grant_fields
from orderbridge.errors import ConfigurationError, RemoteError

__all__ = [
    "REQUIRED_SCOPE_GROUPS",
    "SHOPIFY_WEBHOOK_TOPICS",
    "TIKTOK_WEBHOOK_EVENTS",
    "MissingScopes",
    "WebhookReport",
    "connect_sandbox",
    "connect_shopify",
    "connect_tiktok_with_code",
    "connect_tiktok_with_tokens",
    "find_connection",
    "missing_scopes",
    "register_webhooks",
    "sandbox_settings",
    "save_connection",
    "set_policy",
    "show_policy",
]

# Each group is satisfied by any one of its scopes (what we need it for, in the key).
REQUIRED_SCOPE_GROUPS: Final[Mapping[str, tuple[str, ...]]] = {
    "orders (create, update, cancel)": ("write_orders",),
    "orders (read)": ("read_orders", "write_orders"),
    "fulfilment-order holds": (
        "write_merchant_managed_fulfillment_orders", "write_third_party_fulfillment_orders",
    ),
    "order edits (swap custom lines for variants)": ("write_order_edits",),
    "all orders (de-duplication beyond 60 days)": ("read_all_orders",),
}
TIKTOK_WEBHOOK_EVENTS: Final = (
    WebhookEventType.ORDER_STATUS_CHANGE, WebhookEventType.RECIPIENT_ADDRESS_UPDATE,
    WebhookEventType.PACKAGE_UPDATE, WebhookEventType.SELLER_DEAUTHORIZATION,
    WebhookEventType.UPCOMING_AUTHORIZATION_EXPIRATION,
    WebhookEventType.CANCELLATION_STATUS_CHANGE, WebhookEventType.RETURN_STATUS_CHANGE,
)
SHOPIFY_WEBHOOK_TOPICS: Final = (
    "ORDERS_UPDATED", "ORDERS_CANCELLED", "FULFILLMENTS_CREATE", "FULFILLMENTS_UPDATE",
    "REFUNDS_CREATE", "APP_UNINSTALLED",
    # A fulfilment order Shopify makes after our hold (split, moved, merged) has no hold:
    # these make the order due at once instead of at the periodic re-check.
    "FULFILLMENT_ORDERS_SPLIT", "FULFILLMENT_ORDERS_MOVED", "FULFILLMENT_ORDERS_MERGED",
    # Sent when a fulfilment order's last hold goes (ours released by hand, say): the order
    # is looked at within seconds, not at the periodic re-check. Its payload names only
    # the fulfilment order, which the link's memory knows. Needs a read (or write)
    # *_fulfillment_orders scope, which the hold needs anyway.
    "FULFILLMENT_ORDERS_HOLD_RELEASED",
    # A stock change of a linked SKU: pushed to TikTok (engine/stock_push.py; read_inventory).
    "INVENTORY_LEVELS_UPDATE",
)
PENDING_SHOP_PREFIX: Final = "pending:"
# Recent orders looked at to check the shop ships its own orders.
SHIPPING_CHECK_ORDERS: Final = 20
TIKTOK_SHIPPING: Final = "TIKTOK"


class MissingScopes(ConfigurationError):
    """The Shopify token lacks scopes OrderBridge needs (exception code MISSING_SCOPES)."""

    code = "MISSING_SCOPES"

    def __init__(self, missing: Mapping[str, tuple[str, ...]]) -> None:
        self.missing = dict(missing)
        needs = "; ".join(f"{what}: {' or '.join(scopes)}" for what, scopes in self.missing.items())
        super().__init__(f"MISSING_SCOPES: the Shopify token lacks {needs}. Grant them to the app and "
                         "reinstall it, then connect again.")


def missing_scopes(granted: tuple[str, ...] | list[str]) -> dict[str, tuple[str, ...]]:
    """The required scope groups none of whose scopes is in ``granted``."""
    have = set(granted)
    return {what: options for what, options in REQUIRED_SCOPE_GROUPS.items() if not have & set(options)}


@dataclass(frozen=True, slots=True)
class WebhookReport:
    """What ``register_webhooks`` subscribed."""

    tiktok_address: str
    tiktok_events: tuple[str, ...]
    shopify_address: str
    shopify_topics: tuple[str, ...]  # created now
    shopify_existing: tuple[str, ...]  # already subscribed to our address


def find_connection(services: Process, name_or_id: str) -> ConnectionRow:
    """The connection with this name (or numeric id); ``ConfigurationError`` if none."""
    with transaction(services.db, write=False) as conn:
        row = connections.find_connection(conn, services.cipher, name=name_or_id)
        if row is None and name_or_id.isdigit():
            row = connections.get_connection(conn, services.cipher, int(name_or_id))
    if row is None:
        raise ConfigurationError(f"no connection named {name_or_id!r}: see `orderbridge connections`")
    return row


def _complete(row: ConnectionRow) -> bool:
    return bool(row.tiktok_access_token and row.shopify_token
                and not row.tiktok_shop_id.startswith(PENDING_SHOP_PREFIX))


def save_connection(services: Process, name: str, *, tiktok_shop_id: str | None = None,
          shopify_domain: str | None = None, fields: ConnectionFields, summary: str) -> ConnectionRow:
    """Create or update the connection ``name`` with ``fields``; set its status."""
    now = services.clock.now()
    with transaction(services.db) as conn:
        row = connections.find_connection(conn, services.cipher, name=name)
        if tiktok_shop_id is not None:
            other = connections.find_connection(conn, services.cipher, tiktok_shop_id=tiktok_shop_id)
            if other is not None and (row is None or other.id != row.id):
                raise ConfigurationError(
                    f"TikTok shop {tiktok_shop_id} is already connected as {other.name!r}")
        if row is None:
            try:
                row = connections.create_connection(
                    conn, services.cipher, name=name, now=now, status=ConnectionStatus.PAUSED,
                    tiktok_shop_id=tiktok_shop_id or PENDING_SHOP_PREFIX + name,
                    shopify_domain=shopify_domain or "",
                )
            except AlreadyExists as exc:
                raise ConfigurationError(str(exc)) from None
        if tiktok_shop_id is not None and row.tiktok_shop_id != tiktok_shop_id:
            # The repository does not change shop ids (a deliberate rename is rare): ours.
            connections.set_tiktok_shop_id(conn, row.id, tiktok_shop_id, now=now)
        changes: ConnectionFields = {**fields}
        if shopify_domain is not None:
            changes["shopify_domain"] = shopify_domain
        updated = connections.update_connection(conn, services.cipher, row.id, now=now, **changes)
        assert updated is not None
        status = ConnectionStatus.ACTIVE if _complete(updated) else ConnectionStatus.PAUSED
        if updated.status != status:
            updated = connections.update_connection(conn, services.cipher, row.id, now=now, status=status)
            assert updated is not None
        events.append(conn, None, EventKind.EVENT, summary, at=now, connection_id=row.id)
    return updated


# --- TikTok ---------------------------------------------------------------------------


def _app_credentials(services: Process) -> tuple[str, str]:
    s = services.settings
    if not s.tiktok_app_key or not s.tiktok_app_secret:
        raise ConfigurationError(
            "ORDERBRIDGE_TIKTOK_APP_KEY and ORDERBRIDGE_TIKTOK_APP_SECRET are required to connect TikTok")
    return s.tiktok_app_key, s.tiktok_app_secret


def _runtime(services: Process) -> Runtime:
    return Runtime.on(services.clock)


def _tiktok_client(services: Process, tokens: TokenSet, shop: Shop | None = None) -> TikTokClient:
    key, secret = _app_credentials(services)
    return TikTokClient(
        services.http, app_key=key, app_secret=secret, token_store=MemoryTokenStore(tokens),
        api_base=services.settings.tiktok_api_base, auth_base=services.settings.tiktok_auth_base,
        shop_cipher=shop.cipher if shop else None, shop_id=shop.id if shop else None,
        runtime=_runtime(services),
    )


def _pick_shop(shops: list[Shop], shop_id: str | None) -> Shop:
    if shop_id is not None:
        for shop in shops:
            if shop.id == shop_id:
                return shop
        raise ConfigurationError(f"TikTok shop {shop_id} is not among the authorised shops "
                                 f"({', '.join(s.id for s in shops) or 'none'})")
    if len(shops) == 1:
        return shops[0]
    if not shops:
        raise ConfigurationError("the authorisation covers no TikTok shop")
    listed = ", ".join(f"{s.id} ({s.name})" for s in shops)
    raise ConfigurationError(f"the authorisation covers several shops: {listed}; choose one with --shop-id")


async def _check_seller_shipping(client: TikTokClient, shop: Shop) -> None:
    """Refuse a shop whose recent orders are all TikTok-shipped (see module docstring)."""
    try:
        page = await client.search_orders(page_size=SHIPPING_CHECK_ORDERS)
    except RemoteError:
        return  # cannot check now; the engine classifies every order anyway
    kinds = {o.shipping_type for o in page.orders if o.shipping_type}
    if kinds and kinds <= {TIKTOK_SHIPPING}:
        raise ConfigurationError(
            f"TikTok shop {shop.name or shop.id} ships its orders with TikTok Shipping: OrderBridge "
            "mirrors seller-shipped orders. Set the shop's default to seller shipping in Seller Center, "
            "then connect again.")


async def connect_tiktok_with_tokens(
    services: Process, name: str, tokens: TokenSet, *, shop_id: str | None = None
) -> ConnectionRow:
    """Store TikTok tokens for connection ``name`` (Get Authorized Shops picks the shop)."""
    client = _tiktok_client(services, tokens)
    shop = _pick_shop(await client.get_authorized_shops(), shop_id)
    await _check_seller_shipping(_tiktok_client(services, tokens, shop), shop)
    key, _secret = _app_credentials(services)
    return save_connection(
        services, name, tiktok_shop_id=shop.id,
        fields={
            "tiktok_shop_cipher": shop.cipher, "tiktok_shop_name": shop.name, "tiktok_app_key": key,
            "tiktok_access_token": tokens.access_token,
            "tiktok_access_token_expires_at": tokens.access_expires_at,
            "tiktok_refresh_token": tokens.refresh_token,
            "tiktok_refresh_token_expires_at": tokens.refresh_expires_at,
        },
        summary=f"TikTok shop {shop.name or shop.id} connected",
    )


async def connect_tiktok_with_code(
    services: Process, name: str, auth_code: str, *, shop_id: str | None = None
) -> ConnectionRow:
    """Exchange an authorization code (single use, 30 min) and store the shop's tokens."""
    key, secret = _app_credentials(services)
    auth = TikTokAuth(services.http, app_key=key, app_secret=secret,
                      auth_base=services.settings.tiktok_auth_base, runtime=_runtime(services))
    grant = await auth.get_token(auth_code)
    tokens = grant.to_token_set(float(to_unix(services.clock.now())))
    return await connect_tiktok_with_tokens(services, name, tokens, shop_id=shop_id)


# --- Shopify --------------------------------------------------------------------------


def _shopify_client(services: Process, domain: str, token: str) -> ShopifyClient:
    s = services.settings
    return ShopifyClient(shop_domain=domain, access_token=token, http=services.http,
                         api_version=s.shopify_api_version, endpoint_template=s.shopify_endpoint_template,
                         registry=services.throttle, clock=services.clock)


async def connect_shopify(
    services: Process, name: str, domain: str, token: str, location_id: str | None = None,
    *, grant: OAuthGrant | None = None,
) -> ConnectionRow:
    """Check the token's scopes and store the store for connection ``name``.

    Refuses a domain that is not ``*.myshopify.com``, and (``MissingScopes``) a token
    lacking a required scope group; picks the first active location when ``location_id``
    is not given. ``grant``: the OAuth install's token, stored with its expiry and refresh
    token (a pasted ``token`` has neither).
    """
    checked = valid_shop_domain(domain.strip())
    if checked is None:
        raise ConfigurationError(f"{domain[:100]!r} is not a store's myshopify.com domain "
                                 "(like example.myshopify.com)")
    domain = checked
    client = _shopify_client(services, domain, token)
    info = await client.shop_info()
    missing = missing_scopes(info.access_scopes)
    if missing:
        raise MissingScopes(missing)
    locations = await client.locations()
    if location_id is None:
        active = [loc for loc in locations if loc.is_active is not False]
        if not active:
            raise ConfigurationError(f"Shopify store {domain} has no active location")
        location_id = active[0].id
    elif location_id not in {loc.id for loc in locations}:
        known = ", ".join(f"{loc.id} ({loc.name})" for loc in locations)
        raise ConfigurationError(f"location {location_id} is not in {domain}: {known}")
    return save_connection(
        services, name, shopify_domain=domain,
        fields={**save_grant_fields(grant or OAuthGrant(token, ())), "shopify_scopes": list(info.access_scopes),
                "shopify_location_id": location_id},
        summary=f"Shopify store {domain} connected (location {location_id})",
    )


# --- webhooks -------------------------------------------------------------------------


async def register_webhooks(services: Process, connection: ConnectionRow) -> WebhookReport:
    """Subscribe the connection's shops to our webhook URLs (idempotent).

    TikTok: ``PUT /event/202309/webhooks`` per event (the real service wants HTTPS, a
    domain name and no port in the address). Shopify: ``webhookSubscriptionCreate`` per
    topic, skipping topics already subscribed to our address.
    """
    base = services.settings.base_url.rstrip("/")
    tiktok_address, shopify_address = f"{base}/webhooks/tiktok", f"{base}/webhooks/shopify"
    tiktok = services.tiktok_client(connection)
    for event in TIKTOK_WEBHOOK_EVENTS:
        await tiktok.update_webhook(event, tiktok_address)
    shopify = services.shopify_client(connection)
    existing = {s.topic for s in await shopify.list_webhook_subscriptions() if s.uri == shopify_address}
    created: list[str] = []
    for topic in SHOPIFY_WEBHOOK_TOPICS:
        if topic in existing:
            continue
        try:
            await shopify.create_webhook_subscription(topic, shopify_address)
            created.append(topic)
        except UserErrors as exc:
            if not (exc.already_done or "taken" in str(exc).lower()):
                raise
    report = WebhookReport(tiktok_address, tuple(e.name for e in TIKTOK_WEBHOOK_EVENTS),
                           shopify_address, tuple(created), tuple(sorted(existing)))
    with transaction(services.db) as conn:
        events.append(conn, None, EventKind.EVENT, "webhooks registered",
                      {"tiktok": tiktok_address, "shopify": shopify_address, "created": created},
                      at=services.clock.now(), connection_id=connection.id)
    return report


# --- the sandbox ----------------------------------------------------------------------


def _check_sandbox_settings(services: Process, info: Mapping[str, Any]) -> None:
    s, tt, sh = services.settings, info["tiktok"], info["shopify"]
    expected = {
        "tiktok_api_base": tt["api_base"], "tiktok_auth_base": tt["auth_base"],
        "tiktok_app_key": tt["app_key"], "tiktok_app_secret": tt["app_secret"],
        "shopify_endpoint_template": sh["graphql_url_template"],
        "shopify_api_version": sh["api_version"], "shopify_client_secret": sh["client_secret"],
        "shopify_client_id": sh["api_key"], "shopify_admin_url_template": sh["admin_url_template"],
    }
    wrong = [k for k, v in expected.items() if getattr(s, k) != v]
    if wrong:
        raise ConfigurationError(
            "settings do not point at this sandbox: " + ", ".join(f"ORDERBRIDGE_{k.upper()}" for k in wrong)
            + " (see sandbox_settings(info) / `orderbridge connect sandbox --write-config`)")


def sandbox_settings(info: Mapping[str, Any]) -> dict[str, str]:
    """The settings that point OrderBridge at the sandboxes of ``info``."""
    tt, sh = info["tiktok"], info["shopify"]
    return {
        "tiktok_api_base": tt["api_base"], "tiktok_auth_base": tt["auth_base"],
        "tiktok_authorize_url": str(tt["authorize_url"]).split("?")[0],
        "tiktok_app_key": tt["app_key"], "tiktok_app_secret": tt["app_secret"],
        "tiktok_service_id": tt["service_id"],
        "shopify_endpoint_template": sh["graphql_url_template"],
        "shopify_api_version": sh["api_version"], "shopify_client_secret": sh["client_secret"],
        "shopify_client_id": sh["api_key"], "shopify_admin_url_template": sh["admin_url_template"],
        **_threepl_settings(info),
    }


def _threepl_settings(info: Mapping[str, Any]) -> dict[str, str]:
    """The 3PL sandboxes' accounts (when the info file has them)."""
    out: dict[str, str] = {}
    mcf, sb = info.get("amazon_mcf"), info.get("shipbob")
    if mcf:
        out.update(amazon_mcf_endpoint=mcf["endpoint"], amazon_mcf_lwa_token_url=mcf["lwa_token_url"],
                   amazon_mcf_client_id=mcf["client_id"], amazon_mcf_client_secret=mcf["client_secret"],
                   amazon_mcf_refresh_token=mcf["refresh_token"])
    if sb:
        out.update(shipbob_api_base=sb["api_base"], shipbob_token=sb["personal_access_token"])
    return out


async def connect_sandbox(
    services: Process, info: Mapping[str, Any], name: str = "sandbox", shop_index: int = 0
) -> ConnectionRow:
    """Connect sandbox shop ``shop_index`` on both sides and register the webhooks.

    Uses the shop's ready tokens when the info has them (an auth code is single use),
    else its auth code. ``services.settings`` must point at the sandbox (``sandbox_settings``).
    """
    _check_sandbox_settings(services, info)
    tt_shop = info["tiktok"]["shops"][shop_index]
    if tt_shop.get("access_token") and tt_shop.get("refresh_token"):
        tokens = TokenSet(
            access_token=tt_shop["access_token"],
            access_expires_at=from_unix(tt_shop["access_token_expire_in"]),
            refresh_token=tt_shop["refresh_token"],
            refresh_expires_at=from_unix(tt_shop["refresh_token_expire_in"]),
        )
        await connect_tiktok_with_tokens(services, name, tokens, shop_id=tt_shop["shop_id"])
    else:
        await connect_tiktok_with_code(services, name, tt_shop["auth_code"], shop_id=tt_shop["shop_id"])
    sh_shop = info["shopify"]["shops"][shop_index]
    locations = sh_shop.get("location_ids") or [None]
    row = await connect_shopify(services, name, sh_shop["domain"], sh_shop["access_token"], locations[0])
    await register_webhooks(services, row)
    return row
