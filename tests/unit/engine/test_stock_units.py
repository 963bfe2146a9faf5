"""Units of TikTok orders still holding stock, counted from the links' TikTok snapshots."""

from typing import Any

from orderbridge.adapters.db.stock import PendingOrder
from orderbridge.engine.stock_units import pending_units


def _order(order_id: str, *lines: dict[str, Any]) -> dict[str, Any]:
    return {"id": order_id, "status": "AWAITING_SHIPMENT",
            "line_items": [{"id": f"{order_id}-{n}", **line} for n, line in enumerate(lines)]}


def test_units_are_counted_per_sku_and_side() -> None:
    waiting = {"sku_id": "s1", "package_status": "TO_FULFILL"}
    orders = [
        PendingOrder(1, "o1", False, _order("o1", waiting, waiting, {"sku_id": "s2"})),
        PendingOrder(2, "o2", True, _order("o2", waiting, {"sku_id": "s1", "package_status": "PROCESSING"},
                                            {"sku_id": "s1", "display_status": "CANCELLED"},
                                            {"sku_id": "s2", "cancel_user": "BUYER"})),
        PendingOrder(3, "o3", False, None),  # not read yet: TikTok's committed count covers it
        PendingOrder(4, "o4", False, {"id": ["not", "an", "id"]}),  # unreadable: skipped, logged
    ]
    found = pending_units(orders)
    assert found.unmirrored == {"s1": 2, "s2": 1}
    assert found.mirrored == {"s1": 1}
