"""SKU links (TikTok SKU -> Shopify variant, per connection) and the catalog snapshots
used to propose them (equal seller SKU and variant SKU)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select

from orderbridge.adapters.db._sql import insert_for, row_dict
from orderbridge.adapters.db.tables import shopify_variants, sku_links, tiktok_skus
from orderbridge.adapters.db.types import SkuLinkSource

__all__ = [
    "ShopifyVariantRow",
    "SkuLinkRow",
    "TikTokSkuRow",
    "delete_sku_link",
    "get_sku_links",
    "get_tiktok_sku",
    "inventory_item_of",
    "list_sku_links",
    "list_tiktok_skus",
    "list_variants",
    "replace_shopify_variants",
    "replace_tiktok_skus",
    "tiktok_sku_ids_with_seller_sku",
    "tiktok_skus_by_seller_sku",
    "upsert_sku_link",
    "variant_ids_by_skus",
    "variants_by_sku",
]

_CHUNK = 500


@dataclass(frozen=True, slots=True)
class SkuLinkRow:
    """One TikTok SKU linked to one Shopify variant."""

    connection_id: int
    tiktok_sku_id: str
    shopify_variant_id: str
    shopify_inventory_item_id: str | None
    seller_sku: str | None
    source: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ShopifyVariantRow:
    """A Shopify variant as of the last catalog sync."""

    connection_id: int
    variant_id: str
    inventory_item_id: str | None
    product_id: str | None
    sku: str | None
    title: str | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class TikTokSkuRow:
    """A TikTok SKU as of the last catalog sync."""

    connection_id: int
    sku_id: str
    product_id: str | None
    seller_sku: str | None
    title: str | None
    updated_at: datetime


def upsert_sku_link(
    conn: Connection,
    connection_id: int,
    tiktok_sku_id: str,
    shopify_variant_id: str,
    *,
    now: datetime,
    source: str = SkuLinkSource.EXPLICIT,
    shopify_inventory_item_id: str | None = None,
    seller_sku: str | None = None,
) -> SkuLinkRow:
    """Link a TikTok SKU to a variant (replacing an earlier link of that SKU)."""
    ins = insert_for(conn, sku_links)
    stmt = (
        ins.values(
            connection_id=connection_id, tiktok_sku_id=tiktok_sku_id,
            shopify_variant_id=shopify_variant_id,
            shopify_inventory_item_id=shopify_inventory_item_id, seller_sku=seller_sku,
            source=str(source), created_at=now,
        )
        .on_conflict_do_update(
            index_elements=[sku_links.c.connection_id, sku_links.c.tiktok_sku_id],
            set_={
                "shopify_variant_id": ins.excluded.shopify_variant_id,
                "shopify_inventory_item_id": ins.excluded.shopify_inventory_item_id,
                "seller_sku": ins.excluded.seller_sku,
                "source": ins.excluded.source,
                "created_at": ins.excluded.created_at,
            },
        )
        .returning(*sku_links.c)
    )
    return SkuLinkRow(**row_dict(conn.execute(stmt).one()))


def get_sku_links(
    conn: Connection, connection_id: int, tiktok_sku_ids: Iterable[str]
) -> dict[str, SkuLinkRow]:
    """The links of these TikTok SKUs, by SKU id (missing ones are absent)."""
    wanted = list(dict.fromkeys(tiktok_sku_ids))
    found: dict[str, SkuLinkRow] = {}
    for start in range(0, len(wanted), _CHUNK):
        rows = conn.execute(
            select(sku_links).where(
                sku_links.c.connection_id == connection_id,
                sku_links.c.tiktok_sku_id.in_(wanted[start : start + _CHUNK]),
            )
        )
        for r in rows:
            link = SkuLinkRow(**row_dict(r))
            found[link.tiktok_sku_id] = link
    return found


def list_sku_links(conn: Connection, connection_id: int) -> list[SkuLinkRow]:
    """Every SKU link of a connection."""
    rows = conn.execute(
        select(sku_links)
        .where(sku_links.c.connection_id == connection_id)
        .order_by(sku_links.c.tiktok_sku_id)
    )
    return [SkuLinkRow(**row_dict(r)) for r in rows]


def delete_sku_link(conn: Connection, connection_id: int, tiktok_sku_id: str) -> bool:
    """Unlink a TikTok SKU; True if it was linked."""
    stmt = delete(sku_links).where(
        sku_links.c.connection_id == connection_id, sku_links.c.tiktok_sku_id == tiktok_sku_id
    )
    return conn.execute(stmt).rowcount == 1


def _replace(conn: Connection, table: Any, connection_id: int, rows: Sequence[dict[str, Any]]) -> int:
    conn.execute(delete(table).where(table.c.connection_id == connection_id))
    values = [{**row, "connection_id": connection_id} for row in rows]
    for start in range(0, len(values), _CHUNK):
        conn.execute(table.insert(), values[start : start + _CHUNK])
    return len(values)


def replace_shopify_variants(
    conn: Connection, connection_id: int, variants: Sequence[dict[str, Any]], *, now: datetime
) -> int:
    """Replace a connection's variant snapshot. Each dict: ``variant_id`` and optional
    ``inventory_item_id``, ``product_id``, ``sku``, ``title``."""
    keys = ("variant_id", "inventory_item_id", "product_id", "sku", "title")
    rows = [{k: v.get(k) for k in keys} | {"updated_at": now} for v in variants]
    return _replace(conn, shopify_variants, connection_id, rows)


def replace_tiktok_skus(
    conn: Connection, connection_id: int, skus: Sequence[dict[str, Any]], *, now: datetime
) -> int:
    """Replace a connection's TikTok SKU snapshot. Each dict: ``sku_id`` and optional
    ``product_id``, ``seller_sku``, ``title``."""
    keys = ("sku_id", "product_id", "seller_sku", "title")
    rows = [{k: s.get(k) for k in keys} | {"updated_at": now} for s in skus]
    return _replace(conn, tiktok_skus, connection_id, rows)


def variants_by_sku(conn: Connection, connection_id: int, sku: str) -> list[ShopifyVariantRow]:
    """Variants whose SKU equals ``sku`` exactly (two or more: AMBIGUOUS_SKU)."""
    rows = conn.execute(
        select(shopify_variants)
        .where(shopify_variants.c.connection_id == connection_id, shopify_variants.c.sku == sku)
        .order_by(shopify_variants.c.variant_id)
    )
    return [ShopifyVariantRow(**row_dict(r)) for r in rows]


def tiktok_skus_by_seller_sku(
    conn: Connection, connection_id: int, seller_sku: str
) -> list[TikTokSkuRow]:
    """TikTok SKUs whose seller SKU equals ``seller_sku`` exactly."""
    rows = conn.execute(
        select(tiktok_skus)
        .where(tiktok_skus.c.connection_id == connection_id, tiktok_skus.c.seller_sku == seller_sku)
        .order_by(tiktok_skus.c.sku_id)
    )
    return [TikTokSkuRow(**row_dict(r)) for r in rows]


def list_tiktok_skus(conn: Connection, connection_id: int) -> list[TikTokSkuRow]:
    """A connection's imported TikTok SKUs, by seller SKU."""
    rows = conn.execute(select(tiktok_skus).where(tiktok_skus.c.connection_id == connection_id)
                        .order_by(tiktok_skus.c.seller_sku, tiktok_skus.c.sku_id))
    return [TikTokSkuRow(**row_dict(r)) for r in rows]


