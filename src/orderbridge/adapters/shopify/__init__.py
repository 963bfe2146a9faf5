"""Shopify Admin GraphQL client (cost-aware throttle, typed operations, webhooks)."""

from orderbridge.adapters.shopify.builders import (
    AddressSpec,
    CustomerSpec,
    DiscountSpec,
    FulfillmentLinesSpec,
    LineItemSpec,
    MetafieldSpec,
    OrderSpec,
    RefundLineSpec,
    ShippingLineSpec,
    TaxLineSpec,
    TrackingSpec,
)
from orderbridge.adapters.shopify.client import ShopifyClient
from orderbridge.adapters.shopify.errors import UserErrorItem, UserErrors
from orderbridge.adapters.shopify.models import (
    FulfillmentHoldReason,
    OrderCancelReason,
    RestockType,
)
from orderbridge.adapters.shopify.throttle import Priority, ThrottleRegistry
from orderbridge.adapters.shopify.transport import DEFAULT_API_VERSION, DEFAULT_ENDPOINT_TEMPLATE
from orderbridge.adapters.shopify.webhooks import parse_webhook_headers, verify_webhook

__all__ = [
    "DEFAULT_API_VERSION",
    "DEFAULT_ENDPOINT_TEMPLATE",
    "AddressSpec",
    "CustomerSpec",
    "DiscountSpec",
    "FulfillmentHoldReason",
    "FulfillmentLinesSpec",
    "LineItemSpec",
    "MetafieldSpec",
    "OrderCancelReason",
    "OrderSpec",
    "Priority",
    "RefundLineSpec",
    "RestockType",
    "ShippingLineSpec",
    "ShopifyClient",
    "TaxLineSpec",
    "ThrottleRegistry",
    "TrackingSpec",
    "UserErrorItem",
    "UserErrors",
    "parse_webhook_headers",
    "verify_webhook",
]
