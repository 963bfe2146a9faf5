"""Plain Python descriptions of what we send, and their GraphQL input objects.

The engine describes an order with these dataclasses (Decimal money, aware datetimes) and
never writes Shopify JSON itself. ``build_order_create_variables`` fixes the policy the
lifecycle requires: financial status PENDING with no transaction, no receipts, inventory
claimed ignoring policy, the buyer never opted in to marketing. An order TikTok shipped,
imported for accounting, instead says PAID with its transaction and carries
``fulfillmentStatus: FULFILLED`` with the ``fulfillment`` (location, tracking, never
notifying the customer).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

__all__ = [
    "AddressSpec",
    "CreateFulfillmentSpec",
    "CustomerSpec",
    "DiscountSpec",
    "FulfillmentLinesSpec",
    "LineItemSpec",
    "MetafieldSpec",
    "OrderSpec",
    "RefundLineSpec",
    "ShippingLineSpec",
    "TaxLineSpec",
    "TrackingSpec",
    "TransactionSpec",
    "address_input",
    "build_order_create_variables",
    "format_datetime",
    "money",
    "money_bag",
]

CENT = Decimal("0.01")
MAX_INPUT_ITEMS = 250  # Shopify caps input arrays at 250 items
DEFAULT_INVENTORY_BEHAVIOUR = "DECREMENT_IGNORING_POLICY"  # TikTok already sold the stock


def money(amount: Decimal) -> str:
    """An amount as Shopify's decimal string, rounded half-up to cents."""
    return str(Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP))


def money_bag(amount: Decimal, currency: str) -> dict[str, Any]:
    """A ``MoneyBagInput`` in the shop currency."""
    return {"shopMoney": {"amount": money(amount), "currencyCode": currency}}


