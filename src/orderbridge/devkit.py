"""Working with the sandboxes from code: the control API and clients pointed at them.

Used by the demo, the integration tests and the benchmarks. Everything here goes over
real HTTP, exactly as the engine does against the real services; the only sandbox-specific
facts are the base URLs and credentials from the info document (`orderbridge sandbox
--info-file`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx

from orderbridge.adapters.amazon_mcf import AmazonMcfClient
from orderbridge.adapters.calls import CallRecorder, NullRecorder
from orderbridge.adapters.shipbob import ShipBobClient
from orderbridge.adapters.shopify import ShopifyClient, ThrottleRegistry
from orderbridge.adapters.tiktok import MemoryTokenStore, Runtime, TikTokClient, TokenSet
from orderbridge.clock import Clock, from_unix
from orderbridge.domain.carriers import Carrier
from orderbridge.domain.tracking import validate_tracking

__all__ = [
    "ControlClient",
    "SandboxError",
    "amazon_mcf_client",
    "shipbob_client",
    "shopify_client",
    "tiktok_client",
    "tracking_number",
    "usps_number",
]


class SandboxError(RuntimeError):
    """The control API refused a request."""


class ControlClient:
    """The sandbox control API (see docs/sandbox.md), one method per action."""

    def __init__(self, base_url: str, http: httpx.AsyncClient) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = http

    async def call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        response = await self.http.request(
            method, f"{self.base_url}{path}", json=body,
            params={k: v for k, v in params.items() if v is not None} or None,
        )
        if response.status_code >= 400:
            raise SandboxError(f"{method} {path}: HTTP {response.status_code}: {response.text[:500]}")
        return response.json()

    # clock
    async def clock(self) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("GET", "/clock")
        return result

    async def advance(self, seconds: float) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("POST", "/clock/advance", {"seconds": seconds})
        return result

    async def set_clock(self, *, mode: str | None = None, rate: float | None = None,
                        now: datetime | None = None) -> dict[str, Any]:
        body = {"mode": mode, "rate": rate, "now": now.isoformat() if now else None}
        result: dict[str, Any] = await self.call("POST", "/clock", {k: v for k, v in body.items() if v is not None})
        return result

    # faults
    async def add_fault(self, sandbox: str, match: str = "*", **rates: Any) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("POST", "/faults/endpoints", {"sandbox": sandbox, "match": match, **rates})
        return result

    async def add_stream_fault(self, sandbox: str, match: str = "*", **rates: Any) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("POST", "/faults/streams", {"sandbox": sandbox, "match": match, **rates})
        return result

    async def clear_faults(self) -> None:
        await self.call("DELETE", "/faults")

    # TikTok: buyers, TikTok itself, carriers
    async def place_order(self, **order: Any) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("POST", "/tiktok/orders", order)
        return result

    async def tiktok_action(self, order_id: str, action: str, body: Any = None) -> dict[str, Any]:
        """pay, fail_payment, buyer_cancel, tiktok_cancel, address, collected, delivered, completed, returns."""
        result: dict[str, Any] = await self.call("POST", f"/tiktok/orders/{order_id}/{action}", body or {})
        return result

    async def tiktok_order(self, order_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("GET", f"/tiktok/orders/{order_id}")
        return result

    async def tiktok_packages(self, order_id: str | None = None) -> Any:
        return await self.call("GET", "/tiktok/packages", order_id=order_id)

    async def tiktok_cancellations(self, order_id: str | None = None) -> Any:
        return await self.call("GET", "/tiktok/cancellations", order_id=order_id)

    # Shopify: the merchant
    async def shopify_order(self, order_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("GET", f"/shopify/orders/{order_id}")
        return result

    async def shopify_orders(self, source_identifier: str | None = None, shop: str | None = None) -> Any:
        return await self.call("GET", "/shopify/orders", source_identifier=source_identifier, shop=shop)

    async def fulfil(self, order_id: str, company: str | None, number: str | None,
                     line_items: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        body = {"tracking_company": company, "tracking_number": number, "line_items": line_items}
        result: dict[str, Any] = await self.call("POST", f"/shopify/orders/{order_id}/fulfill", body)
        return result

    async def release_by_hand(self, fulfillment_order_id: str, hold_ids: list[str] | None = None) -> Any:
        return await self.call("POST", f"/shopify/fulfillment-orders/{fulfillment_order_id}/release",
                               {"hold_ids": hold_ids})

    async def split_fulfillment_order(self, fulfillment_order_id: str,
                                      line_items: list[dict[str, Any]]) -> dict[str, Any]:
        """Split units (``{"line_item_id": <fo line item>, "quantity": n}``) into a new fulfilment order."""
        result: dict[str, Any] = await self.call(
            "POST", f"/shopify/fulfillment-orders/{fulfillment_order_id}/split", {"line_items": line_items})
        return result

    async def move_fulfillment_order(self, fulfillment_order_id: str, location_id: str,
                                     line_items: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """Move a fulfilment order (or some of its units) to another location of its shop."""
        result: dict[str, Any] = await self.call(
            "POST", f"/shopify/fulfillment-orders/{fulfillment_order_id}/move",
            {"location_id": location_id, "line_items": line_items})
        return result

    async def add_shopify_location(self, shop: str, name: str = "Second Warehouse") -> str:
        result: dict[str, Any] = await self.call("POST", f"/shopify/shops/{shop}/locations", {"name": name})
        return str(result["location_id"])

    async def merchant_cancel(self, order_id: str, reason: str = "OTHER", restock: bool = True) -> Any:
        return await self.call("POST", f"/shopify/orders/{order_id}/cancel", {"reason": reason, "restock": restock})

    async def shopify_timing(self, **timing: float) -> Any:
        return await self.call("PUT", "/shopify/timing", timing)

    async def shopify_shop_settings(self, shop: str, **settings: Any) -> Any:
        return await self.call("PUT", f"/shopify/shops/{shop}/settings", settings)

    async def shopify_shop_taxes(self, shop: str, rates: dict[str, str], shipping_taxed: bool = False) -> Any:
        """The store's own sales tax by destination state (what Shopify's recalculation charges)."""
        return await self.call("PUT", f"/shopify/shops/{shop}/taxes",
                               {"rates": rates, "shipping_taxed": shipping_taxed})

    async def mutation_counts(self, shop: str | None = None) -> Any:
        return await self.call("GET", "/shopify/mutation-counts", shop=shop)

    async def hold_releases(self, shop: str | None = None, order_id: str | None = None) -> Any:
        """The Shopify sandbox's own record of every hold released (when, by whom)."""
        return await self.call("GET", "/shopify/hold-releases", shop=shop, order_id=order_id)

    async def inventory(self, variant_id: str) -> Any:
        return await self.call("GET", f"/shopify/variants/{variant_id}/inventory")

    async def set_shopify_available(self, variant_id: str, available: int) -> Any:
        """Set a variant's available units at its shop's first location (inventory_levels/update)."""
        return await self.call("PUT", f"/shopify/variants/{variant_id}/inventory", {"available": available})

    async def merchant_sale(self, shop: str, sku: str, quantity: int = 1) -> dict[str, Any]:
        """The Shopify store sells units itself (an order claiming stock); 409 beyond stock."""
        result: dict[str, Any] = await self.call("POST", f"/shopify/shops/{shop}/sales",
                                                 {"sku": sku, "quantity": quantity})
        return result

    async def tiktok_products(self, shop: str) -> Any:
        """The TikTok shop's catalogue (shop id, name or cipher) with each SKU's stock."""
        return await self.call("GET", f"/tiktok/shops/{shop}/products")

    async def tiktok_stock_lock(self, shop: str, sku_id: str, code: int | None) -> Any:
        """Lock a TikTok SKU's stock (12052393 promotion, 12052394 shared) or unlock it (None)."""
        return await self.call("POST", f"/tiktok/shops/{shop}/skus/{sku_id}/stock_lock", code=code)

    # webhooks
    # 3PL warehouses (sandbox "amazon_mcf" or "shipbob")
    async def warehouse(self, sandbox: str, order_id: str | int, action: str, body: Any = None) -> dict[str, Any]:
        """accept, pick, ship, fail_stock, delay (both); status (Amazon); deliver, hold (ShipBob)."""
        result: dict[str, Any] = await self.call("POST", f"/{sandbox}/orders/{order_id}/{action}", body)
        return result

    async def deliveries(self, sandbox: str | None = None, topic: str | None = None) -> Any:
        return await self.call("GET", "/webhooks", sandbox=sandbox, topic=topic)

    async def delivery(self, delivery_id: int) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("GET", f"/webhooks/{delivery_id}")
        return result


