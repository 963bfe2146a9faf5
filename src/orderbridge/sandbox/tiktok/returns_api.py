"""The after-sale desk's wire: the seller's endpoints (Approve Return, Reject Return, Get
Reject Reasons) and the control routes that play the buyer and TikTok's arbitration."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict

from orderbridge.sandbox.tiktok.api import Ctx, Route
from orderbridge.sandbox.tiktok.auth import AuthKind
from orderbridge.sandbox.tiktok.constants import (
    MAX_IDEMPOTENCY_KEY,
    ErrorCode,
    ReturnStatus,
    ReturnType,
)
from orderbridge.sandbox.tiktok.errors import bad_request, business_error
from orderbridge.sandbox.tiktok.orders import OrderRuleError
from orderbridge.sandbox.tiktok.platform_shipping import ship_by_tiktok
from orderbridge.sandbox.tiktok.render import return_json
from orderbridge.sandbox.tiktok.returns import Offer, ReturnDesk
from orderbridge.sandbox.tiktok.state import ReturnRecord

__all__ = ["ReturnApi", "build_return_control"]

_STRICT = ConfigDict(extra="forbid")


class ReturnApi:
    """Handlers of ``/return_refund/202309/returns/{return_id}/approve|reject`` and
    ``/return_refund/202309/reject_reasons``."""

    def __init__(self, desk: ReturnDesk) -> None:
        self.desk = desk
        self.world = desk.world

    def routes(self) -> list[Route]:
        s = AuthKind.SHOP
        return [
            Route("POST", "/return_refund/202309/returns/{return_id}/approve", s, self.approve),
            Route("POST", "/return_refund/202309/returns/{return_id}/reject", s, self.reject),
            Route("GET", "/return_refund/202309/reject_reasons", s, self.reject_reasons),
        ]

    def _record(self, ctx: Ctx, return_id: str) -> ReturnRecord:
        record = self.world.returns.get(return_id)
        if record is None or record.shop_id != ctx.shop.id:
            raise business_error(ErrorCode.RETURN_NOT_FOUND, "The return does not exist")
        return record

    @staticmethod
    def _key(ctx: Ctx) -> str:
        key = ctx.params.get("idempotency_key", "")
        if len(key) > MAX_IDEMPOTENCY_KEY:
            raise bad_request(f"idempotency_key is longer than {MAX_IDEMPOTENCY_KEY} characters")
        return key

    async def approve(self, ctx: Ctx) -> Any:
        record = self._record(ctx, ctx.path_params["return_id"])
        key, body = self._key(ctx), ctx.json()
        decision = body.get("decision")
        if not isinstance(decision, str):
            raise bad_request("decision is required")
        offer = None
        partial = body.get("partial_refund")
        if partial is not None:
            if not isinstance(partial, dict) or not isinstance(partial.get("amount"), str):
                raise bad_request("partial_refund must be {currency, amount}")
            try:
                offer = Offer(Decimal(partial["amount"]))
            except InvalidOperation:
                raise bad_request("partial_refund.amount is not a number") from None
        self.desk.approve(record, key, decision, offer)
        return {}

    async def reject(self, ctx: Ctx) -> Any:
        record = self._record(ctx, ctx.path_params["return_id"])
        key, body = self._key(ctx), ctx.json()
        decision, reason = body.get("decision"), body.get("reject_reason")
        if not isinstance(decision, str) or not isinstance(reason, str):
            raise bad_request("decision and reject_reason are required")
        self.desk.reject(record, key, decision, reason)
        return {}

    async def reject_reasons(self, ctx: Ctx) -> Any:
        ref = ctx.params.get("return_or_cancel_id", "")
        if not ref:
            raise bad_request("return_or_cancel_id is required")
        return {"reasons": self.desk.reject_reasons(self._record(ctx, ref))}


class OpenIn(BaseModel):
    """The buyer's request (all lines not already returned, by default)."""

    model_config = _STRICT
    return_type: ReturnType = ReturnType.REFUND
    order_line_item_ids: list[str] | None = None
    reason: str = "ecom_return_reason_not_as_described"


class EditIn(BaseModel):
    model_config = _STRICT
    return_type: ReturnType | None = None
    order_line_item_ids: list[str] | None = None
    reason: str | None = None


class ShipIn(BaseModel):
    model_config = _STRICT
    tracking_number: str = "9400111899223197428561"
    provider: str = "USPS"


class AnswerIn(BaseModel):
    model_config = _STRICT
    accept: bool


class RuleIn(BaseModel):
    model_config = _STRICT
    for_buyer: bool


# Older one-word steps (tests and the demo): the seller's or TikTok's move, by name.
_STEPS = ("approve", "reject", "buyer_shipped", "received", "refunded", "cancel")


