"""Bulk loading of order links and exceptions for benchmarks and load tests (never the engine).

One multi-row ``INSERT`` per batch (executemany), no per-row reads: the dashboard's benchmark
(``bench/dashboard.py``) seeds hundreds of thousands of orders this way in seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from orderbridge.adapters.db.tables import order_exceptions, order_links

__all__ = ["SeedLink", "insert_exceptions", "insert_links"]

SeedLink = dict[str, Any]


def insert_links(conn: Connection, rows: Sequence[SeedLink], *, now: datetime) -> list[int]:
    """Insert links of one connection (``connection_id``, ``tiktok_order_id``, ``first_seen_at``
    and optional ``state``, ``tiktok_status``, ``shopify_order_id``/``name``, ``memory``,
    ``tiktok_snapshot``); returns their ids in ``rows``' order. Not due (no ``next_due_at``):
    no worker picks them up."""
    if not rows:
        return []
    cid = int(rows[0]["connection_id"])
    if any(int(r["connection_id"]) != cid for r in rows):
        raise ValueError("insert_links takes the links of one connection at a time")
    base: dict[str, Any] = {"state": "new", "tiktok_status": None, "shopify_order_id": None, "shopify_order_name": None,
            "memory": {}, "tiktok_snapshot": None, "next_due_at": None, "version": 1, "attempts": 0,
            "priority": 100, "shopify_hints": 0, "created_at": now, "updated_at": now}
    conn.execute(insert(order_links), [{**base, **row} for row in rows])
    t = order_links
    first, last = rows[0], rows[-1]
    low, high = sorted((str(first["tiktok_order_id"]), str(last["tiktok_order_id"])))
    found = conn.execute(select(t.c.id, t.c.tiktok_order_id).where(
        t.c.connection_id == cid, t.c.tiktok_order_id.between(low, high)))
    ids = {str(o): int(i) for i, o in found}
    return [ids[str(r["tiktok_order_id"])] for r in rows]


def insert_exceptions(conn: Connection, rows: Sequence[dict[str, Any]], *, now: datetime) -> None:
    """Insert open exceptions (``link_id``, ``code``, ``message`` and optional ``data``, ``action``)."""
    if rows:
        base = {"severity": "error", "data": None, "action": None, "status": "open", "created_at": now,
                "updated_at": now}
        conn.execute(insert(order_exceptions), [{**base, **row} for row in rows])