def tiktok_client(
    info: dict[str, Any],
    http: httpx.AsyncClient,
    clock: Clock,
    *,
    shop_index: int = 0,
    recorder: CallRecorder | None = None,
    sleep: Callable[[float], Any] | None = None,
) -> TikTokClient:
    """A TikTok client for one sandbox shop, on the sandbox clock (signatures are time-bound)."""
    tt = info["tiktok"]
    shop = tt["shops"][shop_index]
    tokens = TokenSet(
        access_token=shop["access_token"],
        access_expires_at=from_unix(shop["access_token_expire_in"]),
        refresh_token=shop["refresh_token"],
        refresh_expires_at=from_unix(shop["refresh_token_expire_in"]),
    )
    runtime_args: dict[str, Any] = {"clock": lambda: clock.now().timestamp(),
                                    "recorder": recorder or NullRecorder()}
    if sleep is not None:
        runtime_args["sleep"] = sleep
    return TikTokClient(
        http,
        app_key=tt["app_key"],
        app_secret=tt["app_secret"],
        token_store=MemoryTokenStore(tokens),
        api_base=tt["api_base"],
        auth_base=tt["auth_base"],
        shop_cipher=shop["shop_cipher"],
        shop_id=shop["shop_id"],
        runtime=Runtime(**runtime_args),
    )


