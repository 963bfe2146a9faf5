"""Typed views of TikTok Shop payloads: shops, orders, fulfilment, products, webhooks.

Statuses and other vocabularies are kept as plain strings on the models (an unknown value
must never break parsing); the StrEnums name the known values for comparisons.
"""

from __future__ import annotations

from collections import Counter
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, field_validator

from orderbridge.adapters.tiktok._base import (
    Flag,
    Money,
    Text,
    TikTokModel,
    UnixTime,
    none_as_list,
)

__all__ = [
    "Address",
    "DistrictInfo",
    "ExternalOrderResult",
    "ItemTax",
    "LineItem",
    "Order",
    "OrderPackage",
    "OrderPage",
    "OrderStatus",
    "Payment",
    "Product",
    "ProductPage",
    "ProductSku",
    "ProductStock",
    "ShippedPackage",
    "ShippingProvider",
    "Shop",
    "SkuInventory",
    "SkuStock",
    "TrackingEvent",
    "WarehouseStock",
    "WebhookSubscription",
]


class OrderStatus(StrEnum):
    """TikTok order statuses (202309)."""

    UNPAID = "UNPAID"  # placed, not paid
    ON_HOLD = "ON_HOLD"  # paid, in the 1-hour remorse window: do not fulfil
    AWAITING_SHIPMENT = "AWAITING_SHIPMENT"  # ready to fulfil
    PARTIALLY_SHIPPING = "PARTIALLY_SHIPPING"  # some units shipped (split shipment)
    AWAITING_COLLECTION = "AWAITING_COLLECTION"  # every unit has a shipment arranged
    IN_TRANSIT = "IN_TRANSIT"  # carrier scans for all packages
    DELIVERED = "DELIVERED"  # delivered
    COMPLETED = "COMPLETED"  # closed (also after a full refund)
    CANCELLED = "CANCELLED"  # every unit cancelled (webhooks spell it CANCEL)


def normalise_order_status(value: str) -> str:
    """Map the webhook spelling ``CANCEL`` onto ``CANCELLED``; keep anything else."""
    return OrderStatus.CANCELLED.value if value == "CANCEL" else value


class Shop(TikTokModel):
    """An authorised shop; ``cipher`` is the ``shop_cipher`` for shop-scoped calls."""

    id: Text = ""
    name: Text = ""
    region: Text = ""
    seller_type: Text = ""  # CROSS_BORDER | LOCAL
    cipher: Text = ""
    code: Text = ""


class ItemTax(TikTokModel):
    tax_type: Text = ""
    tax_amount: Money = None
    tax_rate: Money = None


class LineItem(TikTokModel):
    """One unit of one SKU: TikTok has no quantity field."""

    id: Text = ""
    sku_id: Text = ""
    product_id: Text = ""
    product_name: Text = ""
    sku_name: Text = ""
    sku_image: Text = ""
    seller_sku: Text = ""
    currency: Text = ""
    original_price: Money = None
    sale_price: Money = None
    seller_discount: Money = None
    platform_discount: Money = None
    item_tax: Annotated[list[ItemTax], BeforeValidator(none_as_list)] = Field(default_factory=list)
    display_status: Text = ""
    package_status: Text = ""
    package_id: Text = ""
    tracking_number: Text = ""
    shipping_provider_id: Text = ""
    shipping_provider_name: Text = ""
    cancel_reason: Text = ""
    cancel_user: Text = ""
    is_gift: Flag = False


class DistrictInfo(TikTokModel):
    address_level: Text = ""
    address_level_name: Text = ""
    address_name: Text = ""


class Address(TikTokModel):
    """The recipient; absent in UNPAID/ON_HOLD and masked in several US states of an order."""

    name: Text = ""
    first_name: Text = ""
    last_name: Text = ""
    phone_number: Text = ""
    full_address: Text = ""
    address_detail: Text = ""
    address_line1: Text = ""
    address_line2: Text = ""
    address_line3: Text = ""
    address_line4: Text = ""
    postal_code: Text = ""
    region_code: Text = ""
    district_info: Annotated[list[DistrictInfo], BeforeValidator(none_as_list)] = Field(
        default_factory=list
    )
    delivery_preferences: dict[str, Any] | None = None

    def district(self, level: str) -> str:
        """The name at ``level`` (L0 country, L1 state, L2 county, L3 city, L4), or ""."""
        return next((d.address_name for d in self.district_info if d.address_level == level), "")


class Payment(TikTokModel):
    currency: Text = ""
    original_total_product_price: Money = None
    seller_discount: Money = None
    platform_discount: Money = None
    sub_total: Money = None
    original_shipping_fee: Money = None
    shipping_fee_seller_discount: Money = None
    shipping_fee_platform_discount: Money = None
    shipping_fee_cofunded_discount: Money = None
    shipping_fee: Money = None
    product_tax: Money = None
    shipping_fee_tax: Money = None
    tax: Money = None
    retail_delivery_fee: Money = None
    item_insurance_fee: Money = None
    item_insurance_tax: Money = None
    handling_fee: Money = None
    total_amount: Money = None


class OrderPackage(TikTokModel):
    id: Text = ""


