"""TikTok payload models -> domain values (``orderbridge.domain``).

The vendor models (``models.py``, ``after_sale.py``) already absorb TikTok's empty spellings;
this module turns them into the frozen domain types ``decide()`` reads. Only an order that
cannot be identified (no id) is refused with ``TranslationError``; every other oddity (an
unknown status, a missing amount, a naive time, a malformed bundle list) becomes a default
value, so one strange field never stops an order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from orderbridge.adapters.tiktok.after_sale import Cancellation as VendorCancellation
from orderbridge.adapters.tiktok.after_sale import ReturnRequest
from orderbridge.adapters.tiktok.models import Address, ItemTax, Order
from orderbridge.adapters.tiktok.models import LineItem as VendorLineItem
from orderbridge.adapters.tiktok.models import Payment as VendorPayment
from orderbridge.domain.observed import (
    Cancellation,
    CancellationType,
    ReturnRecord,
    parse_cancellation_status,
)
from orderbridge.domain.order import (
    CombinedListingSku,
    LineItem,
    Payment,
    Recipient,
    TikTokOrder,
    TikTokStatus,
    is_masked,
    parse_status,
)
from orderbridge.domain.returns import goods_back, money_moved, normalise_status

__all__ = [
    "SELLER_RESPOND_CANCEL",
    "TranslationError",
    "to_domain_cancellation",
    "to_domain_order",
    "to_domain_recipient",
    "to_domain_return",
]

ZERO = Decimal("0")
DEFAULT_CURRENCY = "USD"
# The next action TikTok asks of the seller on a pending buyer cancellation.
SELLER_RESPOND_CANCEL = "SELLER_RESPOND_CANCEL"
# Statuses in which TikTok sends the recipient empty or masked (lifecycle.md).
_ADDRESS_WITHHELD = frozenset({TikTokStatus.UNPAID, TikTokStatus.ON_HOLD})


class TranslationError(ValueError):
    """A TikTok payload too broken to stand for an order at all (e.g. no order id)."""


def _utc(value: datetime | None) -> datetime | None:
    # The vendor model makes Unix seconds aware; an ISO string without an offset is taken
    # as UTC (TikTok's wire is UTC seconds) rather than refused.
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _amount(value: Decimal | None) -> Decimal:
    return ZERO if value is None else value


def _payment(payment: VendorPayment | None) -> Payment:
    if payment is None:
        return Payment()
    return Payment(
        currency=payment.currency.strip().upper() or DEFAULT_CURRENCY,
        original_total_product_price=_amount(payment.original_total_product_price),
        seller_discount=_amount(payment.seller_discount),
        platform_discount=_amount(payment.platform_discount),
        sub_total=_amount(payment.sub_total),
        original_shipping_fee=_amount(payment.original_shipping_fee),
        shipping_fee_seller_discount=_amount(payment.shipping_fee_seller_discount),
        shipping_fee_platform_discount=_amount(payment.shipping_fee_platform_discount),
        shipping_fee_cofunded_discount=_amount(payment.shipping_fee_cofunded_discount),
        shipping_fee=_amount(payment.shipping_fee),
        product_tax=_amount(payment.product_tax),
        shipping_fee_tax=_amount(payment.shipping_fee_tax),
        tax=_amount(payment.tax),
        retail_delivery_fee=_amount(payment.retail_delivery_fee),
        item_insurance_fee=_amount(payment.item_insurance_fee),
        item_insurance_tax=_amount(payment.item_insurance_tax),
        handling_fee=_amount(payment.handling_fee),
        total_amount=_amount(payment.total_amount),
    )


def _tax(taxes: Iterable[ItemTax]) -> tuple[Decimal, Decimal | None]:
    """The unit's tax (sum of ``item_tax``) and its rate when TikTok gives exactly one."""
    entries = list(taxes)
    total = sum((_amount(t.tax_amount) for t in entries), ZERO)
    rates = [t.tax_rate for t in entries if t.tax_rate is not None]
    return total, (rates[0] if len(entries) == 1 and len(rates) == 1 else None)


def _text(value: Any) -> str:
    """A raw JSON value as trimmed text ("" for null), as line-item codes are trimmed."""
    return "" if value is None else str(value).strip()


def _count(value: Any) -> int:
    try:
        count = int(value)
    except (TypeError, ValueError):
        return 1
    return count if count > 0 else 1


