"""TikTok Shop Partner API (202309) client: signing, tokens, endpoints, webhooks.

Written from ``docs/api/tiktok-shop.md`` only; it shares no code with the TikTok sandbox.
"""

from orderbridge.adapters.limiter import RateLimiter
from orderbridge.adapters.tiktok._core import DEFAULT_API_BASE, takes_shop_cipher
from orderbridge.adapters.tiktok._http import RetryPolicy, Runtime
from orderbridge.adapters.tiktok.after_sale import (
    Cancellation,
    CancellationPage,
    CancelStatus,
    CancelType,
    ReturnPage,
    ReturnRequest,
    ReturnType,
    SellerCancelResult,
)
from orderbridge.adapters.tiktok.auth import (
    DEFAULT_AUTH_BASE,
    DEFAULT_AUTHORIZE_BASE,
    DEFAULT_REFRESH_MARGIN,
    MemoryTokenStore,
    TikTokAuth,
    TokenGrant,
    TokenManager,
    TokenSet,
    TokenStore,
    authorize_url,
)
from orderbridge.adapters.tiktok.client import TikTokClient
from orderbridge.adapters.tiktok.codes import (
    InvalidResponse,
    StaleTimestamp,
    TikTokCode,
    TokenExpired,
)
from orderbridge.adapters.tiktok.inputs import (
    CancellationFilter,
    ExternalLineItem,
    ExternalOrderReference,
    OrderFilter,
    ProductFilter,
    ReturnFilter,
    SkuInventoryUpdate,
    SkuQuantity,
    SortOrder,
)
from orderbridge.adapters.tiktok.models import (
    Order,
    OrderPage,
    OrderStatus,
    Product,
    ProductPage,
    ShippedPackage,
    ShippingProvider,
    Shop,
    TrackingEvent,
    WebhookSubscription,
)
from orderbridge.adapters.tiktok.signing import sign_request, string_to_sign
from orderbridge.adapters.tiktok.webhooks import (
    MalformedWebhook,
    WebhookEvent,
    WebhookEventType,
    parse_webhook,
    verify_webhook,
)

__all__ = [
    "DEFAULT_API_BASE",
    "DEFAULT_AUTHORIZE_BASE",
    "DEFAULT_AUTH_BASE",
    "DEFAULT_REFRESH_MARGIN",
    "CancelStatus",
    "CancelType",
    "Cancellation",
    "CancellationFilter",
    "CancellationPage",
    "ExternalLineItem",
    "ExternalOrderReference",
    "InvalidResponse",
    "MalformedWebhook",
    "MemoryTokenStore",
    "Order",
    "OrderFilter",
    "OrderPage",
    "OrderStatus",
    "Product",
    "ProductFilter",
    "ProductPage",
    "RateLimiter",
    "RetryPolicy",
    "ReturnFilter",
    "ReturnPage",
    "ReturnRequest",
    "ReturnType",
    "Runtime",
    "SellerCancelResult",
    "ShippedPackage",
    "ShippingProvider",
    "Shop",
    "SkuInventoryUpdate",
    "SkuQuantity",
    "SortOrder",
    "StaleTimestamp",
    "TikTokAuth",
    "TikTokClient",
    "TikTokCode",
    "TokenExpired",
    "TokenGrant",
    "TokenManager",
    "TokenSet",
    "TokenStore",
    "TrackingEvent",
    "WebhookEvent",
    "WebhookEventType",
    "WebhookSubscription",
    "authorize_url",
    "parse_webhook",
    "sign_request",
    "string_to_sign",
    "takes_shop_cipher",
    "verify_webhook",
]
