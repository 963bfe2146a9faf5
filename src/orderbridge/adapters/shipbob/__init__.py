"""ShipBob client (dated API) and Standard Webhooks verification."""

from orderbridge.adapters.shipbob.client import DEFAULT_API_VERSION, ShipBobClient, interpret
from orderbridge.adapters.shipbob.models import (
    CancelOutcome,
    Channel,
    NewOrder,
    NewProduct,
    Order,
    OrderPage,
    Recipient,
    RecipientAddress,
    Shipment,
    ShipmentStatus,
    StatusDetail,
    Tracking,
    WebhookSubscription,
)
from orderbridge.adapters.shipbob.webhooks import (
    DEFAULT_TOLERANCE_SECONDS,
    ShipBobWebhook,
    parse_webhook,
    signing_key,
    verify_webhook,
)

__all__ = [
    "DEFAULT_API_VERSION",
    "DEFAULT_TOLERANCE_SECONDS",
    "CancelOutcome",
    "Channel",
    "NewOrder",
    "NewProduct",
    "Order",
    "OrderPage",
    "Recipient",
    "RecipientAddress",
    "ShipBobClient",
    "ShipBobWebhook",
    "Shipment",
    "ShipmentStatus",
    "StatusDetail",
    "Tracking",
    "WebhookSubscription",
    "interpret",
    "parse_webhook",
    "signing_key",
    "verify_webhook",
]
