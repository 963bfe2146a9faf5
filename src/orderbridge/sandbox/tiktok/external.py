"""External order references (Order API 202406): the seller's OMS ids stored on TikTok orders.

Add External Order References (``POST /order/202406/orders/external_orders``) takes up to 100
orders, each ``{id, external_order: {id, platform, line_items[{id, origin_id}]}}``; one
reference per platform and order (a second call with the same platform replaces it). Orders
it cannot take are listed in ``data.errors`` (code "36020001" Invalid order_id) while the
others are stored; a malformed body is a parameter error. Get External Order References
(``GET /order/202406/orders/{order_id}/external_orders?platform=``) reads them back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from orderbridge.sandbox.tiktok.errors import bad_request

if TYPE_CHECKING:
    from orderbridge.sandbox.tiktok.api import Ctx
    from orderbridge.sandbox.tiktok.state import Shop, World

__all__ = ["EXTERNAL_PLATFORMS", "ExternalOrders"]

# The platforms the reference lists for ``external_order.platform``.
EXTERNAL_PLATFORMS: Final = frozenset({
    "SHOPIFY", "WOOCOMMERCE", "BIGCOMMERCE", "MAGENTO", "SALESFORCE_COMMERCE_CLOUD", "CHANNEL_ADVISOR",
    "AMAZON", "ORDER_MANAGEMENT_SYSTEM", "WAREHOUSE_MANAGEMENT_SYSTEM", "ERP_SYSTEM",
})
MAX_EXTERNAL_ORDERS: Final = 100  # orders per call, and line items per order
INVALID_ORDER_ID: Final = "36020001"  # the reference's per-order error code (a string)


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise bad_request(f"{where} is required (a non-empty string)")
    return value


def _reference(raw: Any, index: int) -> tuple[str, dict[str, Any]]:
    where = f"orders[{index}]"
    if not isinstance(raw, dict):
        raise bad_request(f"{where} must be an object")
    order_id = _text(raw.get("id"), f"{where}.id")
    ext = raw.get("external_order")
    if not isinstance(ext, dict):
        raise bad_request(f"{where}.external_order is required")
    platform = _text(ext.get("platform"), f"{where}.external_order.platform")
    if platform not in EXTERNAL_PLATFORMS:
        raise bad_request(f"{where}.external_order.platform must be one of {', '.join(sorted(EXTERNAL_PLATFORMS))}")
    lines = ext.get("line_items")
    if not isinstance(lines, list) or not 0 < len(lines) <= MAX_EXTERNAL_ORDERS:
        raise bad_request(f"{where}.external_order.line_items must list 1 to {MAX_EXTERNAL_ORDERS} items")
    items = []
    for j, line in enumerate(lines):
        if not isinstance(line, dict):
            raise bad_request(f"{where}.external_order.line_items[{j}] must be an object")
        items.append({"id": _text(line.get("id"), f"{where}.external_order.line_items[{j}].id"),
                      "origin_id": _text(line.get("origin_id"),
                                         f"{where}.external_order.line_items[{j}].origin_id")})
    return order_id, {"id": _text(ext.get("id"), f"{where}.external_order.id"), "platform": platform,
                      "line_items": items}


class ExternalOrders:
    """The two handlers, bound to the world."""

    def __init__(self, world: World) -> None:
        self.world = world

    def _valid_order(self, shop: Shop, order_id: str) -> bool:
        order = self.world.orders.get(order_id)
        return order is not None and order.shop_id == shop.id

    async def add(self, ctx: Ctx) -> Any:
        raw = ctx.json().get("orders")
        if not isinstance(raw, list) or not 0 < len(raw) <= MAX_EXTERNAL_ORDERS:
            raise bad_request(f"orders must list 1 to {MAX_EXTERNAL_ORDERS} orders")
        parsed = [_reference(r, i) for i, r in enumerate(raw)]
        errors = []
        for order_id, ref in parsed:
            if not self._valid_order(ctx.shop, order_id):
                errors.append({"code": INVALID_ORDER_ID, "message": "Invalid order_id",
                               "detail": {"order_id": order_id,
                                          "external_order": {"id": ref["id"], "platform": ref["platform"]}}})
                continue
            self.world.orders[order_id].external_orders[ref["platform"]] = ref
        return {"errors": errors}

    async def get(self, ctx: Ctx) -> Any:
        order_id = ctx.path_params["order_id"]
        if not self._valid_order(ctx.shop, order_id):
            raise bad_request(f"Invalid order_id {order_id}")
        platform = ctx.params.get("platform", "")
        refs = self.world.orders[order_id].external_orders
        chosen = [r for p, r in refs.items() if not platform or p == platform]
        return {"order_id": order_id, "external_orders": chosen}
