"""The after-sale desk: refund-only, return-and-refund and replacement requests.

Written from TikTok's Return and Refund API (202309: Search Returns, Approve Return, Reject
Return, Get Reject Reasons) and the type-12 webhook. The story of one request:

- the buyer opens it (``RETURN_OR_REFUND_REQUEST_PENDING`` or ``REPLACEMENT_REQUEST_PENDING``);
  the seller has 48 h to answer (``seller_next_action_response``), then TikTok approves;
- refund only: ``APPROVE_REFUND`` -> ``RETURN_OR_REFUND_REQUEST_SUCCESS`` -> a minute later
  the money has moved: ``RETURN_OR_REFUND_REQUEST_COMPLETE``;
- return and refund: ``APPROVE_RETURN`` -> ``AWAITING_BUYER_SHIP`` -> the buyer ships with a
  tracking number (``BUYER_SHIPPED_ITEM``) -> the seller confirms receipt
  (``APPROVE_RECEIVED_PACKAGE``, or 48 h after the parcel arrives) and the refund follows,
  or refuses the parcel (``REJECT_RECEIVED_PACKAGE`` -> ``REJECT_RECEIVE_PACKAGE``);
- ``OFFER_PARTIAL_REFUND`` puts the request to the buyer (``AWAITING_BUYER_RESPONSE``): accepted,
  the partial amount is refunded and the buyer keeps the item; declined, the request is pending
  again (``buyer_rejected_partial_refund``);
- a rejected request (or a refused parcel) can go to arbitration: TikTok decides for the buyer
  (the refund goes ahead) or for the seller;
- the buyer edits a pending request: it is cancelled and a new return id carries on
  (``pre_return_id`` / ``next_return_id``);
- replacement: ``APPROVE_REPLACEMENT`` places a new zero-priced order (``is_replacement_order``,
  ``replaced_order_id``) and completes the request; ``ISSUE_REPLACEMENT_REFUND`` refunds instead.

Every change bumps the order's ``update_time`` and sends webhook 12. The webhook spells the
reject status ``REFUND_OR_RETURN_REQUEST_REJECT`` (the webhook/status page) while Search
Returns says ``RETURN_OR_REFUND_REQUEST_REJECT`` (the API reference): clients see both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from orderbridge.sandbox.tiktok.constants import (
    ErrorCode,
    EventType,
    OrderStatus,
    ReturnStatus,
    ReturnType,
    Role,
)
from orderbridge.sandbox.tiktok.errors import bad_request, business_error
from orderbridge.sandbox.tiktok.factory import ItemSpec
from orderbridge.sandbox.tiktok.orders import Engine, OrderRequest, OrderRuleError
from orderbridge.sandbox.tiktok.render import ts
from orderbridge.sandbox.tiktok.state import Order, ReturnRecord

__all__ = ["REJECT_REASONS", "ReturnDesk"]

RESPONSE_WINDOW = timedelta(hours=48)  # doc: the seller answers within 48 h or TikTok does
RETURN_TRANSIT = timedelta(days=3)  # sandbox choice: a shipped return reaches the seller
REFUND_SETTLE = timedelta(minutes=1)  # sandbox choice: SUCCESS -> COMPLETE (the money moved)
ARBITRATION_TIME = timedelta(days=3)  # sandbox choice: TikTok's ruling, if the control API gives none
_CENT = Decimal("0.01")

REQUESTABLE = frozenset({OrderStatus.AWAITING_COLLECTION, OrderStatus.IN_TRANSIT,
                         OrderStatus.DELIVERED, OrderStatus.COMPLETED})
TERMINAL = frozenset({
    ReturnStatus.REQUEST_COMPLETE, ReturnStatus.REQUEST_CANCEL,
    ReturnStatus.REPLACEMENT_COMPLETE, ReturnStatus.REPLACEMENT_CANCEL,
    ReturnStatus.REPLACEMENT_REFUND_SUCCESS,
})
# Closed without a refund: their units may be asked for again.
CLOSED_UNPAID = frozenset({ReturnStatus.REQUEST_CANCEL, ReturnStatus.REPLACEMENT_CANCEL,
                           ReturnStatus.REQUEST_REJECT, ReturnStatus.REPLACEMENT_REJECT})
# The webhook page's spelling (the API reference's is the enum value).
WEBHOOK_SPELLING = {ReturnStatus.REQUEST_REJECT: "REFUND_OR_RETURN_REQUEST_REJECT"}

# seller_next_action_response actions (sandbox choice of names: the reference lists the
# field, not its values).
NEXT_ACTION = {
    ReturnStatus.REQUEST_PENDING: "SELLER_RESPOND_RETURN",
    ReturnStatus.REPLACEMENT_PENDING: "SELLER_RESPOND_REPLACEMENT",
    ReturnStatus.BUYER_SHIPPED_ITEM: "SELLER_RECEIVE_PACKAGE",
}

# Get Reject Reasons, per decision (names are the sandbox's, in TikTok's key style).
REJECT_REASONS: dict[str, tuple[tuple[str, str], ...]] = {
    "REJECT_REFUND": (
        ("seller_reject_refund_reason_item_delivered_as_described", "The item was delivered as described"),
        ("seller_reject_refund_reason_no_evidence", "The buyer gave no evidence"),
        ("seller_reject_refund_reason_already_agreed_solution", "A solution was agreed with the buyer"),
    ),
    "REJECT_RETURN": (
        ("seller_reject_return_reason_outside_return_window", "Request outside the return window"),
        ("seller_reject_return_reason_item_not_returnable", "The item cannot be returned"),
        ("seller_reject_refund_reason_no_evidence", "The buyer gave no evidence"),
    ),
    "REJECT_RECEIVED_PACKAGE": (
        ("seller_reject_package_reason_item_damaged_by_buyer", "The returned item is damaged or used"),
        ("seller_reject_package_reason_wrong_item", "The returned item is not the one sold"),
        ("seller_reject_package_reason_missing_parts", "Parts are missing from the returned item"),
    ),
    "REJECT_REPLACEMENT": (
        ("seller_reject_replacement_reason_out_of_stock", "No unit left to send"),
        ("seller_reject_refund_reason_no_evidence", "The buyer gave no evidence"),
    ),
}
APPROVALS = frozenset({"APPROVE_REFUND", "APPROVE_RETURN", "APPROVE_RECEIVED_PACKAGE",
                       "APPROVE_REPLACEMENT", "ISSUE_REPLACEMENT_REFUND", "OFFER_PARTIAL_REFUND"})


@dataclass(frozen=True)
class Offer:
    amount: Decimal


class ReturnDesk:
    """Opens and moves return records; the seller's decisions come through the API."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.world = engine.world

    # --- helpers ----------------------------------------------------------------------
    def _amounts(self, order: Order, ids: list[str], rtype: ReturnType,
                 exclude: str = "") -> tuple[Decimal, Decimal, Decimal, Decimal]:
        """What the buyer gets back: the units' sale price and tax; the shipping fee (and its
        tax) and the retail delivery fee when every remaining unit comes back; no shipping
        for a replacement until TikTok refunds instead."""
        if order.paid_time is None:
            return Decimal("0"), Decimal("0"), Decimal("0"), Decimal("0")
        lines = [li for li in order.line_items if li.id in ids]
        subtotal = sum((li.sale_price for li in lines), Decimal("0"))
        tax = sum((li.tax_amount for li in lines), Decimal("0"))
        others = [r for r in self.world.returns.values() if r.order_id == order.id and r.id != exclude
                  and r.status not in CLOSED_UNPAID]
        covered = set(ids).union(*(r.line_ids for r in others))
        whole = covered >= {li.id for li in order.live_lines()} and not any(
            r.refund_shipping_fee > 0 for r in others)
        shipping = fee = Decimal("0")
        if whole and rtype is not ReturnType.REPLACEMENT:
            shipping, fee = order.payment.shipping_fee, order.payment.retail_delivery_fee
            tax += order.payment.shipping_fee_tax
        return subtotal, shipping, tax, fee

    def _notify(self, record: ReturnRecord) -> None:
        order = self.world.orders[record.order_id]
        self.engine.touch(order)
        self.engine.events.emit(self.engine.shop_of(order), EventType.RETURN_STATUS_CHANGE, {
            "order_id": order.id, "return_role": record.role.value,
            "return_type": record.return_type.value,
            "return_status": WEBHOOK_SPELLING.get(record.status, record.status.value),
            "return_id": record.id, "create_time": ts(record.create_time),
            "update_time": ts(record.update_time),
        })

    def _move(self, record: ReturnRecord, status: ReturnStatus, deadline: timedelta | None = None) -> None:
        record.status = status
        record.update_time = self.engine.now()
        record.deadline = None
        record.next_action = ""
        if deadline is not None:
            self._arm(record, self.engine.now() + deadline)
        self._notify(record)
        if status is ReturnStatus.REQUEST_COMPLETE:
            self._maybe_complete_order(record)

    def _arm(self, record: ReturnRecord, at: datetime) -> None:
        record.deadline = at
        record.next_action = NEXT_ACTION.get(record.status, "")
        status = record.status
        self.engine.scheduler.call_at(at, lambda: self._timeout(record.id, status, at),
                                      name=f"tiktok return deadline {record.id}")

    def _maybe_complete_order(self, record: ReturnRecord) -> None:
        order = self.world.orders[record.order_id]
        refunded = {lid for r in self.world.returns.values()
                    if r.order_id == order.id and r.status is ReturnStatus.REQUEST_COMPLETE
                    and r.partial_refund is None for lid in r.line_ids}
        if order.status is not OrderStatus.COMPLETED and refunded >= {li.id for li in order.live_lines()}:
            order.completed_time = self.engine.now()
            self.engine.set_status(order, OrderStatus.COMPLETED)

    def _settle(self, record: ReturnRecord) -> None:
        """SUCCESS now; the money moves a minute later (COMPLETE)."""
        self._move(record, ReturnStatus.REQUEST_SUCCESS)

        def done() -> None:
            if record.status is ReturnStatus.REQUEST_SUCCESS:
                self._move(record, ReturnStatus.REQUEST_COMPLETE)

        self.engine.scheduler.call_later(REFUND_SETTLE, done, name=f"tiktok return refund {record.id}")

    def complete_now(self, record: ReturnRecord) -> None:
        """TikTok finishes the refund at once (control shortcut)."""
        if record.status is not ReturnStatus.REQUEST_SUCCESS:
            self._move(record, ReturnStatus.REQUEST_SUCCESS)
        self._move(record, ReturnStatus.REQUEST_COMPLETE)

    def _timeout(self, return_id: str, status: ReturnStatus, at: datetime) -> None:
        """The seller did not answer in time: TikTok decides for the buyer."""
        record = self.world.returns.get(return_id)
        if record is None or record.status is not status or record.deadline != at:
            return
        if status is ReturnStatus.REPLACEMENT_PENDING:
            self._replace(record)
        elif status is ReturnStatus.REQUEST_PENDING and record.return_type is ReturnType.RETURN_AND_REFUND:
            self._move(record, ReturnStatus.AWAITING_BUYER_SHIP)
        else:  # a pending refund, or a parcel received and not refused
            self._settle(record)

    def _replace(self, record: ReturnRecord) -> None:
        order = self.world.orders[record.order_id]
        shop = self.engine.shop_of(order)
        items = []
        for lid in record.line_ids:
            line = next(li for li in order.line_items if li.id == lid)
            product = shop.products[line.product_id]
            sku = next(s for s in product.skus if s.id == line.sku_id)
            items.append(ItemSpec(product=product, sku=sku, units=1))
        new = self.engine.place_order(shop, OrderRequest(
            items=items, replacement_of=order.id, address=order.address,
            fulfillment_type=order.fulfillment_type, buyer_user_id=order.user_id))
        record.replacement_order_id = new.id
        self._move(record, ReturnStatus.REPLACEMENT_COMPLETE)

    # --- the buyer (control API) --------------------------------------------------------
    def open(self, order: Order, rtype: ReturnType, line_ids: list[str] | None, reason: str,
             pre_return_id: str = "") -> ReturnRecord:
        if order.status not in REQUESTABLE:
            raise OrderRuleError(f"order {order.id} is {order.status}: no return possible")
        busy = {lid for r in self.world.returns.values() if r.order_id == order.id
                and r.status not in CLOSED_UNPAID and r.id != pre_return_id for lid in r.line_ids}
        live = [li.id for li in order.live_lines() if li.id not in busy]
        ids = list(dict.fromkeys(line_ids)) if line_ids else live
        if not ids or any(lid not in live for lid in ids):
            raise OrderRuleError("unknown, cancelled or already returned order_line_item_ids")
        subtotal, shipping, tax, fee = self._amounts(order, ids, rtype, pre_return_id)
        now = self.engine.now()
        status = (ReturnStatus.REPLACEMENT_PENDING if rtype is ReturnType.REPLACEMENT
                  else ReturnStatus.REQUEST_PENDING)
        record = ReturnRecord(
            id=self.world.ids.next("return"), order_id=order.id, shop_id=order.shop_id,
            return_type=rtype, status=status, role=Role.BUYER, reason=reason, create_time=now,
            update_time=now, line_ids=ids, refund_subtotal=subtotal,
            refund_shipping_fee=shipping, refund_tax=tax, pre_return_id=pre_return_id,
            refund_retail_delivery_fee=fee,
        )
        self.world.returns[record.id] = record
        self._arm(record, now + RESPONSE_WINDOW)
        self._notify(record)
        return record

    def edit(self, record: ReturnRecord, rtype: ReturnType | None, line_ids: list[str] | None,
             reason: str | None) -> ReturnRecord:
        """The buyer changes a pending request: a new return id carries on."""
        if record.status not in (ReturnStatus.REQUEST_PENDING, ReturnStatus.REPLACEMENT_PENDING):
            raise OrderRuleError(f"return {record.id} is {record.status.value}: it can no longer be edited")
        order = self.world.orders[record.order_id]
        new = self.open(order, rtype or record.return_type, line_ids or record.line_ids,
                        reason or record.reason, pre_return_id=record.id)
        record.next_return_id = new.id
        self._move(record, ReturnStatus.REPLACEMENT_CANCEL if record.return_type is ReturnType.REPLACEMENT
                   else ReturnStatus.REQUEST_CANCEL)
        return new

    def cancel(self, record: ReturnRecord) -> None:
        if record.status in TERMINAL:
            raise OrderRuleError(f"return {record.id} is already {record.status.value}")
        self._move(record, ReturnStatus.REPLACEMENT_CANCEL if record.return_type is ReturnType.REPLACEMENT
                   else ReturnStatus.REQUEST_CANCEL)

    def ship_back(self, record: ReturnRecord, tracking_number: str, provider: str) -> None:
        if record.status is not ReturnStatus.AWAITING_BUYER_SHIP:
            raise OrderRuleError(f"return {record.id} is {record.status.value}, not AWAITING_BUYER_SHIP")
        if not tracking_number.strip():
            raise OrderRuleError("a return shipment needs a tracking number")
        record.return_tracking_number = tracking_number.strip()
        record.return_provider_name = provider
        self._move(record, ReturnStatus.BUYER_SHIPPED_ITEM, RETURN_TRANSIT + RESPONSE_WINDOW)

    def answer_offer(self, record: ReturnRecord, accept: bool) -> None:
        if record.status is not ReturnStatus.AWAITING_BUYER_RESPONSE or record.partial_refund is None:
            raise OrderRuleError(f"return {record.id} has no partial refund offer waiting")
        if accept:
            record.buyer_keep_item = True
            self._split(record, record.partial_refund)
            self._settle(record)
            return
        record.buyer_rejected_partial_refund = True
        record.partial_refund = None
        record.seller_proposed_return_type = ""
        self._move(record, ReturnStatus.REQUEST_PENDING, RESPONSE_WINDOW)

    def _split(self, record: ReturnRecord, total: Decimal) -> None:
        """A partial refund carries its share of tax, like the full one (sandbox choice)."""
        full = record.refund_subtotal + record.refund_shipping_fee + record.refund_tax
        full += record.refund_retail_delivery_fee
        tax = (record.refund_tax * total / full).quantize(_CENT, ROUND_HALF_UP) if full else Decimal("0")
        record.refund_subtotal, record.refund_shipping_fee, record.refund_tax = total - tax, Decimal("0"), tax
        record.refund_retail_delivery_fee = Decimal("0")

    def escalate(self, record: ReturnRecord) -> None:
        """The buyer appeals a rejection: TikTok arbitrates."""
        if record.status not in (ReturnStatus.REQUEST_REJECT, ReturnStatus.REJECT_RECEIVE_PACKAGE):
            raise OrderRuleError(f"return {record.id} is {record.status.value}: nothing to appeal")
        if record.arbitration_status:
            raise OrderRuleError(f"return {record.id} was already taken to arbitration")
        record.arbitration_status = "IN_PROGRESS"
        self._move(record, record.status)

    def rule(self, record: ReturnRecord, for_buyer: bool) -> None:
        """TikTok's arbitration ruling."""
        if record.arbitration_status != "IN_PROGRESS":
            raise OrderRuleError(f"return {record.id} is not in arbitration")
        record.arbitration_status = "SUPPORT_BUYER" if for_buyer else "SUPPORT_SELLER"
        if for_buyer:
            self._settle(record)
        else:
            self._move(record, record.status)

    # --- the seller (API) ---------------------------------------------------------------
    def reject_reasons(self, record: ReturnRecord) -> list[dict[str, str]]:
        return [{"name": n, "text": t} for n, t in REJECT_REASONS.get(self.reject_decision(record), ())]

    def _allowed_reasons(self, record: ReturnRecord) -> set[str]:
        decision = self.reject_decision(record)
        return {n for n, _ in REJECT_REASONS.get(decision, ())}

    @staticmethod
    def reject_decision(record: ReturnRecord) -> str:
        if record.status is ReturnStatus.REPLACEMENT_PENDING:
            return "REJECT_REPLACEMENT"
        if record.status is ReturnStatus.BUYER_SHIPPED_ITEM:
            return "REJECT_RECEIVED_PACKAGE"
        if record.status is ReturnStatus.REQUEST_PENDING:
            return "REJECT_RETURN" if record.return_type is ReturnType.RETURN_AND_REFUND else "REJECT_REFUND"
        return ""

    def _once(self, record: ReturnRecord, key: str, decision: str) -> bool:
        """True when this key already carried this decision (nothing to do again)."""
        if not key:
            raise bad_request("idempotency_key is required")
        done = record.decisions.get(key)
        if done is None:
            return False
        if done != decision:
            raise bad_request(f"idempotency_key {key!r} was used for {done}")
        return True

    def _not_allowed(self, record: ReturnRecord, decision: str) -> Exception:
        return business_error(ErrorCode.RETURN_DECISION_NOT_ALLOWED,
                              f"return {record.id} is {record.status.value}: {decision} is not allowed")

    def approve(self, record: ReturnRecord, key: str, decision: str, offer: Offer | None) -> None:
        if decision not in APPROVALS:
            raise bad_request(f"decision must be one of {', '.join(sorted(APPROVALS))}")
        if self._once(record, key, decision):
            return
        pending, rtype = record.status, record.return_type
        if decision == "APPROVE_REFUND" and pending is ReturnStatus.REQUEST_PENDING and rtype is ReturnType.REFUND:
            self._settle(record)
        elif decision == "APPROVE_RETURN" and pending is ReturnStatus.REQUEST_PENDING \
                and rtype is ReturnType.RETURN_AND_REFUND:
            self._move(record, ReturnStatus.AWAITING_BUYER_SHIP)
        elif decision == "APPROVE_RECEIVED_PACKAGE" and pending is ReturnStatus.BUYER_SHIPPED_ITEM:
            self._settle(record)
        elif decision == "APPROVE_REPLACEMENT" and pending is ReturnStatus.REPLACEMENT_PENDING:
            self._replace(record)
        elif decision == "ISSUE_REPLACEMENT_REFUND" and pending is ReturnStatus.REPLACEMENT_PENDING:
            order = self.world.orders[record.order_id]
            (record.refund_subtotal, record.refund_shipping_fee, record.refund_tax,
             record.refund_retail_delivery_fee) = self._amounts(order, record.line_ids, ReturnType.REFUND, record.id)
            self._move(record, ReturnStatus.REPLACEMENT_REFUND_SUCCESS)
        elif decision == "OFFER_PARTIAL_REFUND" and pending is ReturnStatus.REQUEST_PENDING:
            full = (record.refund_subtotal + record.refund_shipping_fee + record.refund_tax
                    + record.refund_retail_delivery_fee)
            if offer is None or not Decimal("0") < offer.amount < full:
                raise bad_request(f"partial_refund.amount must be above 0 and below {full}")
            record.partial_refund = offer.amount
            record.seller_proposed_return_type = "PARTIAL_REFUND"
            self._move(record, ReturnStatus.AWAITING_BUYER_RESPONSE)
        else:
            raise self._not_allowed(record, decision)
        record.decisions[key] = decision

    def reject(self, record: ReturnRecord, key: str, decision: str, reason: str) -> None:
        if self._once(record, key, decision):
            return
        if decision != self.reject_decision(record):
            raise self._not_allowed(record, decision)
        if reason not in self._allowed_reasons(record):
            raise business_error(ErrorCode.REJECT_REASON_INVALID,
                                 f"reject_reason {reason!r} is not one of Get Reject Reasons for {record.id}")
        record.reject_reason = reason
        target = {
            "REJECT_REPLACEMENT": ReturnStatus.REPLACEMENT_REJECT,
            "REJECT_RECEIVED_PACKAGE": ReturnStatus.REJECT_RECEIVE_PACKAGE,
        }.get(decision, ReturnStatus.REQUEST_REJECT)
        self._move(record, target)
        record.decisions[key] = decision