def shopify_client(
    info: dict[str, Any],
    http: httpx.AsyncClient,
    *,
    shop_index: int = 0,
    token_kind: str = "access_token",
    recorder: CallRecorder | None = None,
    registry: ThrottleRegistry | None = None,
    timeout: float | None = None,
    clock: Clock | None = None,
) -> ShopifyClient:
    """A Shopify client for one sandbox store (call records on ``clock``: the wall clock if None)."""
    sh = info["shopify"]
    shop = sh["shops"][shop_index]
    return ShopifyClient(
        shop_domain=shop["domain"],
        access_token=shop[token_kind],
        http=http,
        api_version=sh["api_version"],
        endpoint_template=sh["graphql_url_template"],
        recorder=recorder,
        registry=registry,
        timeout=timeout,
        clock=clock,
    )


def amazon_mcf_client(info: dict[str, Any], http: httpx.AsyncClient,
                      runtime: Runtime | None = None, **options: Any) -> AmazonMcfClient:
    """An Amazon MCF client for the sandbox seller (LWA credentials from the info document)."""
    mcf = info["amazon_mcf"]
    return AmazonMcfClient(http, endpoint=mcf["endpoint"], lwa_token_url=mcf["lwa_token_url"],
                           client_id=mcf["client_id"], client_secret=mcf["client_secret"],
                           refresh_token=mcf["refresh_token"], runtime=runtime, **options)


def shipbob_client(info: dict[str, Any], http: httpx.AsyncClient,
                   runtime: Runtime | None = None, **options: Any) -> ShipBobClient:
    """A ShipBob client for the sandbox account (its personal access token)."""
    sb = info["shipbob"]
    return ShipBobClient(http, api_base=sb["api_base"], token=sb["personal_access_token"],
                         runtime=runtime, **options)


def tracking_number(carrier: Carrier, serial: int) -> str:
    """A valid number for ``carrier`` (USPS IMpb 9400111899…, UPS 1Z…), check digit computed.

    What a merchant would type when fulfilling in the sandbox: it passes both the engine's
    validator and TikTok's provider check.
    """
    base = f"9400111899{serial:011d}" if carrier is Carrier.USPS else f"1Z5R89W203{serial % 10**7:07d}"
    for digit in "0123456789":
        if validate_tracking(carrier, base + digit).valid:
            return base + digit
    raise ValueError(f"no check digit makes {base} a {carrier} number")


def usps_number(serial: int) -> str:
    """A valid USPS tracking number (see ``tracking_number``)."""
    return tracking_number(Carrier.USPS, serial)
