"""The order lifecycle, driven by the sandbox clock through the shared scheduler.

UNPAID (payment pending/failed; system-cancelled after 24 h) -> paid -> ON_HOLD for 1 h
(skipped by shops with ``skip_on_hold``) -> AWAITING_SHIPMENT (auto-cancelled at
``shipping_due_time`` if nothing shipped) -> PARTIALLY_SHIPPING / AWAITING_COLLECTION ->
IN_TRANSIT -> DELIVERED -> COMPLETED, or CANCELLED. Every change bumps ``update_time`` and
sends webhook 1.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from orderbridge.clock import Clock
from orderbridge.sandbox.common.scheduler import Scheduler
from orderbridge.sandbox.tiktok.constants import (
    DELIVERY_DAYS,
    DELIVERY_DUE_EXTRA_DAYS,
    ON_HOLD_DURATION,
    RTS_SLA_BUSINESS_DAYS,
    SHIPPING_DUE_BUSINESS_DAYS,
    SYSTEM_SHIPPING_TIMEOUT_REASON,
    SYSTEM_UNPAID_REASON,
    UNPAID_TIMEOUT,
    DeliveryOption,
    EventType,
    FulfillmentType,
    OrderStatus,
    PackageStatus,
    PaymentState,
    Role,
    ShippingType,
)
from orderbridge.sandbox.tiktok.factory import (
    DEFAULT_ADDRESSES,
    ItemSpec,
    add_business_days,
    build_lines,
    compute_payment,
    tax_rate_for,
)
from orderbridge.sandbox.tiktok.state import Address, Charges, Order, Shop, World
from orderbridge.sandbox.tiktok.webhooks import EventEmitter

if TYPE_CHECKING:
    from orderbridge.sandbox.tiktok.cancellations import Cancellations

__all__ = ["Engine", "OrderRequest", "OrderRuleError"]

SHIPPED_STATUSES = frozenset({
    OrderStatus.AWAITING_COLLECTION, OrderStatus.IN_TRANSIT, OrderStatus.DELIVERED,
    OrderStatus.COMPLETED,
})


# The webhook documentation spells CANCELLED as CANCEL; the sandbox sends that spelling so
# clients are exercised on both (the API itself says CANCELLED).
WEBHOOK_STATUS_SPELLING = {OrderStatus.CANCELLED: "CANCEL"}


class OrderRuleError(Exception):
    """A control action that the order's state does not allow (control API: HTTP 409)."""


@dataclass
class OrderRequest:
    """What a buyer puts in the basket (see the control API)."""

    items: list[ItemSpec]
    payment: PaymentState = PaymentState.PAID
    shipping_type: ShippingType | None = None
    fulfillment_type: FulfillmentType = FulfillmentType.SELLER
    sample: bool = False
    replacement_of: str = ""
    address: Address | None = None
    delivery_option: DeliveryOption = DeliveryOption.STANDARD
    shipping_fee: Decimal = Decimal("5.99")
    shipping_fee_seller_discount: Decimal = Decimal("0")
    shipping_fee_platform_discount: Decimal = Decimal("0")
    buyer_message: str = ""
    buyer_user_id: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    charges: Charges = field(default_factory=Charges)


