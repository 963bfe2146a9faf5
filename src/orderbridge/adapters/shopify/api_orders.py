"""Store, order, payment, cancellation and refund operations of the Shopify client."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from orderbridge.adapters.shopify import ops_orders as ops
from orderbridge.adapters.shopify.builders import (
    AddressSpec,
    OrderSpec,
    RefundLineSpec,
    address_input,
    build_order_create_variables,
    format_datetime,
    money,
)
from orderbridge.adapters.shopify.models import (
    CancelResult,
    CreatedOrder,
    Job,
    Location,
    OrderCancelReason,
    OrderFulfillmentOrders,
    OrderSnapshot,
    OrderSummary,
    PaymentResult,
    ShopInfo,
    UpdatedOrder,
)
from orderbridge.adapters.shopify.models_edits import RefundResult, RefundState, SuggestedRefund
from orderbridge.adapters.shopify.ops_fulfillment import refund_create_document, supports_version
from orderbridge.adapters.shopify.throttle import Priority
from orderbridge.adapters.shopify.transport import API_NAME, ShopifyTransport
from orderbridge.errors import NotFound, Rejected

__all__ = ["ORDER_INPUT_PHONE_SINCE", "STAFF_NOTE_MAX_LENGTH", "OrdersApi", "search_term"]

STAFF_NOTE_MAX_LENGTH = 255  # orderCancel's staffNote limit
DEFAULT_SEARCH_FIRST = 10
DEFAULT_LOCATIONS_FIRST = 50
DEFAULT_MANUAL_PAYMENT_METHOD = "TikTok Shop"
# ``OrderInput.phone`` is documented from 2026-01; 2025-10 has no order-level phone in
# ``orderUpdate``, so there the phone travels on the shipping address.
ORDER_INPUT_PHONE_SINCE = "2026-01"
_PLAIN_SEARCH_VALUE = re.compile(r"^[A-Za-z0-9_.\-]+$")


def search_term(name: str, value: str) -> str:
    """``name:value`` in Shopify search syntax, quoting the value when it needs it."""
    if _PLAIN_SEARCH_VALUE.match(value):
        return f"{name}:{value}"
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{name}:"{escaped}"'


def _object(payload: Any, key: str, operation: str) -> dict[str, Any]:
    value = payload.get(key) if isinstance(payload, dict) else None
    if not isinstance(value, dict):
        raise Rejected(f"{operation}: response has no {key}", api=API_NAME, operation=operation)
    return value


def _nodes(payload: Any) -> list[dict[str, Any]]:
    nodes = payload.get("nodes") if isinstance(payload, dict) else None
    return [n for n in nodes or [] if isinstance(n, dict)]


class OrdersApi(ShopifyTransport):
    """Store info, orders, payments, cancellation, refunds."""

    async def shop_info(self, *, priority: int = Priority.READ) -> ShopInfo:
        """The store and the access scopes granted to our token (for the scope check)."""
        result = await self.execute(ops.SHOP_INFO, {}, priority=priority)
        shop = result.payload if isinstance(result.payload, dict) else {}
        installation = result.data.get("currentAppInstallation") or {}
        scopes = [s.get("handle") for s in installation.get("accessScopes") or [] if isinstance(s, dict)]
        payload = {**shop, "accessScopes": [s for s in scopes if isinstance(s, str)]}
        model = ShopInfo.model_validate(payload)
        model.raw = result.data
        return model

    async def locations(self, *, first: int = DEFAULT_LOCATIONS_FIRST, priority: int = Priority.READ) -> list[Location]:
        """The store's locations (first ``first``)."""
        result = await self.execute(ops.LOCATIONS, {"first": first}, priority=priority)
        return [Location.model_validate(n) for n in _nodes(result.payload)]

    async def create_order(
        self, spec: OrderSpec, *, priority: int = Priority.CREATE_AND_HOLD, order_ref: str | None = None
    ) -> CreatedOrder:
        """``orderCreate``. Never retried after an unknown outcome: ``RemoteTimeout`` then."""
        variables = build_order_create_variables(spec)
        result = await self.execute(
            ops.ORDER_CREATE, variables, priority=priority, order_ref=order_ref or spec.source_identifier
        )
        return CreatedOrder.from_raw(_object(result.payload, "order", ops.ORDER_CREATE.name))

    async def update_order(
        self,
        order_id: str,
        *,
        shipping_address: AddressSpec | None = None,
        tags: Sequence[str] | None = None,
        note: str | None = None,
        custom_attributes: Sequence[tuple[str, str]] | None = None,
        email: str | None = None,
        phone: str | None = None,
        priority: int = Priority.RELEASE,
    ) -> UpdatedOrder:
        """``orderUpdate``: only the fields given are sent (each overwrites Shopify's value)."""
        order: dict[str, Any] = {"id": order_id}
        if shipping_address is not None:
            order["shippingAddress"] = address_input(shipping_address)
        if tags is not None:
            order["tags"] = list(dict.fromkeys(tags))
        if note is not None:
            order["note"] = note
        if custom_attributes is not None:
            order["customAttributes"] = [{"key": k, "value": v} for k, v in custom_attributes]
        if email is not None:
            order["email"] = email
        if phone is not None:
            if supports_version(self.api_version, ORDER_INPUT_PHONE_SINCE):
                order["phone"] = phone
            elif "shippingAddress" in order:
                order["shippingAddress"]["phone"] = phone
            else:
                raise ValueError(
                    f"API {self.api_version} has no OrderInput.phone: pass the phone with the shipping address"
                )
        result = await self.execute(ops.ORDER_UPDATE, {"input": order}, priority=priority, order_ref=order_id)
        return UpdatedOrder.from_raw(_object(result.payload, "order", ops.ORDER_UPDATE.name))

    async def get_order(
        self,
        order_id: str,
        *,
        line_items_first: int = ops.DEFAULT_ORDER_LINE_ITEMS_FIRST,
        fulfillment_orders_first: int = ops.DEFAULT_FULFILLMENT_ORDERS_FIRST,
        fulfillment_order_line_items_first: int = ops.DEFAULT_FULFILLMENT_ORDER_LINE_ITEMS_FIRST,
        fulfillments_first: int = ops.DEFAULT_FULFILLMENTS_FIRST,
        fulfillment_line_items_first: int = ops.DEFAULT_FULFILLMENT_LINE_ITEMS_FIRST,
        priority: int = Priority.READ,
    ) -> OrderSnapshot:
        """The order snapshot; ``NotFound`` when Shopify returns ``order: null`` (deleted)."""
        variables = {
            "id": order_id,
            "lineItemsFirst": line_items_first,
            "fulfillmentOrdersFirst": fulfillment_orders_first,
            "fulfillmentOrderLineItemsFirst": fulfillment_order_line_items_first,
            "fulfillmentsFirst": fulfillments_first,
            "fulfillmentLineItemsFirst": fulfillment_line_items_first,
        }
        result = await self.execute(ops.ORDER, variables, priority=priority, order_ref=order_id)
        if not isinstance(result.payload, dict):
            raise NotFound(f"Shopify order {order_id} not found", api=API_NAME, operation=ops.ORDER.name,
                           request_id=result.request_id)
        snapshot = OrderSnapshot.from_raw(result.payload)
        snapshot.truncated = _truncated(result.payload, fulfillments_first)
        return snapshot

    async def get_fulfillment_orders(
        self,
        order_id: str,
        *,
        fulfillment_orders_first: int,
        priority: int = Priority.READ,
    ) -> OrderFulfillmentOrders:
        """Only the order's fulfilment orders with their status and holds (no lines, no
        location): the cheapest read that finds what to hold. ``NotFound`` when the order
        is gone."""
        variables = {"id": order_id, "fulfillmentOrdersFirst": fulfillment_orders_first}
        result = await self.execute(ops.ORDER_FULFILLMENT_ORDERS, variables, priority=priority,
                                    order_ref=order_id)
        if not isinstance(result.payload, dict):
            raise NotFound(f"Shopify order {order_id} not found", api=API_NAME,
                           operation=ops.ORDER_FULFILLMENT_ORDERS.name, request_id=result.request_id)
        found = OrderFulfillmentOrders.from_raw(result.payload)
        found.truncated = _truncated(result.payload, None)
        return found

    async def search_orders(
        self, query: str, *, first: int = DEFAULT_SEARCH_FIRST, priority: int = Priority.READ
    ) -> list[OrderSummary]:
        """``orders(query:)``, newest first. Shopify's index lags behind new orders."""
        result = await self.execute(ops.ORDERS, {"first": first, "query": query}, priority=priority)
        return [OrderSummary.model_validate(n) for n in _nodes(result.payload)]

    async def find_orders_by_source_identifier(
        self, source_identifier: str, *, priority: int = Priority.READ
    ) -> list[OrderSummary]:
        """Orders whose ``sourceIdentifier`` is ``source_identifier`` (exact match kept)."""
        found = await self.search_orders(search_term("source_identifier", source_identifier), priority=priority)
        return [o for o in found if o.source_identifier == source_identifier]

    async def find_orders_by_tag(self, tag: str, *, priority: int = Priority.READ) -> list[OrderSummary]:
        """Orders carrying ``tag`` (case-insensitive, as Shopify tags are)."""
        found = await self.search_orders(search_term("tag", tag), priority=priority)
        return [o for o in found if any(t.lower() == tag.lower() for t in o.tags)]

    async def mark_as_paid(self, order_id: str, *, priority: int = Priority.RELEASE) -> PaymentResult:
        """``orderMarkAsPaid``: a sale for the whole outstanding amount."""
        result = await self.execute(ops.ORDER_MARK_AS_PAID, {"input": {"id": order_id}}, priority=priority,
                                    order_ref=order_id)
        return PaymentResult.from_raw(_object(result.payload, "order", ops.ORDER_MARK_AS_PAID.name))

    async def create_manual_payment(
        self,
        order_id: str,
        *,
        payment_method_name: str = DEFAULT_MANUAL_PAYMENT_METHOD,
        amount: Decimal | None = None,
        currency: str | None = None,
        processed_at: datetime | None = None,
        priority: int = Priority.RELEASE,
    ) -> PaymentResult:
        """``orderCreateManualPayment``; without ``amount`` it pays the outstanding balance
        (a partial ``amount`` needs a Shopify Plus store)."""
        variables: dict[str, Any] = {"id": order_id, "paymentMethodName": payment_method_name}
        if amount is not None:
            if not currency:
                raise ValueError("a manual payment amount needs its currency")
            variables["amount"] = {"amount": money(amount), "currencyCode": currency}
        if processed_at is not None:
            variables["processedAt"] = format_datetime(processed_at)
        result = await self.execute(ops.ORDER_CREATE_MANUAL_PAYMENT, variables, priority=priority, order_ref=order_id)
        return PaymentResult.from_raw(_object(result.payload, "order", ops.ORDER_CREATE_MANUAL_PAYMENT.name))

    async def cancel_order(
        self,
        order_id: str,
        *,
        reason: OrderCancelReason | str,
        restock: bool = True,
        notify_customer: bool = False,
        staff_note: str | None = None,
        refund_to_original_payment: bool = False,
        priority: int = Priority.CANCELLATION,
    ) -> CancelResult:
        """``orderCancel``: returns the job doing it (poll ``get_job`` until ``done``)."""
        variables: dict[str, Any] = {
            "orderId": order_id,
            "reason": str(reason),
            "restock": restock,
            "refundMethod": {"originalPaymentMethodsRefund": refund_to_original_payment},
            "notifyCustomer": notify_customer,
        }
        if staff_note:
            variables["staffNote"] = staff_note[:STAFF_NOTE_MAX_LENGTH]
        result = await self.execute(ops.ORDER_CANCEL, variables, priority=priority, order_ref=order_id)
        payload = result.payload if isinstance(result.payload, dict) else {}
        return CancelResult.from_raw(payload)

    async def get_job(self, job_id: str, *, priority: int = Priority.CANCELLATION) -> Job:
        """An asynchronous job (``NotFound`` when Shopify does not know it)."""
        result = await self.execute(ops.JOB, {"id": job_id}, priority=priority)
        if not isinstance(result.payload, dict):
            raise NotFound(f"Shopify job {job_id} not found", api=API_NAME, operation=ops.JOB.name)
        return Job.from_raw(result.payload)

    async def refund_state(
        self, order_id: str, *, first: int = 50, priority: int = Priority.TRACKING
    ) -> RefundState:
        """The order's refunds (id, note) and transactions; ``NotFound`` for a deleted order."""
        result = await self.execute(ops.ORDER_REFUNDS, {"id": order_id, "first": first},
                                    priority=priority, order_ref=order_id)
        if not isinstance(result.payload, dict):
            raise NotFound(f"Shopify order {order_id} not found", api=API_NAME,
                           operation=ops.ORDER_REFUNDS.name, request_id=result.request_id)
        return RefundState.model_validate(result.payload)

    async def suggested_refund(
        self, order_id: str, lines: Sequence[RefundLineSpec], *, shipping: Decimal | None = None,
        priority: int = Priority.TRACKING,
    ) -> SuggestedRefund:
        """Shopify's split of refunding ``lines`` and ``shipping``: subtotal, tax, the shipping
        it still holds, and the most it can refund (``NotFound`` for a deleted order)."""
        variables: dict[str, Any] = {
            "id": order_id,
            "lines": [{"lineItemId": r.line_item_id, "quantity": r.quantity} for r in lines],
            "shipping": None if shipping is None else f"{shipping:.2f}",
        }
        result = await self.execute(ops.ORDER_SUGGESTED_REFUND, variables, priority=priority, order_ref=order_id)
        payload = result.payload
        if not isinstance(payload, dict) or not isinstance(payload.get("suggestedRefund"), dict):
            raise NotFound(f"Shopify order {order_id} not found", api=API_NAME,
                           operation=ops.ORDER_SUGGESTED_REFUND.name, request_id=result.request_id)
        return SuggestedRefund.model_validate(payload["suggestedRefund"])

    async def create_refund(
        self,
        order_id: str,
        *,
        idempotency_key: str,
        lines: Sequence[RefundLineSpec] = (),
        shipping_amount: Decimal | None = None,
        full_shipping_refund: bool = False,
        note: str | None = None,
        notify: bool = False,
        currency: str | None = None,
        transactions: Sequence[Mapping[str, Any]] = (),
        priority: int = Priority.TRACKING,
    ) -> RefundResult:
        """``refundCreate`` with ``@idempotent(key:)`` where the API version knows it."""
        operation, document = refund_create_document(self.api_version, idempotency_key)
        refund: dict[str, Any] = {"orderId": order_id, "notify": notify}
        if lines:
            refund["refundLineItems"] = [
                {k: v for k, v in {"lineItemId": r.line_item_id, "quantity": r.quantity,
                                   "restockType": r.restock_type, "locationId": r.location_id}.items()
                 if v is not None}
                for r in lines
            ]
        if full_shipping_refund:
            refund["shipping"] = {"fullRefund": True}
        elif shipping_amount is not None:
            refund["shipping"] = {"amount": money(shipping_amount)}
        if note:
            refund["note"] = note
        if currency:
            refund["currency"] = currency
        if transactions:
            refund["transactions"] = [dict(t) for t in transactions]
        result = await self.execute(operation, {"input": refund}, priority=priority, order_ref=order_id,
                                    document=document)
        return RefundResult.from_raw(_object(result.payload, "refund", operation.name))


def _truncated(order: dict[str, Any], fulfillments_first: int | None) -> bool:
    """Whether a list came back cut (``fulfillments_first`` None: none were asked for)."""
    def more(connection: Any) -> bool:
        info = connection.get("pageInfo") if isinstance(connection, dict) else None
        return bool(isinstance(info, dict) and info.get("hasNextPage"))

    if more(order.get("lineItems")) or more(order.get("fulfillmentOrders")):
        return True
    if any(more(fo.get("lineItems")) for fo in _nodes(order.get("fulfillmentOrders"))):
        return True
    if fulfillments_first is None:
        return False
    fulfillments = [f for f in order.get("fulfillments") or [] if isinstance(f, dict)]
    # ``fulfillments`` is a plain list (no pageInfo): a full page may hide more.
    return len(fulfillments) >= fulfillments_first or any(more(f.get("fulfillmentLineItems")) for f in fulfillments)
