"""The Shopify Admin GraphQL client OrderBridge uses (the pinned API version of ``versions.py`` by default).

``ShopifyClient`` is the transport (``transport.py``: endpoint, throttle, retries, errors,
call records) plus the typed operations of ``api_orders.py``, ``api_fulfillment.py``,
``api_edits.py`` and ``api_catalog.py``. It is written from Shopify's documentation only; the local sandbox is
a separate implementation of the same documents (they share no code).

Construct one per store and connection::

    client = ShopifyClient(
        shop_domain="example.myshopify.com",
        access_token=token,
        http=httpx.AsyncClient(),            # owned by the caller
        api_version="2026-10",
        endpoint_template="https://{shop}/admin/api/{version}/graphql.json",
        registry=registry,                   # one ThrottleRegistry per process
        recorder=recorder,
    )
"""

from __future__ import annotations

from orderbridge.adapters.shopify.api_catalog import CatalogApi
from orderbridge.adapters.shopify.api_edits import EditsApi
from orderbridge.adapters.shopify.api_fulfillment import FulfillmentApi
from orderbridge.adapters.shopify.api_orders import OrdersApi

__all__ = ["ShopifyClient"]


class ShopifyClient(OrdersApi, FulfillmentApi, EditsApi, CatalogApi):
    """Typed Shopify Admin GraphQL operations over a throttled, recorded transport.

    Constructor (keyword-only, from ``ShopifyTransport``): ``shop_domain``,
    ``access_token``, ``http`` (an ``httpx.AsyncClient``), ``api_version``,
    ``endpoint_template`` (``{shop}``/``{version}`` placeholders), ``recorder``,
    ``registry`` (shared ``ThrottleRegistry``: its monotonic clock and sleep are used for
    throttling and back-off), ``clock`` (stamps call records: pass the engine's clock so
    they sort among its timeline entries; the wall clock by default), ``rng`` (jitter),
    ``timeout``, ``max_throttle_retries``, ``max_server_retries``,
    ``max_timeout_retries``, ``extra_headers``, ``token_source`` (an async callable giving the
    current access token before every attempt: expiring tokens, refreshed by the engine).
    """
