"""Shopify ``inventory_levels/update``: a hint that a linked SKU's stock changed.

Like every webhook it is only a trigger (docs/architecture.md): the payload's ``available``
is not used. The linked TikTok SKUs of the inventory item are made due in the stock push's
table (debounced per the connection's ``policy.stock.debounce_seconds``), in the intake's
transaction; the pusher re-reads the level from Shopify (``engine/stock_push.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from orderbridge.adapters.db import Connection
from orderbridge.adapters.db import stock as stock_db
from orderbridge.domain.stock_push import debounced_due
from orderbridge.engine.stock_config import stock_config
from orderbridge.errors import ConfigurationError

__all__ = ["INVENTORY_TOPIC", "inventory_changed"]

INVENTORY_TOPIC: Final = "inventory_levels/update"
INVENTORY_ITEM_GID: Final = "gid://shopify/InventoryItem/"


def _item_gid(payload: dict[str, Any]) -> str | None:
    raw = payload.get("inventory_item_id")
    if isinstance(raw, bool) or not isinstance(raw, int | str) or not str(raw).strip().isdigit():
        return None
    return f"{INVENTORY_ITEM_GID}{str(raw).strip()}"


def inventory_changed(conn: Connection, connection_ids: Sequence[int], payload: dict[str, Any],
                      now: datetime) -> tuple[int, str | None]:
    """Make the SKUs of the payload's inventory item due; (SKUs made due, error or None)."""
    item = _item_gid(payload)
    if item is None:
        return 0, "inventory_levels/update without a numeric inventory_item_id"
    skus = stock_db.skus_for_inventory_items(conn, connection_ids, [item])
    policies = stock_db.connection_policies(conn, sorted({s.connection_id for s in skus}))
    due = 0
    for cid, policy in policies.items():
        try:
            config = stock_config(policy)
        except ConfigurationError as exc:
            return due, str(exc)
        if not config.enabled:
            continue
        mine = [s for s in skus if s.connection_id == cid]
        window = timedelta(seconds=config.debounce_seconds)

        def due_at(last_pushed: datetime | None, window: timedelta = window) -> datetime:
            return debounced_due(now, None, window, last_pushed)

        due += stock_db.mark_due(conn, mine, now=now, due=due_at)
    return due, None