class Engine:
    """Owns state transitions of orders; cancellations plug in via ``self.cancels``."""

    def __init__(self, world: World, clock: Clock, scheduler: Scheduler, events: EventEmitter) -> None:
        self.world = world
        self.clock = clock
        self.scheduler = scheduler
        self.events = events
        self.cancels: Cancellations | None = None
        self._rng = random.Random(f"{world.seed}:orders")

    # --- helpers --------------------------------------------------------------------
    def now(self) -> datetime:
        return self.clock.now()

    def shop_of(self, order: Order) -> Shop:
        return self.world.shops[order.shop_id]

    def touch(self, order: Order) -> None:
        """Bump update_time to now (never backwards)."""
        order.update_time = max(self.now(), order.update_time)

    def set_status(self, order: Order, status: OrderStatus) -> None:
        order.status = status
        self.touch(order)
        self.resend_status_webhook(order)

    # --- creation ---------------------------------------------------------------------
    def place_order(self, shop: Shop, req: OrderRequest) -> Order:
        """A buyer checks out: stock is reserved at once, even while unpaid.

        TikTok does not sell what the shop's warehouse does not have: an order for more
        units than a SKU's available stock is refused (OrderRuleError), nothing reserved.
        """
        wanted: dict[str, int] = {}
        for spec in req.items:
            wanted[spec.sku.id] = wanted.get(spec.sku.id, 0) + spec.units
        for spec in req.items:
            have = spec.sku.inventory.get(shop.warehouse_id, 0)
            if wanted[spec.sku.id] > have:
                raise OrderRuleError(f"out of stock: sku {spec.sku.id} ({spec.sku.seller_sku}) has "
                                     f"{have} available, {wanted[spec.sku.id]} ordered")
        now = self.now()
        address = req.address or self._rng.choice(DEFAULT_ADDRESSES)
        shipping_type = req.shipping_type or shop.default_shipping_type
        if req.fulfillment_type is FulfillmentType.TIKTOK:
            shipping_type = ShippingType.TIKTOK
        zero = "platform" if req.sample else ("seller" if req.replacement_of else "")
        rate = tax_rate_for(address)
        lines = build_lines(self.world, req.items, Decimal("0") if zero else rate, zero)
        free_shipping = bool(zero)
        payment = compute_payment(
            lines, address,
            Decimal("0") if free_shipping else req.shipping_fee,
            req.shipping_fee_seller_discount, req.shipping_fee_platform_discount,
            Charges() if free_shipping else req.charges,
        )
        option_id = (
            shop.tiktok_delivery_option_id if shipping_type is ShippingType.TIKTOK
            else shop.delivery_options[req.delivery_option]
        )
        user_id = req.buyer_user_id or self.world.ids.next("user")
        order = Order(
            id=self.world.ids.next("order"), shop_id=shop.id, status=OrderStatus.UNPAID,
            user_id=user_id, buyer_email=f"{_relay(self._rng)}@chat.seller.tiktok.com",
            buyer_message=req.buyer_message, create_time=now, update_time=now,
            payment_state=req.payment, shipping_type=shipping_type,
            fulfillment_type=req.fulfillment_type, delivery_option=req.delivery_option,
            delivery_option_id=option_id, warehouse_id=shop.warehouse_id, payment=payment,
            address=address, line_items=lines, is_sample_order=req.sample,
            is_replacement_order=bool(req.replacement_of), replaced_order_id=req.replacement_of,
        )
        self.world.orders[order.id] = order
        for spec in req.items:
            stock = spec.sku.inventory
            stock[shop.warehouse_id] = stock.get(shop.warehouse_id, 0) - spec.units
        self.events.emit(shop, EventType.ORDER_STATUS_CHANGE, {
            "order_id": order.id, "order_status": order.status.value,
            "is_on_hold_order": False, "update_time": int(now.timestamp()),
        })
        if req.payment is PaymentState.PAID or zero:
            self.pay(order)
        else:
            self.scheduler.call_at(now + UNPAID_TIMEOUT, lambda: self._unpaid_timeout(order.id),
                                   name=f"tiktok unpaid timeout {order.id}")
        return order

    # --- payment and holds ------------------------------------------------------------
    def pay(self, order: Order) -> None:
        """Payment succeeds: ON_HOLD for an hour (or straight to AWAITING_SHIPMENT)."""
        if order.status is not OrderStatus.UNPAID:
            raise OrderRuleError(f"order {order.id} is {order.status}, not UNPAID")
        now = self.now()
        order.payment_state = PaymentState.PAID
        order.paid_time = now
        order.rts_sla_time = add_business_days(now, RTS_SLA_BUSINESS_DAYS)
        order.tts_sla_time = add_business_days(now, RTS_SLA_BUSINESS_DAYS + 1)
        order.shipping_due_time = add_business_days(now, SHIPPING_DUE_BUSINESS_DAYS)
        order.collection_due_time = add_business_days(now, SHIPPING_DUE_BUSINESS_DAYS + 1)
        order.delivery_sla_time = add_business_days(now, DELIVERY_DAYS[order.delivery_option])
        order.delivery_due_time = order.delivery_sla_time + timedelta(days=DELIVERY_DUE_EXTRA_DAYS)
        if self.shop_of(order).skip_on_hold:
            self.to_awaiting_shipment(order)
        else:
            order.is_on_hold_order = True
            self.set_status(order, OrderStatus.ON_HOLD)
            self.scheduler.call_at(now + ON_HOLD_DURATION, lambda: self._end_hold(order.id),
                                   name=f"tiktok on-hold end {order.id}")
        if order.shipping_due_time is not None:
            self.scheduler.call_at(order.shipping_due_time, lambda: self._shipping_timeout(order.id),
                                   name=f"tiktok shipping due {order.id}")

    def fail_payment(self, order: Order) -> None:
        """The payment is declined: the order stays UNPAID (the buyer may retry)."""
        if order.status is not OrderStatus.UNPAID:
            raise OrderRuleError(f"order {order.id} is {order.status}, not UNPAID")
        order.payment_state = PaymentState.FAILED
        self.touch(order)

    def _end_hold(self, order_id: str) -> None:
        order = self.world.orders.get(order_id)
        if order is not None and order.status is OrderStatus.ON_HOLD:
            self.to_awaiting_shipment(order)

    def to_awaiting_shipment(self, order: Order) -> None:
        order.awaiting_shipment_time = self.now()
        self.set_status(order, OrderStatus.AWAITING_SHIPMENT)

    def _unpaid_timeout(self, order_id: str) -> None:
        order = self.world.orders.get(order_id)
        if order is not None and order.status is OrderStatus.UNPAID and self.cancels is not None:
            self.cancels.system_cancel(order, SYSTEM_UNPAID_REASON)

    def _shipping_timeout(self, order_id: str) -> None:
        order = self.world.orders.get(order_id)
        if (
            order is not None and order.status is OrderStatus.AWAITING_SHIPMENT
            and not any(li.shipped for li in order.line_items) and self.cancels is not None
        ):
            self.cancels.system_cancel(order, SYSTEM_SHIPPING_TIMEOUT_REASON)

    # --- cancellation primitive -------------------------------------------------------
    def cancel_lines(self, order: Order, line_ids: list[str], role: Role, reason: str) -> None:
        """Cancel units (restocking them); the order is CANCELLED once every unit is."""
        if order.status is OrderStatus.CANCELLED:
            return  # already fully cancelled (e.g. a request approved after a seller cancel)
        shop = self.shop_of(order)
        now = self.now()
        for li in order.line_items:
            if li.id in line_ids and not li.cancelled:
                li.package_status = PackageStatus.CANCELLED
                li.cancel_reason = reason
                li.cancel_user = "SYSTEM" if role is Role.SYSTEM else role.value
                found = self.world.find_sku(shop, sku_id=li.sku_id)
                if found is not None:
                    inv = found[1].inventory
                    inv[order.warehouse_id] = inv.get(order.warehouse_id, 0) + 1
        if all(li.cancelled for li in order.line_items):
            order.cancel_time = now
            order.cancel_reason = reason
            order.cancellation_initiator = role.value
            order.is_buyer_request_cancel = False
            self.set_status(order, OrderStatus.CANCELLED)
        else:
            self.touch(order)
            self.recompute_shipping_status(order)

    def recompute_shipping_status(self, order: Order) -> None:
        """After ship or cancel: AWAITING_COLLECTION when every live unit is shipped."""
        live = order.live_lines()
        shipped = [li for li in live if li.shipped]
        if order.status not in (OrderStatus.AWAITING_SHIPMENT, OrderStatus.PARTIALLY_SHIPPING):
            return
        if live and len(shipped) == len(live):
            self.set_status(order, OrderStatus.AWAITING_COLLECTION)
        elif shipped and order.status is not OrderStatus.PARTIALLY_SHIPPING:
            self.set_status(order, OrderStatus.PARTIALLY_SHIPPING)

    # --- carrier and buyer events -------------------------------------------------------
    def collected(self, order: Order) -> None:
        """The carrier scanned every package."""
        if order.status is not OrderStatus.AWAITING_COLLECTION:
            raise OrderRuleError(f"order {order.id} is {order.status}, not AWAITING_COLLECTION")
        order.collection_time = self.now()
        for li in order.live_lines():
            li.package_status = PackageStatus.FULFILLING
        self.set_status(order, OrderStatus.IN_TRANSIT)

    def delivered(self, order: Order) -> None:
        if order.status not in (OrderStatus.IN_TRANSIT, OrderStatus.AWAITING_COLLECTION):
            raise OrderRuleError(f"order {order.id} is {order.status}, not in transit")
        if order.collection_time is None:
            order.collection_time = self.now()
        order.delivery_time = self.now()
        for li in order.live_lines():
            li.package_status = PackageStatus.COMPLETED
        self.set_status(order, OrderStatus.DELIVERED)

    def completed(self, order: Order) -> None:
        if order.status is not OrderStatus.DELIVERED:
            raise OrderRuleError(f"order {order.id} is {order.status}, not DELIVERED")
        order.completed_time = self.now()
        self.set_status(order, OrderStatus.COMPLETED)

    def change_address(self, order: Order, address: Address) -> None:
        """The buyer edits the address (webhook 3)."""
        if order.status in SHIPPED_STATUSES or order.status is OrderStatus.CANCELLED:
            raise OrderRuleError(f"order {order.id} is {order.status}: the address is locked")
        order.address = address
        order.has_updated_recipient_address = True
        self.touch(order)
        self.events.emit(self.shop_of(order), EventType.RECIPIENT_ADDRESS_UPDATE, {
            "order_id": order.id, "update_time": int(order.update_time.timestamp()),
        })

    def resend_status_webhook(self, order: Order) -> None:
        """Webhook 1 with the current status (the webhook doc spells CANCELLED "CANCEL")."""
        status = WEBHOOK_STATUS_SPELLING.get(order.status, order.status.value)
        self.events.emit(self.shop_of(order), EventType.ORDER_STATUS_CHANGE, {
            "order_id": order.id, "order_status": status,
            "is_on_hold_order": order.is_on_hold_order,
            "update_time": int(order.update_time.timestamp()),
        })


def _relay(rng: random.Random) -> str:
    alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(rng.choice(alphabet) for _ in range(6))
