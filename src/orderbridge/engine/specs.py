"""``CreateShopifyOrder`` -> the Shopify client's ``OrderSpec`` (lifecycle.md "What the
Shopify order carries").

Everything money-related comes from the action's ``MoneyPlan``, so the Shopify total is the
plan's ``expected_total`` to the cent (``spec_total`` recomputes it from the spec the way
Shopify does; the tests hold them equal):

    Σ unit price × quantity − the one discount + Σ line tax + Σ shipping lines + their tax

Lines are variants, or custom lines (title, SKU, price) for unmapped SKUs; every line carries
the TikTok ``sku_id`` as a line property so a later swap (and ``decide``'s line map) can find
it. Tax lines are channel-liable (TikTok remits US sales tax). The order is PENDING with no
transaction, never sends receipts, never opts the relay e-mail in to marketing (the builder
fixes those), and claims stock ignoring policy except for a Fulfilled-by-TikTok import.

An order TikTok ships, imported under ``import_fulfilled`` (``action.fulfilled``), is paid
on TikTok: it is created PAID with one SALE transaction of gateway "TikTok Shop" for the
plan's ``expected_total`` (none for a $0 order), so the Shopify total and the amount
received both equal what the buyer paid to the cent; and already fulfilled at the
connection's location with TikTok's tracking when known, the customer never notified.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from orderbridge.adapters.shopify.builders import (
    AddressSpec,
    CreateFulfillmentSpec,
    CustomerSpec,
    DiscountSpec,
    LineItemSpec,
    MetafieldSpec,
    OrderSpec,
    ShippingLineSpec,
    TaxLineSpec,
    TransactionSpec,
)
from orderbridge.adapters.shopify.translate import TIKTOK_SKU_ATTRIBUTE
from orderbridge.domain.actions import CreateLine, CreateShopifyOrder
from orderbridge.domain.address import ShippingAddress, split_name
from orderbridge.domain.money import MoneyPlan, PlannedLine, TaxLine
from orderbridge.domain.policy import DEFAULT_CUSTOMER_NAME

__all__ = [
    "BYPASS_INVENTORY",
    "CLAIM_INVENTORY",
    "DISCOUNT_CODE",
    "METAFIELD_NAMESPACE",
    "PAYMENT_GATEWAY",
    "address_spec",
    "order_spec",
    "spec_total",
]

DISCOUNT_CODE = "TIKTOK-SHOP"  # the one code: seller + platform discount together
METAFIELD_NAMESPACE = "orderbridge"
CLAIM_INVENTORY = "DECREMENT_IGNORING_POLICY"  # TikTok already sold the stock
BYPASS_INVENTORY = "BYPASS"  # FBT: the stock is in TikTok's warehouse, not Shopify's
SHIPPING_SOURCE = "tiktok_shop"
PAYMENT_GATEWAY = "TikTok Shop"  # the name the release path's manual payment uses too
CUSTOMER_TAGS = ("TikTok",)
RELAY_EMAIL_TAG = "tiktok-relay-email"
SHOP_ID_ATTRIBUTE = "tiktok_shop_id"
_RATE_PLACES = Decimal("0.000001")
_CENT = Decimal("0.01")


def _rate(tax: TaxLine, base: Decimal) -> Decimal:
    # Shopify wants a rate; the amount (priceSet) is what counts. Without TikTok's rate,
    # state the effective one so the order page reads sensibly.
    if tax.rate is not None:
        return tax.rate
    if base <= 0:
        return Decimal("0")
    return (tax.amount / base).quantize(_RATE_PLACES, rounding=ROUND_HALF_UP)


def _tax_lines(taxes: tuple[TaxLine, ...], base: Decimal) -> tuple[TaxLineSpec, ...]:
    return tuple(
        TaxLineSpec(title=t.title, rate=_rate(t, base), amount=t.amount, channel_liable=True)
        for t in taxes
    )


def _planned_for(line: CreateLine, index: int, plan: MoneyPlan) -> PlannedLine | None:
    # decide builds the action's lines from the plan's, in order; match by units to be safe.
    if index < len(plan.lines) and plan.lines[index].group.line_ids == line.line_ids:
        return plan.lines[index]
    return next((p for p in plan.lines if p.group.line_ids == line.line_ids), None)


def _line(line: CreateLine, planned: PlannedLine | None) -> LineItemSpec:
    base = line.unit_price * line.quantity
    taxes = _tax_lines(planned.tax_lines, base) if planned is not None else ()
    properties = ((TIKTOK_SKU_ATTRIBUTE, line.tiktok_sku_id),) if line.tiktok_sku_id else ()
    if line.variant_id:
        return LineItemSpec(
            quantity=line.quantity,
            unit_price=line.unit_price,
            variant_id=line.variant_id,
            tax_lines=taxes,
            properties=properties,
        )
    return LineItemSpec(
        quantity=line.quantity,
        unit_price=line.unit_price,
        title=line.title.strip() or line.sku.strip() or f"TikTok item {line.tiktok_sku_id}",
        sku=line.sku.strip() or None,
        tax_lines=taxes,
        properties=properties,
        requires_shipping=True,
        taxable=True,
    )


def _shipping_lines(action: CreateShopifyOrder) -> tuple[ShippingLineSpec, ...]:
    lines = []
    for index, planned in enumerate(action.money.shipping_lines):
        title = (action.shipping_title.strip() or planned.title) if index == 0 else planned.title
        lines.append(
            ShippingLineSpec(
                title=title,
                price=planned.amount,
                code=planned.kind.value,
                source=SHIPPING_SOURCE,
                tax_lines=_tax_lines(planned.tax_lines, planned.amount),
            )
        )
    return tuple(lines)


def address_spec(address: ShippingAddress) -> AddressSpec:
    """The Shopify address for a normalised recipient (the phone travels with it)."""
    return AddressSpec(
        first_name=address.first_name or None,
        last_name=address.last_name or None,
        address1=address.address1 or None,
        address2=address.address2 or None,
        city=address.city or None,
        province_code=address.province_code or None,
        country_code=address.country_code or None,
        zip=address.zip or None,
        phone=address.phone,
    )


def _customer(action: CreateShopifyOrder) -> CustomerSpec:
    first, last = split_name(action.customer_name.strip() or DEFAULT_CUSTOMER_NAME)
    tags = CUSTOMER_TAGS + ((RELAY_EMAIL_TAG,) if RELAY_EMAIL_TAG in action.tags else ())
    return CustomerSpec(
        email=action.email or None, first_name=first or None, last_name=last or None, tags=tags
    )


def _attributes(action: CreateShopifyOrder) -> tuple[tuple[str, str], ...]:
    plan = action.money
    extra = [
        ("tiktok_shipping_seller_discount", str(plan.shipping_seller_discount)),
        ("tiktok_shipping_platform_discount", str(plan.shipping_platform_discount)),
    ]
    if plan.free_order_discount:
        extra.append(("tiktok_free_order_discount", str(plan.free_order_discount)))
    seen: dict[str, str] = {}
    for key, value in (*action.custom_attributes, *extra):
        seen.setdefault(key, value)
    return tuple(seen.items())


def _metafields(action: CreateShopifyOrder) -> tuple[MetafieldSpec, ...]:
    fields = [MetafieldSpec(METAFIELD_NAMESPACE, "tiktok_order_id", action.tiktok_order_id)]
    shop_id = dict(action.custom_attributes).get(SHOP_ID_ATTRIBUTE, "")
    if shop_id:
        fields.append(MetafieldSpec(METAFIELD_NAMESPACE, SHOP_ID_ATTRIBUTE, shop_id))
    return tuple(fields)


def order_spec(
    action: CreateShopifyOrder, *, location_id: str | None, now: datetime | None = None
) -> OrderSpec:
    """The ``OrderSpec`` for ``action``.

    ``location_id`` is the connection's Shopify location: where an imported-fulfilled order
    is fulfilled (without one, Shopify's default location).
    ``processedAt`` is TikTok's create time, never later than ``now`` (Shopify refuses a
    future time; a clock a second ahead must not block the order). Raises ``ValueError``
    when the action cannot make an order (no lines): a local refusal.
    """
    plan = action.money
    if not action.lines:
        raise ValueError(f"TikTok order {action.tiktok_order_id} has no units left to create")
    processed = action.processed_at or now
    if processed is None:
        raise ValueError("processed_at: neither TikTok's create time nor now is known")
    if now is not None and processed > now:
        processed = now
    address = address_spec(action.shipping_address) if action.shipping_address else None
    discount = plan.discount.quantize(_CENT, rounding=ROUND_HALF_UP)
    return OrderSpec(
        currency=plan.currency or "USD",
        line_items=tuple(
            _line(line, _planned_for(line, i, plan)) for i, line in enumerate(action.lines)
        ),
        processed_at=processed,
        source_identifier=action.source_identifier,
        email=action.email or None,
        customer=_customer(action),
        shipping_lines=_shipping_lines(action),
        discount=DiscountSpec(code=DISCOUNT_CODE, amount=discount) if discount > 0 else None,
        source_name=action.source_name or None,
        tags=tuple(dict.fromkeys(action.tags)),
        custom_attributes=_attributes(action),
        metafields=_metafields(action),
        note=action.note or None,
        shipping_address=address,
        billing_address=address,
        inventory_behaviour=CLAIM_INVENTORY if action.claim_inventory else BYPASS_INVENTORY,
        financial_status=action.financial_status,
        transactions=_transactions(action, processed),
        fulfillment=_fulfillment(action, location_id),
    )


def _transactions(action: CreateShopifyOrder, processed: datetime) -> tuple[TransactionSpec, ...]:
    """The TikTok payment of a PAID import: the plan's total, to the cent (none for $0)."""
    total = action.money.expected_total.quantize(_CENT, rounding=ROUND_HALF_UP)
    if action.financial_status != "PAID" or total <= 0:
        return ()
    return (TransactionSpec(amount=total, gateway=PAYMENT_GATEWAY, processed_at=processed),)


def _fulfillment(action: CreateShopifyOrder, location_id: str | None) -> CreateFulfillmentSpec | None:
    if not action.fulfilled:
        return None
    return CreateFulfillmentSpec(
        location_id=location_id,
        tracking_number=action.tracking_number.strip() or None,
        tracking_company=action.tracking_company.strip() or None,
    )


def spec_total(spec: OrderSpec) -> Decimal:
    """The total Shopify will compute for ``spec`` (lines − discount + taxes + shipping)."""
    lines = sum((li.unit_price * li.quantity for li in spec.line_items), Decimal("0"))
    discount = min(spec.discount.amount, lines) if spec.discount is not None else Decimal("0")
    taxes = sum((t.amount for li in spec.line_items for t in li.tax_lines), Decimal("0"))
    shipping = sum((s.price for s in spec.shipping_lines), Decimal("0"))
    shipping_tax = sum((t.amount for s in spec.shipping_lines for t in s.tax_lines), Decimal("0"))
    total = lines - discount + taxes + shipping + shipping_tax
    return total.quantize(_CENT, rounding=ROUND_HALF_UP)