def _bundle(raw: Any) -> tuple[CombinedListingSku, ...]:
    """``combined_listing_skus`` (not in the typed model: read from the raw JSON, tolerantly)."""
    if not isinstance(raw, list):
        return ()
    out = []
    for entry in raw:
        if not isinstance(entry, dict) or not entry.get("sku_id"):
            continue
        out.append(
            CombinedListingSku(
                sku_id=_text(entry.get("sku_id")),
                product_id=_text(entry.get("product_id")),
                seller_sku=_text(entry.get("seller_sku")),
                sku_count=_count(entry.get("sku_count", 1)),
            )
        )
    return tuple(out)


def _line_item(item: VendorLineItem) -> LineItem:
    tax, rate = _tax(item.item_tax)
    return LineItem(
        id=item.id,
        sku_id=item.sku_id,
        product_id=item.product_id,
        product_name=item.product_name,
        sku_name=item.sku_name,
        seller_sku=item.seller_sku.strip(),
        original_price=_amount(item.original_price),
        sale_price=_amount(item.sale_price),
        seller_discount=_amount(item.seller_discount),
        platform_discount=_amount(item.platform_discount),
        tax=tax,
        tax_rate=rate,
        display_status=item.display_status,
        package_status=item.package_status,
        package_id=item.package_id,
        tracking_number=item.tracking_number,
        shipping_provider_id=item.shipping_provider_id,
        shipping_provider_name=item.shipping_provider_name,
        cancel_user=item.cancel_user,
        cancel_reason=item.cancel_reason,
        is_gift=item.is_gift,
        combined_listing_skus=_bundle(item.raw.get("combined_listing_skus")),
    )


def to_domain_recipient(address: Address | None, status: TikTokStatus) -> Recipient | None:
    """The recipient; ``masked`` when TikTok starred a part a shipping address needs (name,
    street, postcode, state, city) or withheld them while unpaid/on hold. A starred phone or
    unit line alone does not mask it (the domain drops those parts with a warning).

    City is district L3, county L2, state L1 (as TikTok names it; the domain turns it into
    a USPS code). ``None`` when TikTok sent no address at all.
    """
    if address is None:
        return None
    identifying = (
        address.name,
        address.first_name,
        address.last_name,
        address.address_line1,
        address.postal_code,
        address.district("L1"),
        address.district("L3"),
    )
    starred = any(is_masked(text) for text in identifying)
    withheld = status in _ADDRESS_WITHHELD and not (
        address.name.strip() and address.address_line1.strip() and address.postal_code.strip()
    )
    return Recipient(
        name=address.name.strip(),
        first_name=address.first_name.strip(),
        last_name=address.last_name.strip(),
        phone=address.phone_number.strip(),
        address_line1=address.address_line1.strip(),
        address_line2=address.address_line2.strip(),
        address_line3=address.address_line3.strip(),
        address_line4=address.address_line4.strip(),
        city=address.district("L3").strip(),
        state=address.district("L1").strip(),
        county=address.district("L2").strip(),
        postal_code=address.postal_code.strip(),
        region_code=address.region_code.strip().upper(),
        full_address=address.full_address.strip(),
        masked=starred or withheld,
    )