def build_return_control(desk: ReturnDesk) -> APIRouter:
    """Control routes (under ``/tiktok``): the buyer and TikTok on a return."""
    world = desk.world
    r = APIRouter(tags=["tiktok returns"])

    def record_of(return_id: str) -> ReturnRecord:
        record = world.returns.get(return_id)
        if record is None:
            raise HTTPException(404, f"unknown return {return_id}")
        return record

    def out(record: ReturnRecord) -> dict[str, Any]:
        return return_json(record, world.orders[record.order_id])

    def guarded(fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except OrderRuleError as exc:
            raise HTTPException(409, str(exc)) from None

    @r.post("/orders/{order_id}/returns")
    async def open_return(order_id: str, body: OpenIn) -> dict[str, Any]:
        """The buyer asks for a refund only, a return and refund, or a replacement."""
        order = world.orders.get(order_id)
        if order is None:
            raise HTTPException(404, f"unknown order {order_id}")
        return out(guarded(desk.open, order, body.return_type, body.order_line_item_ids, body.reason))

    @r.post("/orders/{order_id}/tiktok_ships")
    async def tiktok_ships(order_id: str) -> dict[str, Any]:
        """TikTok ships an order it fulfils (FBT or TikTok Shipping): one package, USPS."""
        order = world.orders.get(order_id)
        if order is None:
            raise HTTPException(404, f"unknown order {order_id}")
        package = guarded(ship_by_tiktok, desk.engine, order)
        return {"package_id": package.id, "tracking_number": package.tracking_number,
                "status": order.status.value}

    @r.get("/returns")
    async def list_returns(order_id: str = "") -> list[dict[str, Any]]:
        """Return records (optionally of one order)."""
        return [out(x) for x in world.returns.values() if not order_id or x.order_id == order_id]

    @r.post("/returns/{return_id}/edit")
    async def edit(return_id: str, body: EditIn) -> dict[str, Any]:
        """The buyer edits a pending request: a new return id (``pre_return_id``) carries on."""
        return out(guarded(desk.edit, record_of(return_id), body.return_type,
                           body.order_line_item_ids, body.reason))

    @r.post("/returns/{return_id}/ship")
    async def ship(return_id: str, body: ShipIn) -> dict[str, Any]:
        """The buyer ships the return with a tracking number."""
        record = record_of(return_id)
        guarded(desk.ship_back, record, body.tracking_number, body.provider)
        return out(record)

    @r.post("/returns/{return_id}/offer")
    async def answer(return_id: str, body: AnswerIn) -> dict[str, Any]:
        """The buyer accepts or declines the seller's partial refund."""
        record = record_of(return_id)
        guarded(desk.answer_offer, record, body.accept)
        return out(record)

    @r.post("/returns/{return_id}/escalate")
    async def escalate(return_id: str) -> dict[str, Any]:
        """The buyer takes a rejection to TikTok's arbitration."""
        record = record_of(return_id)
        guarded(desk.escalate, record)
        return out(record)

    @r.post("/returns/{return_id}/arbitrate")
    async def arbitrate(return_id: str, body: RuleIn) -> dict[str, Any]:
        """TikTok rules for the buyer (refund) or the seller."""
        record = record_of(return_id)
        guarded(desk.rule, record, body.for_buyer)
        return out(record)

    @r.post("/returns/{return_id}/{step}")
    async def step(return_id: str, step: str) -> dict[str, Any]:
        """Shortcuts: approve | reject | buyer_shipped | received | refunded | cancel (as the
        seller in Seller Center, the buyer or TikTok; the API is the seller's real way)."""
        record = record_of(return_id)
        if step not in _STEPS:
            raise HTTPException(422, f"step must be one of {', '.join(_STEPS)}")
        guarded(_shortcut, desk, record, step)
        return out(record)

    return r


def _shortcut(desk: ReturnDesk, record: ReturnRecord, step: str) -> None:
    status = record.status
    if step == "cancel":
        desk.cancel(record)
    elif step == "buyer_shipped":
        desk.ship_back(record, "9400111899223197428561", "USPS")
    elif step == "reject":
        decision = desk.reject_decision(record)
        if not decision:
            raise OrderRuleError(f"return {record.id} is {status.value}: nothing to reject")
        desk.reject(record, f"control-{record.id}-{status.value}", decision,
                    desk.reject_reasons(record)[0]["name"])
    elif step == "approve":
        decision = {ReturnStatus.REPLACEMENT_PENDING: "APPROVE_REPLACEMENT",
                    ReturnStatus.BUYER_SHIPPED_ITEM: "APPROVE_RECEIVED_PACKAGE"}.get(status) or (
            "APPROVE_RETURN" if record.return_type is ReturnType.RETURN_AND_REFUND else "APPROVE_REFUND")
        _seller(desk, record, decision)
    elif step == "received":
        _seller(desk, record, "APPROVE_RECEIVED_PACKAGE")
    else:  # refunded: TikTok completes the refund now
        if status not in (ReturnStatus.REQUEST_SUCCESS, ReturnStatus.BUYER_SHIPPED_ITEM,
                          ReturnStatus.REQUEST_PENDING):
            raise OrderRuleError(f"return {record.id} is {status.value}: no refund to complete")
        desk.complete_now(record)


def _seller(desk: ReturnDesk, record: ReturnRecord, decision: str) -> None:
    try:
        desk.approve(record, f"control-{record.id}-{record.status.value}", decision, None)
    except Exception as exc:  # a business error of the API, as a control 409
        raise OrderRuleError(getattr(exc, "message", str(exc))) from None
