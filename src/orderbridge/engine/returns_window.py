"""The 30-day return window of delivered orders, from the stored TikTok snapshots: when each
closes (``orderbridge returns``, ``/api/returns``) and how many are inside it (``status``).
Snapshots become domain orders at the adapter edge; the window is ``domain/returns.py``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from orderbridge.adapters.db import Connection
from orderbridge.adapters.db.return_window import delivered_orders
from orderbridge.adapters.tiktok.models import Order
from orderbridge.adapters.tiktok.translate import TranslationError, to_domain_order
from orderbridge.domain.returns import window_closes, within_window
from orderbridge.logs import get_logger

__all__ = ["WindowRow", "inside_counts", "read_windows", "window_json"]

slog = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class WindowRow:
    connection_id: int
    connection: str
    tiktok_order_id: str
    shopify_order_name: str | None
    delivered_at: datetime
    closes_at: datetime


def read_windows(conn: Connection, now: datetime, *, connection_id: int | None = None) -> list[WindowRow]:
    """Delivered orders whose return window is still open at ``now``, closing soonest first."""
    rows: list[WindowRow] = []
    for row in delivered_orders(conn, connection_id=connection_id):
        try:
            order = to_domain_order(Order.model_validate(row.snapshot))
        except (ValidationError, TranslationError, TypeError) as exc:
            slog.warning("return_window.unreadable_snapshot", tiktok_order_id=row.tiktok_order_id,
                         error=str(exc))
            continue
        closes = window_closes(order.delivery_time)
        if closes is None or order.delivery_time is None or not within_window(order.delivery_time, now):
            continue
        rows.append(WindowRow(row.connection_id, row.connection, row.tiktok_order_id,
                              row.shopify_order_name, order.delivery_time, closes))
    return sorted(rows, key=lambda r: (r.closes_at, r.tiktok_order_id))


def inside_counts(conn: Connection, now: datetime) -> dict[int, int]:
    """Per connection id: delivered orders inside the return window."""
    counts: dict[int, int] = {}
    for row in read_windows(conn, now):
        counts[row.connection_id] = counts.get(row.connection_id, 0) + 1
    return counts


def window_json(row: WindowRow) -> dict[str, Any]:
    return {"tiktok_order_id": row.tiktok_order_id, "connection": row.connection,
            "shopify_order_name": row.shopify_order_name, "delivered_at": row.delivered_at.isoformat(),
            "return_window_closes_at": row.closes_at.isoformat()}
