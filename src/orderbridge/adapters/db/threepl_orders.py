"""3PL orders as last seen (``threepl_orders``), stored as the domain's ``ThreePLView``.

The 3PL poller and webhooks ``upsert`` what they see; a pass reads its link's candidates
with ``find_by_references`` (the references ``domain/threepl.references`` lists) and the
domain picks one. ``due_links_for`` makes the links a 3PL order may belong to due.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, or_, select

from orderbridge.adapters.db import links
from orderbridge.adapters.db._sql import insert_for
from orderbridge.adapters.db.tables import order_links
from orderbridge.adapters.db.tables import threepl_orders as t
from orderbridge.domain.observed import ThreePLPackage, ThreePLView
from orderbridge.domain.policy import ThreePL

__all__ = [
    "due_links_for",
    "find_by_references",
    "remote_updated_at",
    "upsert",
    "view_from_json",
    "view_to_json",
]

_SHOPIFY_ORDER_GID = "gid://shopify/Order/"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _at(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def view_to_json(view: ThreePLView) -> dict[str, Any]:
    """The stored form of a view (JSON-safe)."""
    return {
        "order_id": view.order_id,
        "provider": str(view.provider) or None,
        "reference": view.reference,
        "status": view.status,
        "cancellable": view.cancellable,
        "cancelled": view.cancelled,
        "shipped_without_tracking": view.shipped_without_tracking,
        "live_shipments": view.live_shipments,
        "picked": view.picked,
        "updated_at": _iso(view.updated_at),
        "packages": [
            {"tracking_number": p.tracking_number, "carrier": p.carrier, "shipped_at": _iso(p.shipped_at)}
            for p in view.packages
        ],
    }


def view_from_json(data: dict[str, Any]) -> ThreePLView:
    """The view stored by ``view_to_json``."""
    provider = data.get("provider")
    return ThreePLView(
        order_id=str(data["order_id"]),
        provider=str(ThreePL(provider)) if provider else "",
        reference=str(data.get("reference") or ""),
        status=str(data.get("status") or ""),
        cancellable=bool(data.get("cancellable", True)),
        cancelled=bool(data.get("cancelled", False)),
        shipped_without_tracking=bool(data.get("shipped_without_tracking", False)),
        live_shipments=int(data.get("live_shipments") or 0),
        picked=bool(data.get("picked", False)),
        updated_at=_at(data.get("updated_at")),
        packages=tuple(
            ThreePLPackage(tracking_number=str(p.get("tracking_number") or ""),
                           carrier=str(p.get("carrier") or ""), shipped_at=_at(p.get("shipped_at")))
            for p in data.get("packages") or () if isinstance(p, dict)
        ),
    )


def upsert(conn: Connection, connection_id: int, view: ThreePLView, *, now: datetime,
           alt_reference: str | None = None) -> bool:
    """Store ``view`` (by provider and 3PL order id); returns whether it changed."""
    if not view.provider:
        raise ValueError("a stored 3PL order needs its provider")
    data = view_to_json(view)
    key = (t.c.connection_id == connection_id, t.c.provider == str(view.provider),
           t.c.threepl_order_id == view.order_id)
    before = conn.execute(select(t.c.view, t.c.alt_reference).where(*key)).first()
    if before is not None and before.view == data and before.alt_reference == alt_reference:
        return False
    ins = insert_for(conn, t)
    values = {"reference": view.reference, "alt_reference": alt_reference or None, "view": data,
              "remote_updated_at": view.updated_at, "updated_at": now}
    conn.execute(
        ins.values(connection_id=connection_id, provider=str(view.provider),
                   threepl_order_id=view.order_id, **values)
        .on_conflict_do_update(index_elements=[t.c.connection_id, t.c.provider, t.c.threepl_order_id],
                               set_=values)
    )
    return True


def find_by_references(conn: Connection, connection_id: int, refs: Sequence[str]) -> list[ThreePLView]:
    """Every stored 3PL order whose reference (or alternative one) is in ``refs``; its view's
    ``reference`` is the one that matched (the reference first)."""
    wanted = [r for r in dict.fromkeys(refs) if r]
    if not wanted:
        return []
    rows = conn.execute(
        select(t.c.view, t.c.reference, t.c.alt_reference).where(
            t.c.connection_id == connection_id,
            or_(t.c.reference.in_(wanted), t.c.alt_reference.in_(wanted)),
        ).order_by(t.c.provider, t.c.threepl_order_id)
    ).all()
    found: list[ThreePLView] = []
    for row in rows:
        view = view_from_json(dict(row.view))
        matched = row.reference if row.reference in wanted else row.alt_reference
        found.append(replace(view, reference=matched))
    return found


def due_links_for(conn: Connection, connection_id: int, refs: Sequence[str], at: datetime) -> int:
    """Make due the links a 3PL order with these references may belong to (by TikTok order
    id, Shopify order id or Shopify order name); returns how many moved."""
    wanted = [r for r in dict.fromkeys(refs) if r]
    if not wanted:
        return 0
    names = [*wanted, *(f"#{r}" for r in wanted if not r.startswith("#"))]
    shopify_ids = [*wanted, *(_SHOPIFY_ORDER_GID + r for r in wanted if r.isdigit())]
    ol = order_links.c
    ids = conn.execute(
        select(ol.id).where(
            ol.connection_id == connection_id,
            or_(ol.tiktok_order_id.in_(wanted), ol.shopify_order_id.in_(shopify_ids),
                ol.shopify_order_name.in_(names)),
        )
    ).scalars().all()
    if not ids:
        return 0
    return links.mark_due(conn, at, ids=list(ids))


def remote_updated_at(
    conn: Connection, connection_id: int, provider: str, threepl_order_id: str
) -> tuple[datetime | None, str] | None:
    """When the 3PL last changed the stored order (as it said) and its status then, or None
    when it is not stored."""
    row = conn.execute(
        select(t.c.remote_updated_at, t.c.view).where(
            t.c.connection_id == connection_id, t.c.provider == provider,
            t.c.threepl_order_id == threepl_order_id)
    ).first()
    if row is None:
        return None
    return row.remote_updated_at, str(dict(row.view).get("status") or "")
