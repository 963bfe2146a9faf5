"""Control API of the Amazon MCF sandbox (mounted at ``/amazon_mcf``): the warehouse.

Accept, pick, ship packages with a carrier and tracking number, fail for stock, delay,
deliver a package, force a status, show statuses upper-case, expire access tokens, and
read the raw state.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from orderbridge.sandbox.amazon_mcf.state import FulfillmentOrder, McfStatus, World
from orderbridge.sandbox.amazon_mcf.warehouse import OrderError, Warehouse

__all__ = ["build_control"]

STRICT = ConfigDict(extra="forbid")


class McfShipIn(BaseModel):
    model_config = STRICT
    carrier: str = Field(default="Amazon Logistics", description="carrierCode, e.g. UPS, USPS, Amazon Logistics")
    tracking_number: str | None = Field(default=None, description="valid for the carrier; Amazon Logistics: generated when absent")
    items: dict[str, int] | None = Field(default=None, description="sellerFulfillmentOrderItemId -> units; default every open unit")


class McfDelayIn(BaseModel):
    model_config = STRICT
    hours: float = Field(gt=0, description="push the estimated ship date back this long")


class McfStatusIn(BaseModel):
    model_config = STRICT
    status: McfStatus


class McfSettingsIn(BaseModel):
    model_config = STRICT
    uppercase_statuses: bool = Field(description="render statuses as in Amazon's examples (PROCESSING, COMPLETE)")


def build_control(world: World, warehouse: Warehouse) -> APIRouter:
    """The control router (tags ["amazon_mcf"])."""
    r = APIRouter(tags=["amazon_mcf"])

    def guarded(fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except OrderError as exc:
            raise HTTPException(exc.status if exc.status in (404, 409) else 409, str(exc)) from None

    def raw(order: FulfillmentOrder) -> dict[str, Any]:
        return world.detail_json(order)

    @r.get("/orders")
    def list_orders() -> list[dict[str, Any]]:
        """Every fulfilment order (getFulfillmentOrder payloads)."""
        return [raw(o) for o in world.orders.values()]

    @r.get("/orders/{order_id}")
    def get_order(order_id: str) -> dict[str, Any]:
        """One fulfilment order."""
        return raw(guarded(warehouse.order, order_id))

    @r.post("/orders/{order_id}/accept")
    def accept(order_id: str) -> dict[str, Any]:
        """The warehouse accepts the order: New/Received -> Planning (still cancellable)."""
        return raw(guarded(warehouse.accept, order_id))

    @r.post("/orders/{order_id}/pick")
    def pick(order_id: str) -> dict[str, Any]:
        """Picking starts: -> Processing (no longer cancellable)."""
        return raw(guarded(warehouse.pick, order_id))

    @r.post("/orders/{order_id}/ship")
    def ship(order_id: str, body: McfShipIn) -> dict[str, Any]:
        """Ship a package (all open units by default): Complete once nothing is open."""
        package = guarded(warehouse.ship, order_id, body.carrier, body.tracking_number, body.items)
        return {"package": world.tracking_json(package), "order": raw(warehouse.order(order_id))}

    @r.post("/orders/{order_id}/fail_stock")
    def fail_stock(order_id: str) -> dict[str, Any]:
        """No sellable stock for the open units: Unfulfillable (CompletePartialled if some shipped)."""
        return raw(guarded(warehouse.fail_stock, order_id))

    @r.post("/orders/{order_id}/delay")
    def delay(order_id: str, body: McfDelayIn) -> dict[str, Any]:
        """Push the estimated ship date back."""
        return raw(guarded(warehouse.delay, order_id, body.hours))

    @r.post("/orders/{order_id}/status")
    def set_status(order_id: str, body: McfStatusIn) -> dict[str, Any]:
        """Force a status (Invalid, CompletePartialled, ...)."""
        return raw(guarded(warehouse.set_status, order_id, body.status.value))

    @r.post("/packages/{package_number}/deliver")
    def deliver(package_number: int) -> dict[str, Any]:
        """The carrier delivers a package (tracking status DELIVERED)."""
        package = guarded(warehouse.deliver, package_number)
        return world.tracking_json(package)

    @r.post("/settings")
    def settings(body: McfSettingsIn) -> dict[str, bool]:
        """Sandbox settings."""
        world.uppercase_statuses = body.uppercase_statuses
        return {"uppercase_statuses": world.uppercase_statuses}

    @r.post("/tokens/expire")
    def expire_tokens() -> dict[str, int]:
        """Expire every LWA access token now (the refresh token stays valid)."""
        now = warehouse.clock.now()
        for token in world.tokens.values():
            token.expires = now
        return {"expired": len(world.tokens)}

    return r