def format_datetime(value: datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` (naive values are taken to be UTC)."""
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return aware.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class TaxLineSpec:
    """A tax line; ``channel_liable`` marks tax the channel (TikTok) collects and remits."""

    title: str
    rate: Decimal
    amount: Decimal
    channel_liable: bool = True


@dataclass(frozen=True, slots=True)
class LineItemSpec:
    """A line: a variant, or a custom line (title, SKU, price) when no variant is linked."""

    quantity: int
    unit_price: Decimal  # before discounts, in shop currency
    variant_id: str | None = None
    title: str | None = None
    sku: str | None = None
    tax_lines: Sequence[TaxLineSpec] = ()
    properties: Sequence[tuple[str, str]] = ()
    requires_shipping: bool | None = None
    taxable: bool | None = None

    def __post_init__(self) -> None:
        if self.quantity < 1:
            raise ValueError("line quantity must be at least 1")
        if not self.variant_id and not self.title:
            raise ValueError("a custom line (no variant) needs a title")


@dataclass(frozen=True, slots=True)
class ShippingLineSpec:
    """A shipping line (also used for fees such as a retail delivery fee)."""

    title: str
    price: Decimal
    code: str | None = None
    source: str | None = None
    tax_lines: Sequence[TaxLineSpec] = ()


@dataclass(frozen=True, slots=True)
class AddressSpec:
    """A postal address (``MailingAddressInput``)."""

    first_name: str | None = None
    last_name: str | None = None
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    province_code: str | None = None
    country_code: str | None = None
    zip: str | None = None
    phone: str | None = None
    company: str | None = None


@dataclass(frozen=True, slots=True)
class CustomerSpec:
    """The customer to create or update (``customer.toUpsert``)."""

    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    tags: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class MetafieldSpec:
    """A metafield written with the order."""

    namespace: str
    key: str
    value: str
    type: str = "single_line_text_field"


@dataclass(frozen=True, slots=True)
class DiscountSpec:
    """The one discount code Shopify accepts: a fixed amount off the line items."""

    code: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class TransactionSpec:
    """A transaction recorded with the order (``OrderCreateOrderTransactionInput``)."""

    amount: Decimal
    gateway: str
    kind: str = "SALE"
    status: str = "SUCCESS"
    processed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CreateFulfillmentSpec:
    """The order is created already fulfilled (``OrderCreateFulfillmentInput``).

    ``location_id`` ``None``: only ``fulfillmentStatus: FULFILLED`` is sent and Shopify
    fulfils from its default location.
    """

    location_id: str | None
    tracking_number: str | None = None
    tracking_company: str | None = None
    notify_customer: bool = False


@dataclass(frozen=True, slots=True)
class OrderSpec:
    """Everything ``orderCreate`` needs from the engine."""

    currency: str
    line_items: Sequence[LineItemSpec]
    processed_at: datetime
    source_identifier: str
    email: str | None = None
    customer: CustomerSpec | None = None
    shipping_lines: Sequence[ShippingLineSpec] = ()
    discount: DiscountSpec | None = None
    source_name: str | None = None
    source_url: str | None = None
    tags: Sequence[str] = ()
    custom_attributes: Sequence[tuple[str, str]] = ()
    metafields: Sequence[MetafieldSpec] = ()
    note: str | None = None
    shipping_address: AddressSpec | None = None
    billing_address: AddressSpec | None = None
    phone: str | None = None
    taxes_included: bool | None = None
    inventory_behaviour: str = DEFAULT_INVENTORY_BEHAVIOUR
    financial_status: str = "PENDING"
    transactions: Sequence[TransactionSpec] = ()
    fulfillment: CreateFulfillmentSpec | None = None


@dataclass(frozen=True, slots=True)
class FulfillmentLinesSpec:
    """Lines of one fulfilment order to fulfil; empty ``lines`` means all of them."""

    fulfillment_order_id: str
    lines: Sequence[tuple[str, int]] = ()  # (fulfilment order line item id, quantity)


@dataclass(frozen=True, slots=True)
class TrackingSpec:
    """Tracking of a fulfilment: one number/URL, or several."""

    company: str | None = None
    numbers: Sequence[str] = ()
    urls: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class RefundLineSpec:
    """A refunded order line."""

    line_item_id: str
    quantity: int
    restock_type: str = "NO_RESTOCK"
    location_id: str | None = None


def _compact(values: dict[str, Any]) -> dict[str, Any]:
    """Drop ``None`` values: an absent field keeps Shopify's default."""
    return {k: v for k, v in values.items() if v is not None}


def _tax_lines(lines: Sequence[TaxLineSpec], currency: str) -> list[dict[str, Any]]:
    return [
        {
            "title": t.title,
            "rate": str(t.rate),
            "priceSet": money_bag(t.amount, currency),
            "channelLiable": t.channel_liable,
        }
        for t in lines
    ]


def address_input(address: AddressSpec) -> dict[str, Any]:
    """A ``MailingAddressInput``."""
    return _compact(
        {
            "firstName": address.first_name,
            "lastName": address.last_name,
            "address1": address.address1,
            "address2": address.address2,
            "city": address.city,
            "provinceCode": address.province_code,
            "countryCode": address.country_code,
            "zip": address.zip,
            "phone": address.phone,
            "company": address.company,
        }
    )


def _line_item(item: LineItemSpec, currency: str) -> dict[str, Any]:
    line: dict[str, Any] = {
        "quantity": item.quantity,
        "priceSet": money_bag(item.unit_price, currency),
        "variantId": item.variant_id,
        "title": item.title,
        "sku": item.sku,
        "requiresShipping": item.requires_shipping,
        "taxable": item.taxable,
    }
    if item.tax_lines:
        line["taxLines"] = _tax_lines(item.tax_lines, currency)
    if item.properties:
        line["properties"] = [{"name": n, "value": v} for n, v in item.properties]
    return _compact(line)


def _shipping_line(line: ShippingLineSpec, currency: str) -> dict[str, Any]:
    if line.price < 0:
        raise ValueError("a shipping line price cannot be negative")
    out: dict[str, Any] = _compact(
        {"title": line.title, "priceSet": money_bag(line.price, currency), "code": line.code, "source": line.source}
    )
    if line.tax_lines:
        out["taxLines"] = _tax_lines(line.tax_lines, currency)
    return out


def _transaction(t: TransactionSpec, currency: str) -> dict[str, Any]:
    processed = format_datetime(t.processed_at) if t.processed_at is not None else None
    return _compact({"kind": t.kind, "status": t.status, "gateway": t.gateway,
                     "amountSet": money_bag(t.amount, currency), "processedAt": processed})


def _fulfillment(f: CreateFulfillmentSpec) -> dict[str, Any]:
    return _compact({"locationId": f.location_id, "notifyCustomer": f.notify_customer,
                     "trackingNumber": f.tracking_number or None,
                     "trackingCompany": f.tracking_company or None})


def build_order_create_variables(spec: OrderSpec) -> dict[str, Any]:
    """Variables of the ``OrderCreate`` document for ``spec``."""
    if not spec.line_items:
        raise ValueError("an order needs at least one line")
    if len(spec.line_items) > MAX_INPUT_ITEMS:
        raise ValueError(f"Shopify accepts at most {MAX_INPUT_ITEMS} lines")
    cur = spec.currency
    order: dict[str, Any] = {
        "currency": cur,
        "lineItems": [_line_item(i, cur) for i in spec.line_items],
        "financialStatus": spec.financial_status,  # PENDING: no transaction until release
        "buyerAcceptsMarketing": False,  # never opt a TikTok relay address in
        "processedAt": format_datetime(spec.processed_at),
        "sourceIdentifier": spec.source_identifier,
        "sourceName": spec.source_name,
        "sourceUrl": spec.source_url,
        "email": spec.email,
        "note": spec.note,
        "phone": spec.phone,
        "taxesIncluded": spec.taxes_included,
    }
    if spec.shipping_lines:
        order["shippingLines"] = [_shipping_line(s, cur) for s in spec.shipping_lines]
    if spec.discount is not None and spec.discount.amount > 0:
        order["discountCode"] = {
            "itemFixedDiscountCode": {"code": spec.discount.code, "amountSet": money_bag(spec.discount.amount, cur)}
        }
    if spec.customer is not None:
        c = spec.customer
        upsert = _compact({"email": c.email, "firstName": c.first_name, "lastName": c.last_name, "phone": c.phone})
        if c.tags:
            upsert["tags"] = list(c.tags)
        order["customer"] = {"toUpsert": upsert}
    if spec.tags:
        order["tags"] = list(dict.fromkeys(spec.tags))
    if spec.custom_attributes:
        order["customAttributes"] = [{"key": k, "value": v} for k, v in spec.custom_attributes]
    if spec.metafields:
        order["metafields"] = [
            {"namespace": m.namespace, "key": m.key, "type": m.type, "value": m.value} for m in spec.metafields
        ]
    if spec.transactions:
        order["transactions"] = [_transaction(t, cur) for t in spec.transactions]
    if spec.fulfillment is not None:
        order["fulfillmentStatus"] = "FULFILLED"
        if spec.fulfillment.location_id:
            order["fulfillment"] = _fulfillment(spec.fulfillment)
    if spec.shipping_address is not None:
        order["shippingAddress"] = address_input(spec.shipping_address)
    if spec.billing_address is not None:
        order["billingAddress"] = address_input(spec.billing_address)
    return {
        "order": _compact(order),
        "options": {
            "inventoryBehaviour": spec.inventory_behaviour,
            "sendReceipt": False,
            "sendFulfillmentReceipt": False,
        },
        "lineItemsFirst": len(spec.line_items),
    }

