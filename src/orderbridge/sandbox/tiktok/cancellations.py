"""Cancellation records, and the rules that create and move them (returns: ``returns.py``).

Buyer cancels: immediate (type CANCEL) while UNPAID, ON_HOLD or inside the shop's
auto-approval window; afterwards a BUYER_CANCEL request, pending for 48 h, then approved
automatically. Shipping the package rejects a pending request (US). The Reject API is
retired for US sellers: it answers 25001040 (sandbox choice of code).
"""

from __future__ import annotations

from decimal import Decimal

from orderbridge.sandbox.tiktok.constants import (
    AUTO_APPROVE_DURATION,
    BUYER_CANCEL_RESPONSE_WINDOW,
    OUT_OF_STOCK_REASON,
    REASON_TEXT,
    REFUND_SETTLE_DELAY,
    SELLER_PAID_REASONS,
    SELLER_UNPAID_REASON_PREFIX,
    AutoApproveWindow,
    CancelStatus,
    CancelType,
    ErrorCode,
    EventType,
    OrderStatus,
    Role,
)
from orderbridge.sandbox.tiktok.errors import ApiError, bad_request, business_error
from orderbridge.sandbox.tiktok.orders import Engine, OrderRuleError
from orderbridge.sandbox.tiktok.render import ts
from orderbridge.sandbox.tiktok.state import Cancellation, Order

__all__ = ["Cancellations"]

SELLER_CANCELLABLE = frozenset({
    OrderStatus.UNPAID, OrderStatus.ON_HOLD, OrderStatus.AWAITING_SHIPMENT,
    OrderStatus.PARTIALLY_SHIPPING, OrderStatus.AWAITING_COLLECTION,
})
BUYER_REQUESTABLE = frozenset({OrderStatus.AWAITING_SHIPMENT, OrderStatus.PARTIALLY_SHIPPING})