def to_domain_order(order: Order) -> TikTokOrder:
    """The domain order for a Get Order Detail / List entry.

    Raises ``TranslationError`` only when the order has no id. The status goes through
    ``parse_status`` (``CANCEL`` is ``CANCELLED``, unknown text ``UNKNOWN`` with the raw kept).
    """
    order_id = order.id.strip()
    if not order_id:
        raise TranslationError(
            "TikTok order without an id: cannot link it to anything "
            f"(status {order.status!r}, keys {sorted(order.raw)[:12]})"
        )
    status = parse_status(order.status)
    return TikTokOrder(
        id=order_id,
        status=status,
        raw_status=order.status,
        user_id=order.user_id,
        buyer_email=order.buyer_email.strip(),
        buyer_message=order.buyer_message,
        seller_note=order.seller_note,
        create_time=_utc(order.create_time),
        paid_time=_utc(order.paid_time),
        update_time=_utc(order.update_time),
        rts_time=_utc(order.rts_time),
        collection_time=_utc(order.collection_time),
        delivery_time=_utc(order.delivery_time),
        cancel_time=_utc(order.cancel_time),
        request_cancel_time=_utc(order.request_cancel_time),
        rts_sla_time=_utc(order.rts_sla_time),
        tts_sla_time=_utc(order.tts_sla_time),
        delivery_sla_time=_utc(order.delivery_sla_time),
        shipping_due_time=_utc(order.shipping_due_time),
        collection_due_time=_utc(order.collection_due_time),
        delivery_due_time=_utc(order.delivery_due_time),
        is_on_hold_order=order.is_on_hold_order,
        is_sample_order=order.is_sample_order,
        is_replacement_order=order.is_replacement_order,
        replaced_order_id=order.replaced_order_id,
        is_exchange_order=order.is_exchange_order,
        is_buyer_request_cancel=order.is_buyer_request_cancel,
        is_cod=order.is_cod,
        has_updated_recipient_address=order.has_updated_recipient_address,
        fulfillment_type=order.fulfillment_type,
        shipping_type=order.shipping_type,
        delivery_type=order.delivery_type,
        delivery_option_id=order.delivery_option_id,
        delivery_option_name=order.delivery_option_name,
        warehouse_id=order.warehouse_id,
        cancel_reason=order.cancel_reason,
        cancellation_initiator=order.cancellation_initiator,
        order_type=order.order_type,
        payment=_payment(order.payment),
        recipient=to_domain_recipient(order.recipient_address, status),
        line_items=tuple(_line_item(item) for item in order.line_items),
        packages=tuple(p.id for p in order.packages if p.id),
    )


def _cancel_type(raw: str, role: str) -> CancellationType:
    try:
        return CancellationType(raw.strip().upper())
    except ValueError:
        # An unknown type: a buyer's record needs the seller's review, anything else is done.
        is_buyer = role.strip().upper() == "BUYER"
        return CancellationType.BUYER_CANCEL if is_buyer else CancellationType.CANCEL


def to_domain_cancellation(record: VendorCancellation) -> Cancellation:
    """A Search Cancellations record; the deadline is the SELLER_RESPOND_CANCEL one."""
    actions = record.seller_next_action_response
    respond = next((a for a in actions if a.action.upper() == SELLER_RESPOND_CANCEL), None)
    deadline = respond.deadline if respond is not None else None
    if deadline is None:
        # An action TikTok renamed still carries the time the seller must answer by.
        deadline = next((a.deadline for a in actions if a.deadline is not None), None)
    return Cancellation(
        cancel_id=record.cancel_id,
        type=_cancel_type(record.cancel_type, record.role),
        status=parse_cancellation_status(record.cancel_status),
        raw_status=record.cancel_status,
        role=record.role.strip().upper(),
        reason=record.cancel_reason,
        reason_text=record.cancel_reason_text,
        line_item_ids=tuple(
            li.order_line_item_id for li in record.cancel_line_items if li.order_line_item_id
        ),
        deadline=_utc(deadline),
    )


def to_domain_return(record: ReturnRequest) -> ReturnRecord:
    """A Search Returns record. ``refunded`` once TikTok says the money moved (COMPLETE, or a
    replacement refunded instead); ``received`` once a return-and-refund completed (TikTok
    refunds a return only after the seller confirmed receipt)."""
    status = normalise_status(record.return_status)
    kind = record.return_type.strip().upper() or "REFUND"
    amount = record.refund_amount
    keeps = record.can_buyer_keep_item or (
        record.seller_proposed_return_type.strip().upper() == "PARTIAL_REFUND"
        and record.partial_refund is not None
    )
    deadlines = [a.deadline for a in record.seller_next_action_response if a.deadline is not None]
    result = ReturnRecord(
        return_id=record.return_id,
        type=kind,
        status=status,
        refunded=money_moved(status),
        refund_total=_amount(amount.refund_total) if amount else ZERO,
        refund_shipping=_amount(amount.refund_shipping_fee) if amount else ZERO,
        refund_tax=_amount(amount.refund_tax) if amount else ZERO,
        line_item_ids=tuple(
            li.order_line_item_id for li in record.return_line_items if li.order_line_item_id
        ),
        arbitration_status=record.arbitration_status.strip().upper(),
        buyer_keeps_item=keeps,
        deadline=_utc(min(deadlines)) if deadlines else None,
        order_id=record.order_id,
    )
    return replace(result, received=goods_back(result))