class Order(TikTokModel):
    """A TikTok order (Get Order Detail / Get Order List shape)."""

    id: Text = ""
    status: Text = ""
    user_id: Text = ""
    buyer_email: Text = ""
    buyer_message: Text = ""
    seller_note: Text = ""
    create_time: UnixTime = None
    paid_time: UnixTime = None
    update_time: UnixTime = None
    rts_time: UnixTime = None
    collection_time: UnixTime = None
    delivery_time: UnixTime = None
    cancel_time: UnixTime = None
    request_cancel_time: UnixTime = None
    rts_sla_time: UnixTime = None
    tts_sla_time: UnixTime = None
    delivery_sla_time: UnixTime = None
    shipping_due_time: UnixTime = None
    collection_due_time: UnixTime = None
    delivery_due_time: UnixTime = None
    is_on_hold_order: Flag = False
    is_sample_order: Flag = False
    is_cod: Flag = False
    is_buyer_request_cancel: Flag = False
    is_replacement_order: Flag = False
    replaced_order_id: Text = ""
    is_exchange_order: Flag = False
    has_updated_recipient_address: Flag = False
    fulfillment_type: Text = ""  # FULFILLMENT_BY_SELLER | FULFILLMENT_BY_TIKTOK
    shipping_type: Text = ""  # SELLER | TIKTOK
    delivery_type: Text = ""  # HOME_DELIVERY | COLLECTION_POINT
    delivery_option_id: Text = ""
    delivery_option_name: Text = ""
    shipping_provider: Text = ""
    shipping_provider_id: Text = ""
    tracking_number: Text = ""
    warehouse_id: Text = ""
    split_or_combine_tag: Text = ""
    cancel_reason: Text = ""
    cancellation_initiator: Text = ""  # SELLER | BUYER | SYSTEM
    order_type: Text = ""
    packages: Annotated[list[OrderPackage], BeforeValidator(none_as_list)] = Field(
        default_factory=list
    )
    payment: Payment | None = None
    recipient_address: Address | None = None
    line_items: Annotated[list[LineItem], BeforeValidator(none_as_list)] = Field(
        default_factory=list
    )

    @field_validator("status")
    @classmethod
    def _status(cls, value: str) -> str:
        return normalise_order_status(value)

    def quantities_by_sku(self) -> dict[str, int]:
        """Units per ``sku_id`` (each line item is one unit)."""
        return dict(Counter(item.sku_id for item in self.line_items))


class OrderPage(TikTokModel):
    orders: Annotated[list[Order], BeforeValidator(none_as_list)] = Field(default_factory=list)
    next_page_token: Text = ""
    total_count: int | None = None


class ShippingProvider(TikTokModel):
    id: Text = ""
    name: Text = ""


class ShippedPackage(TikTokModel):
    """Mark Package As Shipped's answer; ``warning_message`` must be shown to the seller."""

    order_id: Text = ""
    order_line_item_ids: Annotated[list[str], BeforeValidator(none_as_list)] = Field(
        default_factory=list
    )
    package_id: Text = ""
    warning: dict[str, Any] | None = None

    @property
    def warning_message(self) -> str | None:
        """The US tracking/provider mismatch warning, if TikTok gave one."""
        if not self.warning:
            return None
        message = self.warning.get("message")
        return str(message) if message else None


class TrackingEvent(TikTokModel):
    """One carrier event of Get Tracking (``tracking[]``: ``description``, ``update_time_millis``,
    https://partner.tiktokshop.com/docv2/page/get-tracking-202309)."""

    description: Text = ""
    update_time_millis: int | None = None


class SkuInventory(TikTokModel):
    warehouse_id: Text = ""
    quantity: int | None = None


class ProductSku(TikTokModel):
    id: Text = ""
    seller_sku: Text = ""
    inventory: Annotated[list[SkuInventory], BeforeValidator(none_as_list)] = Field(
        default_factory=list
    )

    @property
    def total_quantity(self) -> int:
        return sum(i.quantity or 0 for i in self.inventory)


class Product(TikTokModel):
    id: Text = ""
    title: Text = ""
    status: Text = ""
    skus: Annotated[list[ProductSku], BeforeValidator(none_as_list)] = Field(default_factory=list)


class WarehouseStock(TikTokModel):
    """Inventory Search: one warehouse's units of a SKU."""

    warehouse_id: Text = ""
    available_quantity: int = 0
    committed_quantity: int = 0


class SkuStock(TikTokModel):
    """Inventory Search: a SKU's stock, per warehouse and in total."""

    id: Text = ""
    seller_sku: Text = ""
    total_available_quantity: int = 0
    total_committed_quantity: int = 0
    warehouse_inventory: Annotated[list[WarehouseStock], BeforeValidator(none_as_list)] = Field(
        default_factory=list
    )


class ProductStock(TikTokModel):
    """Inventory Search: one product's SKUs."""

    product_id: Text = ""
    skus: Annotated[list[SkuStock], BeforeValidator(none_as_list)] = Field(default_factory=list)


class ProductPage(TikTokModel):
    products: Annotated[list[Product], BeforeValidator(none_as_list)] = Field(default_factory=list)
    next_page_token: Text = ""
    total_count: int | None = None


class WebhookSubscription(TikTokModel):
    event_type: Text = ""
    address: Text = ""
    create_time: UnixTime = None
    update_time: UnixTime = None


class ExternalOrderResult(TikTokModel):
    """Add External Order References' answer: the orders it refused, each
    ``{code, message, detail: {order_id, external_order: {id, platform}}}`` (others stored)."""

    errors: Annotated[list[dict[str, Any]], BeforeValidator(none_as_list)] = Field(
        default_factory=list
    )
