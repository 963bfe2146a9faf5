"""The sandbox's world: apps, shops, products, tokens, orders, packages, cancellations.

Plain dataclasses; money is ``Decimal``; times are aware UTC datetimes (converted to Unix
seconds only when rendered on the wire).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from orderbridge.sandbox.common.ids import IdGenerator
from orderbridge.sandbox.tiktok.constants import (
    DEFAULT_REGION,
    AutoApproveWindow,
    CancelStatus,
    CancelType,
    DeliveryOption,
    FulfillmentType,
    OptionalFields,
    OrderStatus,
    PackageStatus,
    PaymentState,
    ReturnStatus,
    ReturnType,
    Role,
    ShippingType,
)

__all__ = [
    "Address",
    "App",
    "AuthCode",
    "Cancellation",
    "Charges",
    "LineItem",
    "Order",
    "Package",
    "Payment",
    "Product",
    "ReturnRecord",
    "Shop",
    "Sku",
    "Token",
    "WebhookSub",
    "World",
]

ID_PREFIXES: dict[str, tuple[str, int]] = {
    "order": ("576", 18),
    "line": ("577", 18),
    "package": ("1154", 19),
    "cancel": ("4035", 18),
    "return": ("4036", 18),
    "notification": ("73", 19),
    "user": ("7494", 19),
    "shop": ("7495", 19),
    "product": ("17295", 19),
    "sku": ("17294", 19),
    "warehouse": ("7301", 19),
    "delivery_option": ("70911", 19),
    "request": ("1", 18),
    "open_id": ("9", 18),
}


@dataclass
class App:
    app_key: str
    app_secret: str
    service_id: str
    name: str
    redirect_uri: str


@dataclass
class Sku:
    id: str
    seller_sku: str
    name: str
    price: Decimal
    inventory: dict[str, int] = field(default_factory=dict)  # warehouse id -> units
    # Update Inventory refuses this SKU with this per-SKU code (promotion lock 12052393,
    # shared inventory 12052394), inside a code-0 answer; None: updates are accepted.
    stock_lock: int | None = None


@dataclass
class Product:
    id: str
    shop_id: str
    title: str
    image: str
    skus: list[Sku] = field(default_factory=list)
    status: str = "ACTIVATE"
    create_time: datetime | None = None
    update_time: datetime | None = None


@dataclass
class WebhookSub:
    address: str
    app_key: str
    create_time: datetime
    update_time: datetime


@dataclass
class Shop:
    id: str
    name: str
    cipher: str
    code: str
    warehouse_id: str
    open_id: str
    region: str = DEFAULT_REGION
    seller_type: str = "LOCAL"
    auto_approve: AutoApproveWindow = AutoApproveWindow.NONE
    skip_on_hold: bool = False
    default_shipping_type: ShippingType = ShippingType.SELLER
    webhook_optional_fields: OptionalFields = OptionalFields.AS_DOCUMENTED
    delivery_options: dict[DeliveryOption, str] = field(default_factory=dict)  # name -> id
    tiktok_delivery_option_id: str = ""
    webhooks: dict[int, WebhookSub] = field(default_factory=dict)  # event type -> subscription
    products: dict[str, Product] = field(default_factory=dict)
    created_at: datetime | None = None


@dataclass
class Token:
    access_token: str
    refresh_token: str
    app_key: str
    shop_id: str
    access_expires: datetime
    refresh_expires: datetime
    revoked: bool = False


@dataclass
class AuthCode:
    code: str
    app_key: str
    shop_id: str
    expires: datetime
    used: bool = False


@dataclass
class Address:
    name: str
    phone_number: str
    address_line1: str
    address_line2: str
    city: str
    county: str
    state: str  # full state / province name
    state_code: str
    postal_code: str
    region_code: str = "US"
    country: str = "United States"
    drop_off_location: str = "Front Door"


@dataclass
class Payment:
    currency: str
    original_total_product_price: Decimal
    seller_discount: Decimal
    platform_discount: Decimal
    sub_total: Decimal
    original_shipping_fee: Decimal
    shipping_fee_seller_discount: Decimal
    shipping_fee_platform_discount: Decimal
    shipping_fee_cofunded_discount: Decimal
    shipping_fee: Decimal
    product_tax: Decimal
    shipping_fee_tax: Decimal
    tax: Decimal
    retail_delivery_fee: Decimal
    total_amount: Decimal
    handling_fee: Decimal = Decimal("0.00")
    item_insurance_fee: Decimal = Decimal("0.00")
    item_insurance_tax: Decimal = Decimal("0.00")


@dataclass(frozen=True)
class Charges:
    """The payment amounts a checkout may carry beyond items and shipping (control API):
    tax on shipping, TikTok's handling fee, shipping insurance and its tax, and the retail
    delivery fee (None: the state's rule)."""

    shipping_fee_tax: Decimal = Decimal("0.00")
    handling_fee: Decimal = Decimal("0.00")
    item_insurance_fee: Decimal = Decimal("0.00")
    item_insurance_tax: Decimal = Decimal("0.00")
    retail_delivery_fee: Decimal | None = None


@dataclass
class LineItem:
    id: str
    sku_id: str
    product_id: str
    product_name: str
    sku_name: str
    seller_sku: str
    sku_image: str
    original_price: Decimal
    seller_discount: Decimal
    platform_discount: Decimal
    tax_amount: Decimal
    tax_rate: Decimal
    package_status: PackageStatus = PackageStatus.TO_FULFILL
    package_id: str = ""
    tracking_number: str = ""
    shipping_provider_id: str = ""
    shipping_provider_name: str = ""
    cancel_reason: str = ""
    cancel_user: str = ""
    is_gift: bool = False

    @property
    def sale_price(self) -> Decimal:
        return self.original_price - self.seller_discount - self.platform_discount

    @property
    def cancelled(self) -> bool:
        return self.package_status is PackageStatus.CANCELLED

    @property
    def shipped(self) -> bool:
        return bool(self.package_id)


@dataclass
class Order:
    id: str
    shop_id: str
    status: OrderStatus
    user_id: str
    buyer_email: str
    buyer_message: str
    create_time: datetime
    update_time: datetime
    payment_state: PaymentState
    shipping_type: ShippingType
    fulfillment_type: FulfillmentType
    delivery_option: DeliveryOption
    delivery_option_id: str
    warehouse_id: str
    payment: Payment
    address: Address
    line_items: list[LineItem]
    seller_note: str = ""
    paid_time: datetime | None = None
    rts_time: datetime | None = None
    collection_time: datetime | None = None
    delivery_time: datetime | None = None
    completed_time: datetime | None = None
    cancel_time: datetime | None = None
    request_cancel_time: datetime | None = None
    awaiting_shipment_time: datetime | None = None
    rts_sla_time: datetime | None = None
    tts_sla_time: datetime | None = None
    shipping_due_time: datetime | None = None
    collection_due_time: datetime | None = None
    delivery_sla_time: datetime | None = None
    delivery_due_time: datetime | None = None
    is_on_hold_order: bool = False
    is_sample_order: bool = False
    is_replacement_order: bool = False
    replaced_order_id: str = ""
    is_buyer_request_cancel: bool = False
    has_updated_recipient_address: bool = False
    external_orders: dict[str, dict[str, Any]] = field(default_factory=dict)  # platform -> reference
    cancel_reason: str = ""
    cancellation_initiator: str = ""
    package_ids: list[str] = field(default_factory=list)
    payment_method_name: str = "CCDC"

    def live_lines(self) -> list[LineItem]:
        return [li for li in self.line_items if not li.cancelled]


@dataclass
class Package:
    id: str
    tracking_number: str
    shipping_provider_id: str
    shipping_provider_name: str
    shipped_at: datetime
    lines: dict[str, list[str]] = field(default_factory=dict)  # order id -> line ids
    recipient_key: str = ""
    tracking_updated: bool = False


@dataclass
class Cancellation:
    id: str
    order_id: str
    shop_id: str
    cancel_type: CancelType
    status: CancelStatus
    role: Role
    reason: str
    reason_text: str
    create_time: datetime
    update_time: datetime
    line_ids: list[str]
    refund_subtotal: Decimal
    refund_shipping_fee: Decimal
    refund_tax: Decimal
    deadline: datetime | None = None
    idempotency_keys: set[str] = field(default_factory=set)


@dataclass
class ReturnRecord:
    id: str
    order_id: str
    shop_id: str
    return_type: ReturnType
    status: ReturnStatus
    role: Role
    reason: str
    create_time: datetime
    update_time: datetime
    line_ids: list[str]
    refund_subtotal: Decimal
    refund_shipping_fee: Decimal
    refund_tax: Decimal
    # The after-sale desk (sandbox/tiktok/returns.py) keeps the rest of the story here.
    refund_retail_delivery_fee: Decimal = Decimal("0")  # back with the whole order
    deadline: datetime | None = None  # the seller must act by then (48 h), or TikTok does
    next_action: str = ""  # seller_next_action_response[].action while a deadline runs
    arbitration_status: str = ""  # IN_PROGRESS, SUPPORT_BUYER, SUPPORT_SELLER, CLOSED
    return_tracking_number: str = ""
    return_provider_name: str = ""
    pre_return_id: str = ""  # the request this one replaced (buyer edit)
    next_return_id: str = ""  # the request that replaced this one
    seller_proposed_return_type: str = ""  # PARTIAL_REFUND while an offer stands
    partial_refund: Decimal | None = None
    buyer_rejected_partial_refund: bool = False
    buyer_keep_item: bool = False
    reject_reason: str = ""
    replacement_order_id: str = ""
    decisions: dict[str, str] = field(default_factory=dict)  # idempotency key -> decision


class World:
    """Every object of the sandbox, indexed for the handlers."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.ids = IdGenerator(ID_PREFIXES)
        self.apps: dict[str, App] = {}
        self.shops: dict[str, Shop] = {}
        self.tokens: dict[str, Token] = {}  # access token -> token
        self.refresh_tokens: dict[str, Token] = {}  # refresh token -> token
        self.auth_codes: dict[str, AuthCode] = {}
        self.orders: dict[str, Order] = {}
        self.packages: dict[str, Package] = {}
        self.tracking_index: dict[str, str] = {}  # tracking number -> package id
        self.cancellations: dict[str, Cancellation] = {}
        self.returns: dict[str, ReturnRecord] = {}
        # Every quantity Update Inventory wrote: (instant, shop id, sku id, warehouse id, units).
        self.stock_updates: list[tuple[datetime, str, str, str, int]] = []

    def shop_by_cipher(self, cipher: str) -> Shop | None:
        return next((s for s in self.shops.values() if s.cipher == cipher), None)

    def find_sku(self, shop: Shop, *, sku_id: str = "", seller_sku: str = "") -> tuple[Product, Sku] | None:
        for product in shop.products.values():
            for sku in product.skus:
                if (sku_id and sku.id == sku_id) or (seller_sku and sku.seller_sku == seller_sku):
                    return product, sku
        return None

    def order_cancellations(self, order_id: str) -> list[Cancellation]:
        return [c for c in self.cancellations.values() if c.order_id == order_id]