def list_variants(conn: Connection, connection_id: int, *, limit: int = 5000) -> list[ShopifyVariantRow]:
    """A connection's imported Shopify variants, by SKU then title."""
    rows = conn.execute(select(shopify_variants).where(shopify_variants.c.connection_id == connection_id)
                        .order_by(shopify_variants.c.sku, shopify_variants.c.title).limit(limit))
    return [ShopifyVariantRow(**row_dict(r)) for r in rows]


def get_tiktok_sku(conn: Connection, connection_id: int, sku_id: str) -> TikTokSkuRow | None:
    """The imported TikTok SKU with this id, if any."""
    row = conn.execute(select(tiktok_skus).where(
        tiktok_skus.c.connection_id == connection_id, tiktok_skus.c.sku_id == sku_id)).first()
    return None if row is None else TikTokSkuRow(**row_dict(row))


def tiktok_sku_ids_with_seller_sku(conn: Connection, connection_id: int, seller_sku: str | None) -> list[str]:
    """Ids of the TikTok SKUs whose seller SKU equals ``seller_sku`` (``None``: that have
    none), in id order."""
    t = tiktok_skus
    rows = conn.execute(
        select(t.c.sku_id).where(t.c.connection_id == connection_id, t.c.seller_sku == seller_sku)
        .order_by(t.c.sku_id)
    ).scalars().all()
    return [str(r) for r in rows]


def variant_ids_by_skus(conn: Connection, connection_id: int, skus: Sequence[str]) -> dict[str, list[str]]:
    """Variant ids per SKU among ``skus`` (each list sorted, so candidates are stable)."""
    found: dict[str, list[str]] = {}
    v = shopify_variants
    for start in range(0, len(skus), _CHUNK):
        rows = conn.execute(
            select(v.c.sku, v.c.variant_id)
            .where(v.c.connection_id == connection_id, v.c.sku.in_(list(skus[start : start + _CHUNK])))
            .order_by(v.c.sku, v.c.variant_id)
        )
        for sku, variant_id in rows:
            found.setdefault(str(sku), []).append(str(variant_id))
    return found


def inventory_item_of(conn: Connection, connection_id: int, variant_id: str) -> str | None:
    """The inventory item of an imported Shopify variant (``None``: unknown or not imported)."""
    value: str | None = conn.execute(select(shopify_variants.c.inventory_item_id).where(
        shopify_variants.c.connection_id == connection_id,
        shopify_variants.c.variant_id == variant_id,
    )).scalar()
    return value
