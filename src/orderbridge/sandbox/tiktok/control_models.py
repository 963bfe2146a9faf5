"""Request bodies of the control API (JSON in; documented for the OpenAPI page)."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from orderbridge.sandbox.tiktok.constants import (
    AutoApproveWindow,
    FulfillmentType,
    OptionalFields,
    PaymentState,
    ShippingType,
)

__all__ = [
    "AddressIn",
    "ExpiringIn",
    "ItemIn",
    "OrderIn",
    "ProductIn",
    "ReasonIn",
    "RedirectIn",
    "SettingsIn",
    "ShopIn",
    "SkuIn",
    "WebhookIn",
]


# Control API bodies refuse fields they do not know (422): a misspelt field silently
# ignored once gave a 1-unit order instead of the intended quantity.
STRICT_INPUT = ConfigDict(extra="forbid")


class AddressIn(BaseModel):
    """A recipient address (any US or non-US address; defaults: San Jose, CA)."""

    model_config = STRICT_INPUT

    name: str = "Jordan Lee"
    phone_number: str = "(+1)4085550142"
    address_line1: str = "1199 Coleman Ave"
    address_line2: str = ""
    city: str = "San Jose"
    county: str = "Santa Clara"
    state: str = "California"
    state_code: str = "CA"
    postal_code: str = "95110"
    region_code: str = "US"
    country: str = "United States"


class ItemIn(BaseModel):
    """One ordered SKU (by seller_sku or sku_id) and its units; discounts are per unit."""

    model_config = STRICT_INPUT

    seller_sku: str = ""
    sku_id: str = ""
    units: int = Field(1, ge=1, le=100)
    seller_discount: Decimal = Field(Decimal("0"), ge=0, description="per unit")
    platform_discount: Decimal = Field(Decimal("0"), ge=0, description="per unit")


class OrderIn(BaseModel):
    """A buyer's checkout. payment: paid | pending | failed; delivery option by name."""

    model_config = STRICT_INPUT

    shop: str = Field("", description="shop id or name; default: the first shop")
    items: list[ItemIn] = Field(min_length=1)
    payment: PaymentState = PaymentState.PAID
    shipping_type: ShippingType | None = None
    fulfillment_type: FulfillmentType = FulfillmentType.SELLER
    sample: bool = False
    replacement_of: str = ""
    recipient_address: AddressIn | None = None
    delivery_option: Literal["Economy", "Standard", "Express"] = "Standard"
    shipping_fee: Decimal = Field(Decimal("5.99"), ge=0)
    shipping_fee_seller_discount: Decimal = Field(Decimal("0"), ge=0)
    shipping_fee_platform_discount: Decimal = Field(Decimal("0"), ge=0)
    shipping_fee_tax: Decimal = Field(Decimal("0"), ge=0, description="tax on shipping")
    handling_fee: Decimal = Field(Decimal("0"), ge=0, description="TikTok's handling fee")
    item_insurance_fee: Decimal = Field(Decimal("0"), ge=0, description="shipping insurance")
    item_insurance_tax: Decimal = Field(Decimal("0"), ge=0, description="tax on the insurance")
    retail_delivery_fee: Decimal | None = Field(None, ge=0, description="default: the state's rule (CO, MN)")
    buyer_message: str = ""
    buyer_user_id: str = ""


class ReasonIn(BaseModel):
    """A cancellation reason key (or a shortcut for TikTok cancels)."""

    model_config = STRICT_INPUT

    reason: str = ""


class ShopIn(BaseModel):
    """A new US seller-shipping shop."""

    model_config = STRICT_INPUT

    name: str
    default_catalogue: bool = True


class SettingsIn(BaseModel):
    """Shop settings; omitted fields stay as they are."""

    model_config = STRICT_INPUT

    auto_approve: AutoApproveWindow | None = None
    skip_on_hold: bool | None = None
    default_shipping_type: ShippingType | None = None
    webhook_optional_fields: OptionalFields | None = None


class SkuIn(BaseModel):
    """A SKU of a new product."""

    model_config = STRICT_INPUT

    name: str
    seller_sku: str
    price: Decimal = Field(gt=0)
    stock: int = Field(100, ge=0)


class ProductIn(BaseModel):
    """A new product with its SKUs."""

    model_config = STRICT_INPUT

    title: str
    skus: list[SkuIn] = Field(min_length=1)


class WebhookIn(BaseModel):
    """A webhook subscription (event_type by name, e.g. ORDER_STATUS_CHANGE)."""

    model_config = STRICT_INPUT

    event_type: str = "ORDER_STATUS_CHANGE"
    address: str
    app_key: str = ""


class RedirectIn(BaseModel):
    """The app's OAuth redirect URL."""

    model_config = STRICT_INPUT

    redirect_uri: str


class ExpiringIn(BaseModel):
    """Days until the authorization expires (webhook 7)."""

    model_config = STRICT_INPUT

    days: int = Field(30, ge=0, le=365)