class Cancellations:
    """Cancellation and return desk of the sandbox."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.world = engine.world
        engine.cancels = self

    # --- records --------------------------------------------------------------------
    def _refund(self, order: Order, line_ids: list[str], whole: bool) -> tuple[Decimal, Decimal, Decimal]:
        if order.paid_time is None:
            return Decimal("0"), Decimal("0"), Decimal("0")
        lines = [li for li in order.line_items if li.id in line_ids]
        subtotal = sum((li.sale_price for li in lines), Decimal("0"))
        tax = sum((li.tax_amount for li in lines), Decimal("0"))
        shipping = order.payment.shipping_fee if whole else Decimal("0")
        if whole:
            tax += order.payment.shipping_fee_tax
        return subtotal, shipping, tax

    def _record(self, order: Order, ctype: CancelType, status: CancelStatus, role: Role,
                reason: str, line_ids: list[str]) -> Cancellation:
        now = self.engine.now()
        whole = set(line_ids) >= {li.id for li in order.live_lines()}
        subtotal, shipping, tax = self._refund(order, line_ids, whole)
        record = Cancellation(
            id=self.world.ids.next("cancel"), order_id=order.id, shop_id=order.shop_id,
            cancel_type=ctype, status=status, role=role, reason=reason,
            reason_text=REASON_TEXT.get(reason, reason.replace("_", " ")), create_time=now,
            update_time=now, line_ids=list(line_ids), refund_subtotal=subtotal,
            refund_shipping_fee=shipping, refund_tax=tax,
        )
        self.world.cancellations[record.id] = record
        self._notify(record, order)
        return record

    def _notify(self, record: Cancellation, order: Order) -> None:
        self.engine.events.emit(self.engine.shop_of(order), EventType.CANCELLATION_STATUS_CHANGE, {
            "order_id": order.id, "cancellations_role": record.role.value,
            "cancel_status": record.status.value, "cancel_id": record.id,
            "create_time": ts(record.create_time),
        })

    def _set_status(self, record: Cancellation, status: CancelStatus) -> None:
        record.status = status
        record.update_time = self.engine.now()
        order = self.world.orders[record.order_id]
        self.engine.touch(order)
        self._notify(record, order)

    def _succeed(self, record: Cancellation, order: Order) -> None:
        """Cancel the units now; the refund settles (COMPLETE) a minute later."""
        if record.status is not CancelStatus.SUCCESS:
            self._set_status(record, CancelStatus.SUCCESS)
        order.is_buyer_request_cancel = False
        self.engine.cancel_lines(order, record.line_ids, record.role, record.reason)

        def settle() -> None:
            if record.status is CancelStatus.SUCCESS:
                self._set_status(record, CancelStatus.COMPLETE)

        self.engine.scheduler.call_later(REFUND_SETTLE_DELAY, settle, name=f"tiktok refund {record.id}")

    def immediate(self, order: Order, role: Role, reason: str, line_ids: list[str] | None = None) -> Cancellation:
        """A cancellation that takes effect at once (type CANCEL)."""
        ids = line_ids if line_ids is not None else [li.id for li in order.live_lines()]
        record = self._record(order, CancelType.CANCEL, CancelStatus.SUCCESS, role, reason, ids)
        self._succeed(record, order)
        return record

    def system_cancel(self, order: Order, reason: str) -> Cancellation:
        """TikTok cancels (unpaid timeout, shipping timeout, risk control, Seller Center)."""
        if order.status is OrderStatus.CANCELLED:
            raise OrderRuleError(f"order {order.id} is already cancelled")
        return self.immediate(order, Role.SYSTEM, reason)

    # --- buyer ------------------------------------------------------------------------
    def in_auto_approve_window(self, order: Order) -> bool:
        shop = self.engine.shop_of(order)
        if order.status is not OrderStatus.AWAITING_SHIPMENT:
            return False
        if shop.auto_approve is AutoApproveWindow.UNTIL_READY_TO_SHIP:
            return True
        start = order.awaiting_shipment_time or order.paid_time
        if start is None:
            return False
        return self.engine.now() < start + AUTO_APPROVE_DURATION[shop.auto_approve]

    def buyer_cancel(self, order: Order, reason: str) -> Cancellation:
        """The buyer cancels: immediate inside the windows, otherwise a 48 h request."""
        if order.status in (OrderStatus.UNPAID, OrderStatus.ON_HOLD) or self.in_auto_approve_window(order):
            return self.immediate(order, Role.BUYER, reason)
        if order.status not in BUYER_REQUESTABLE:
            raise OrderRuleError(
                f"order {order.id} is {order.status}: the buyer can no longer cancel (request a refund)"
            )
        if any(c.status is CancelStatus.PENDING for c in self.world.order_cancellations(order.id)):
            raise OrderRuleError(f"order {order.id} already has a pending cancellation request")
        ids = [li.id for li in order.live_lines() if not li.shipped]
        record = self._record(order, CancelType.BUYER_CANCEL, CancelStatus.PENDING, Role.BUYER, reason, ids)
        record.deadline = self.engine.now() + BUYER_CANCEL_RESPONSE_WINDOW
        order.is_buyer_request_cancel = True
        order.request_cancel_time = record.create_time
        self.engine.touch(order)
        self.engine.scheduler.call_at(record.deadline, lambda: self._deadline(record.id),
                                      name=f"tiktok cancel deadline {record.id}")
        return record

    def _deadline(self, cancel_id: str) -> None:
        record = self.world.cancellations.get(cancel_id)
        if record is not None and record.status is CancelStatus.PENDING:
            self._succeed(record, self.world.orders[record.order_id])

    def auto_reject_on_ship(self, order: Order) -> None:
        """US: shipping the package rejects a pending buyer cancellation request."""
        for record in self.world.order_cancellations(order.id):
            if record.status is CancelStatus.PENDING:
                self._set_status(record, CancelStatus.CANCEL)
        order.is_buyer_request_cancel = False

    # --- seller (API) -------------------------------------------------------------------
    def approve(self, record: Cancellation, idempotency_key: str) -> None:
        """Approve a pending buyer request (idempotent per key)."""
        if idempotency_key and idempotency_key in record.idempotency_keys:
            return
        if record.status is not CancelStatus.PENDING:
            raise business_error(ErrorCode.CANCEL_NOT_PENDING,
                                 f"cancellation {record.id} is {record.status.value}, not pending")
        if idempotency_key:
            record.idempotency_keys.add(idempotency_key)
        self._succeed(record, self.world.orders[record.order_id])

    def reject(self, record: Cancellation) -> None:
        raise business_error(
            ErrorCode.REJECT_RETIRED_US,
            "Reject cancellation is not available for US sellers. "
            "Ship the package to decline the buyer's cancellation request.",
        )

    def seller_cancel(self, order: Order, reason: str, line_ids: list[str] | None,
                      skus: list[tuple[str, int]] | None) -> Cancellation:
        """Seller cancels the whole order or some units (out of stock only)."""
        if order.status not in SELLER_CANCELLABLE:
            raise business_error(ErrorCode.ORDER_NOT_CANCELLABLE,
                                 f"order status {order.status.value} does not allow cancellation")
        if order.status is OrderStatus.UNPAID:
            fits = reason.startswith(SELLER_UNPAID_REASON_PREFIX)
        else:
            fits = reason in SELLER_PAID_REASONS
        if not fits:
            raise business_error(ErrorCode.CANCEL_REASON_MISMATCH,
                                 f"cancel reason {reason!r} does not match order status {order.status.value}")
        ids = self._pick_lines(order, line_ids, skus)
        partial = set(ids) != {li.id for li in order.live_lines()}
        if partial and reason != OUT_OF_STOCK_REASON:
            raise business_error(ErrorCode.CANCEL_REASON_MISMATCH,
                                 "item-level cancellation is only allowed for out of stock")
        return self.immediate(order, Role.SELLER, reason, ids)

    def _pick_lines(self, order: Order, line_ids: list[str] | None,
                    skus: list[tuple[str, int]] | None) -> list[str]:
        live = {li.id: li for li in order.live_lines()}
        if line_ids:
            unknown = [lid for lid in line_ids if lid not in live]
            if unknown:
                raise bad_request(f"order_line_item_ids not cancellable: {','.join(unknown)}")
            return list(dict.fromkeys(line_ids))
        if skus:
            ids: list[str] = []
            for sku_id, quantity in skus:
                candidates = [li.id for li in live.values() if li.sku_id == sku_id and li.id not in ids]
                if quantity < 1 or len(candidates) < quantity:
                    raise bad_request(f"sku {sku_id}: cannot cancel {quantity} unit(s)")
                ids.extend(candidates[:quantity])
            return ids
        return list(live)


def api_error_for(exc: OrderRuleError) -> ApiError:
    """Control-side rule errors surfaced through the API become parameter errors."""
    return bad_request(str(exc))
