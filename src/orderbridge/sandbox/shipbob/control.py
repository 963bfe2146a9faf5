"""Control API of the ShipBob sandbox (mounted at ``/shipbob``): the warehouse.

Accept, pick, ship with a carrier and tracking number, deliver, fail for stock, hold,
delay, and read the raw state (each action sends the webhooks ShipBob would).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from orderbridge.sandbox.shipbob.state import Order, World
from orderbridge.sandbox.shipbob.warehouse import ShipBobError, Warehouse

__all__ = ["build_control"]

STRICT = ConfigDict(extra="forbid")


class ShipBobShipIn(BaseModel):
    model_config = STRICT
    carrier: str = Field(description="e.g. USPS, UPS, FedEx (checked against the carrier's format)")
    tracking_number: str
    carrier_service: str = "Ground"


class ShipBobDelayIn(BaseModel):
    model_config = STRICT
    hours: float = Field(gt=0, description="push the estimated fulfilment date back this long")


def build_control(world: World, warehouse: Warehouse) -> APIRouter:
    """The control router (tags ["shipbob"])."""
    r = APIRouter(tags=["shipbob"])

    def guarded(fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except ShipBobError as exc:
            raise HTTPException(404 if exc.status == 404 else 409, str(exc)) from None

    def raw(order: Order) -> dict[str, Any]:
        return world.order_json(order)

    @r.get("/orders")
    def list_orders() -> list[dict[str, Any]]:
        """Every order, as the API renders it."""
        return [raw(o) for o in world.orders.values()]

    @r.get("/orders/{order_id}")
    def get_order(order_id: int) -> dict[str, Any]:
        """One order."""
        return raw(guarded(warehouse.order, order_id))

    @r.post("/orders/{order_id}/accept")
    def accept(order_id: int) -> dict[str, Any]:
        """The warehouse takes the shipment in: None -> Processing (still cancellable)."""
        return raw(guarded(warehouse.accept, order_id))

    @r.post("/orders/{order_id}/pick")
    def pick(order_id: int) -> dict[str, Any]:
        """Picked (status detail): from now on it cannot be cancelled."""
        return raw(guarded(warehouse.pick, order_id))

    @r.post("/orders/{order_id}/ship")
    def ship(order_id: int, body: ShipBobShipIn) -> dict[str, Any]:
        """Ship with tracking: Completed, order Fulfilled, webhook order.shipped."""
        return raw(guarded(warehouse.ship, order_id, body.carrier, body.tracking_number, body.carrier_service))

    @r.post("/orders/{order_id}/deliver")
    def deliver(order_id: int) -> dict[str, Any]:
        """The carrier delivers: webhook order.shipment.delivered."""
        return raw(guarded(warehouse.deliver, order_id))

    @r.post("/orders/{order_id}/fail_stock")
    def fail_stock(order_id: int) -> dict[str, Any]:
        """Out of stock: Exception, webhook order.shipment.exception."""
        return raw(guarded(warehouse.fail_stock, order_id))

    @r.post("/orders/{order_id}/hold")
    def hold(order_id: int) -> dict[str, Any]:
        """Bad address: OnHold, webhook order.shipment.on_hold."""
        return raw(guarded(warehouse.hold, order_id))

    @r.post("/orders/{order_id}/delay")
    def delay(order_id: int, body: ShipBobDelayIn) -> dict[str, Any]:
        """Push the estimated fulfilment date back."""
        return raw(guarded(warehouse.delay, order_id, body.hours))

    return r
