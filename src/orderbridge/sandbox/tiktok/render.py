"""Wire JSON of orders, cancellations, returns and products (string amounts, Unix seconds).

US masking: the recipient is masked in UNPAID, ON_HOLD and CANCELLED, from 30 days after
COMPLETED, and always for FBT orders: name, phone and line 1 starred, line 2 empty, the
postcode cut to its first two digits and stars (``32***``), no L3/L4 district, except that
an FBT order awaiting shipment keeps its city (L3) since TikTok's July 2025 change.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from orderbridge.clock import to_unix
from orderbridge.sandbox.tiktok.constants import (
    DEFAULT_CURRENCY,
    MASK_AFTER_COMPLETED,
    CancelStatus,
    FulfillmentType,
    OrderStatus,
)
from orderbridge.sandbox.tiktok.state import (
    Address,
    Cancellation,
    Order,
    Product,
    ReturnRecord,
)

__all__ = [
    "amount",
    "cancellation_json",
    "is_masked",
    "order_json",
    "product_json",
    "return_json",
    "ts",
]

MASKED_STATUSES = frozenset({OrderStatus.UNPAID, OrderStatus.ON_HOLD, OrderStatus.CANCELLED})
DISPLAY_BY_LINE_STATE = {"CANCELLED": "CANCELLED"}


def amount(value: Decimal) -> str:
    """TikTok renders amounts as strings; zero is "0" as in the doc example."""
    return "0" if value == 0 else f"{value:.2f}"


def ts(value: datetime | None) -> int:
    """Unix seconds, 0 when unset."""
    return to_unix(value) if value is not None else 0


def is_masked(order: Order, now: datetime) -> bool:
    """Whether the recipient is masked right now."""
    if order.fulfillment_type is FulfillmentType.TIKTOK or order.status in MASKED_STATUSES:
        return True
    return (
        order.status is OrderStatus.COMPLETED
        and order.completed_time is not None
        and now >= order.completed_time + MASK_AFTER_COMPLETED
    )


def _star(text: str, keep: int = 1) -> str:
    return " ".join(word[:keep] + "*" * max(len(word) - keep, 1) for word in text.split()) if text else ""


def _masked_postcode(postal: str) -> str:
    return postal[:2] + "***" if postal else ""


def address_json(address: Address, masked: bool, *, keep_city: bool = False) -> dict[str, Any]:
    first, _, last = address.name.partition(" ")
    districts = [
        ("L0", "Country", address.country),
        ("L1", "State", address.state),
        ("L2", "County", address.county),
        ("L3", "City", address.city),
    ]
    if masked:
        phone = address.phone_number
        return {
            "name": _star(address.name), "first_name": _star(first), "last_name": _star(last),
            "phone_number": phone[:5] + "*" * max(len(phone) - 7, 0) + phone[-2:] if phone else "",
            "address_line1": _star(address.address_line1, 0), "address_line2": "",
            "address_line3": "", "address_line4": "", "address_detail": "",
            "postal_code": _masked_postcode(address.postal_code), "region_code": address.region_code,
            "full_address": f"{address.county}, {address.state}".strip(", "),
            "district_info": [
                {"address_level": lvl, "address_level_name": nm, "address_name": val}
                for lvl, nm, val in districts[:4 if keep_city else 3]
            ],
            "delivery_preferences": {"drop_off_location": ""},
        }
    line2 = f" {address.address_line2}" if address.address_line2 else ""
    return {
        "name": address.name, "first_name": first, "last_name": last,
        "phone_number": address.phone_number,
        "address_line1": address.address_line1, "address_line2": address.address_line2,
        "address_line3": "", "address_line4": "", "address_detail": address.address_line2,
        "postal_code": address.postal_code, "region_code": address.region_code,
        "full_address": (
            f"{address.address_line1}{line2}, {address.city}, {address.state_code} {address.postal_code}"
        ),
        "district_info": [
            {"address_level": lvl, "address_level_name": nm, "address_name": val}
            for lvl, nm, val in districts
        ],
        "delivery_preferences": {"drop_off_location": address.drop_off_location},
    }


def order_json(order: Order, now: datetime, *, unmasked: bool = False) -> dict[str, Any]:
    """The order as Get Order Detail returns it."""
    p = order.payment
    masked = is_masked(order, now) and not unmasked
    first_pkg = order.line_items[0] if order.line_items else None
    shipped_line = next((li for li in order.line_items if li.shipped), first_pkg)
    lines = []
    for li in order.line_items:
        display = "CANCELLED" if li.cancelled else order.status.value
        lines.append({
            "id": li.id, "sku_id": li.sku_id, "product_id": li.product_id,
            "product_name": li.product_name, "sku_name": li.sku_name, "seller_sku": li.seller_sku,
            "sku_image": li.sku_image, "currency": DEFAULT_CURRENCY,
            "original_price": amount(li.original_price), "seller_discount": amount(li.seller_discount),
            "platform_discount": amount(li.platform_discount), "sale_price": amount(li.sale_price),
            "item_tax": [{"tax_type": "SALES_TAX", "tax_amount": amount(li.tax_amount),
                          "tax_rate": str(li.tax_rate)}],
            "display_status": display, "package_status": li.package_status.value,
            "package_id": li.package_id, "tracking_number": li.tracking_number,
            "shipping_provider_id": li.shipping_provider_id,
            "shipping_provider_name": li.shipping_provider_name,
            "is_gift": li.is_gift, "sku_type": "NORMAL", "combined_listing_skus": [],
            "cancel_reason": li.cancel_reason, "cancel_user": li.cancel_user,
        })
    data: dict[str, Any] = {
        "id": order.id, "status": order.status.value, "user_id": order.user_id,
        "buyer_email": order.buyer_email, "buyer_message": order.buyer_message,
        "seller_note": order.seller_note,
        "create_time": ts(order.create_time), "paid_time": ts(order.paid_time),
        "update_time": ts(order.update_time), "rts_time": ts(order.rts_time),
        "collection_time": ts(order.collection_time), "delivery_time": ts(order.delivery_time),
        "cancel_time": ts(order.cancel_time), "request_cancel_time": ts(order.request_cancel_time),
        "rts_sla_time": ts(order.rts_sla_time), "tts_sla_time": ts(order.tts_sla_time),
        "shipping_due_time": ts(order.shipping_due_time),
        "collection_due_time": ts(order.collection_due_time),
        "delivery_sla_time": ts(order.delivery_sla_time),
        "delivery_due_time": ts(order.delivery_due_time),
        "cancel_order_sla_time": ts(order.shipping_due_time),
        "is_on_hold_order": order.is_on_hold_order, "is_sample_order": order.is_sample_order,
        "is_cod": False, "is_buyer_request_cancel": order.is_buyer_request_cancel,
        "is_replacement_order": order.is_replacement_order,
        "replaced_order_id": order.replaced_order_id, "is_exchange_order": False,
        "has_updated_recipient_address": order.has_updated_recipient_address,
        "order_type": "NORMAL", "commerce_platform": "TIKTOK_SHOP",
        "fulfillment_type": order.fulfillment_type.value, "shipping_type": order.shipping_type.value,
        "delivery_type": "HOME_DELIVERY",
        "delivery_option_id": order.delivery_option_id,
        "delivery_option_name": order.delivery_option.value,
        "shipping_provider": shipped_line.shipping_provider_name if shipped_line else "",
        "shipping_provider_id": shipped_line.shipping_provider_id if shipped_line else "",
        "tracking_number": shipped_line.tracking_number if shipped_line else "",
        "split_or_combine_tag": "",
        "warehouse_id": order.warehouse_id, "payment_method_name": order.payment_method_name,
        "cancel_reason": order.cancel_reason, "cancellation_initiator": order.cancellation_initiator,
        "packages": [{"id": pid} for pid in order.package_ids],
        "payment": {
            "currency": p.currency,
            "original_total_product_price": amount(p.original_total_product_price),
            "seller_discount": amount(p.seller_discount),
            "platform_discount": amount(p.platform_discount), "sub_total": amount(p.sub_total),
            "original_shipping_fee": amount(p.original_shipping_fee),
            "shipping_fee_seller_discount": amount(p.shipping_fee_seller_discount),
            "shipping_fee_platform_discount": amount(p.shipping_fee_platform_discount),
            "shipping_fee_cofunded_discount": amount(p.shipping_fee_cofunded_discount),
            "shipping_fee": amount(p.shipping_fee), "product_tax": amount(p.product_tax),
            "shipping_fee_tax": amount(p.shipping_fee_tax), "tax": amount(p.tax),
            "retail_delivery_fee": amount(p.retail_delivery_fee),
            "item_insurance_fee": amount(p.item_insurance_fee),
            "item_insurance_tax": amount(p.item_insurance_tax), "handling_fee": amount(p.handling_fee),
            "total_amount": amount(p.total_amount),
        },
        "recipient_address": address_json(
            order.address, masked,
            keep_city=order.fulfillment_type is FulfillmentType.TIKTOK
            and order.status is OrderStatus.AWAITING_SHIPMENT),
        "line_items": lines,
    }
    return data


def cancellation_json(cancel: Cancellation, order: Order) -> dict[str, Any]:
    """A Search Cancellations record."""
    by_id = {li.id: li for li in order.line_items}
    data: dict[str, Any] = {
        "cancel_id": cancel.id, "order_id": cancel.order_id, "cancel_type": cancel.cancel_type.value,
        "cancel_status": cancel.status.value, "role": cancel.role.value,
        "cancel_reason": cancel.reason, "cancel_reason_text": cancel.reason_text,
        "create_time": ts(cancel.create_time), "update_time": ts(cancel.update_time),
        "refund_amount": _refund(cancel.refund_subtotal, cancel.refund_shipping_fee, cancel.refund_tax),
        "cancel_line_items": [
            {"order_line_item_id": lid, "sku_id": by_id[lid].sku_id, "seller_sku": by_id[lid].seller_sku,
             "product_name": by_id[lid].product_name, "sku_name": by_id[lid].sku_name,
             "product_image": {"url": by_id[lid].sku_image}}
            for lid in cancel.line_ids if lid in by_id
        ],
        "seller_next_action_response": [],
    }
    if cancel.status is CancelStatus.PENDING and cancel.deadline is not None:
        data["seller_next_action_response"] = [
            {"action": "SELLER_RESPOND_CANCEL", "deadline": ts(cancel.deadline)}
        ]
    return data


def _refund(subtotal: Decimal, shipping: Decimal, tax: Decimal,
            retail_delivery_fee: Decimal | None = None) -> dict[str, str]:
    body = {
        "currency": DEFAULT_CURRENCY,
        "refund_total": amount(subtotal + shipping + tax + (retail_delivery_fee or Decimal("0"))),
        "refund_subtotal": amount(subtotal), "refund_shipping_fee": amount(shipping),
        "refund_tax": amount(tax),
    }
    if retail_delivery_fee is not None:
        body["retail_delivery_fee"] = amount(retail_delivery_fee)
    return body


def return_json(record: ReturnRecord, order: Order) -> dict[str, Any]:
    """A Search Returns record (field names from the Return and Refund API reference)."""
    by_id = {li.id: li for li in order.line_items}
    body: dict[str, Any] = {
        "return_id": record.id, "order_id": record.order_id, "return_type": record.return_type.value,
        "return_status": record.status.value, "role": record.role.value,
        "return_reason": record.reason, "return_reason_text": record.reason,
        "create_time": ts(record.create_time), "update_time": ts(record.update_time),
        "refund_amount": _refund(record.refund_subtotal, record.refund_shipping_fee, record.refund_tax,
                                 record.refund_retail_delivery_fee),
        "return_line_items": [
            {"return_line_item_id": f"{record.id}{n:02d}", "order_line_item_id": lid,
             "sku_id": by_id[lid].sku_id, "seller_sku": by_id[lid].seller_sku,
             "product_name": by_id[lid].product_name, "sku_name": by_id[lid].sku_name,
             "refund_amount": _refund(by_id[lid].sale_price, Decimal("0"), by_id[lid].tax_amount)}
            for n, lid in enumerate(record.line_ids) if lid in by_id
        ],
        "seller_next_action_response": (
            [{"action": record.next_action, "deadline": ts(record.deadline)}]
            if record.deadline is not None and record.next_action else []),
        "can_buyer_keep_item": record.buyer_keep_item,
        "buyer_rejected_partial_refund": record.buyer_rejected_partial_refund,
    }
    optional = {
        "arbitration_status": record.arbitration_status,
        "return_tracking_number": record.return_tracking_number,
        "return_provider_name": record.return_provider_name,
        "pre_return_id": record.pre_return_id, "next_return_id": record.next_return_id,
        "seller_proposed_return_type": record.seller_proposed_return_type,
        "replacement_order_id": record.replacement_order_id,  # sandbox extra: the new order
    }
    body.update({k: v for k, v in optional.items() if v})
    if record.partial_refund is not None:
        body["partial_refund"] = {"currency": DEFAULT_CURRENCY, "amount": amount(record.partial_refund)}
    return body


def product_json(product: Product) -> dict[str, Any]:
    """A Search Products record."""
    return {
        "id": product.id, "title": product.title, "status": product.status,
        "create_time": ts(product.create_time), "update_time": ts(product.update_time),
        "skus": [
            {"id": s.id, "seller_sku": s.seller_sku,
             "price": {"currency": DEFAULT_CURRENCY, "sale_price": amount(s.price),
                       "tax_exclusive_price": amount(s.price)},
             "inventory": [{"warehouse_id": w, "quantity": q} for w, q in s.inventory.items()]}
            for s in product.skus
        ],
    }
