"""Amazon Multi-Channel Fulfillment client (SP-API Fulfillment Outbound 2020-07-01)."""

from orderbridge.adapters.amazon_mcf.client import AmazonMcfClient, interpret
from orderbridge.adapters.amazon_mcf.models import (
    CreateItem,
    CreateOrder,
    DestinationAddress,
    FulfillmentOrder,
    FulfillmentOrderItem,
    McfStatus,
    OrderDetail,
    OrderPage,
    PackageTracking,
    Shipment,
    ShipmentItem,
    ShipmentPackage,
    ShippingSpeed,
    TrackingEvent,
    normalize_status,
)

__all__ = [
    "AmazonMcfClient",
    "CreateItem",
    "CreateOrder",
    "DestinationAddress",
    "FulfillmentOrder",
    "FulfillmentOrderItem",
    "McfStatus",
    "OrderDetail",
    "OrderPage",
    "PackageTracking",
    "Shipment",
    "ShipmentItem",
    "ShipmentPackage",
    "ShippingSpeed",
    "TrackingEvent",
    "interpret",
    "normalize_status",
]
