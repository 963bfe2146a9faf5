"""SKU linking: which Shopify variant a TikTok SKU is, per connection.

Order of resolution (docs/lifecycle.md, "SKU linking"):

1. a row in ``sku_links`` (made by the operator, or by ``import_catalogues`` from equal SKUs);
2. equal seller SKU = variant SKU (both trimmed, case-sensitive) against the Shopify
   variants of the last catalogue import: one variant maps, two or more are AMBIGUOUS
   (with the candidates; never "the first found");
3. otherwise UNMAPPED.

Bundles (TikTok combined listings) resolve only through step 1.

``resolve_skus`` is what the worker calls to build ``Observed.skus``; ``import_catalogues``
reads both catalogues over the API (no transaction open meanwhile) and stores them;
``link_sku`` is the operator's explicit link, which makes every order waiting on that SKU
due at once so that it resumes by itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from orderbridge.adapters.db import (
    Connection,
    SkuLinkSource,
    connections,
    events,
    links,
    order_exceptions,
    run_sync,
    sku_links,
    transaction,
)
from orderbridge.adapters.db.connections import ConnectionRow
from orderbridge.adapters.db.types import EventKind
from orderbridge.domain.exceptions import ExceptionCode
from orderbridge.domain.observed import SkuResolution, SkuState
from orderbridge.engine.ports import Clients
from orderbridge.errors import ConfigurationError

__all__ = [
    "SKU_EXCEPTION_CODES",
    "CatalogueLine",
    "ImportReport",
    "LinkReport",
    "VariantMissing",
    "catalogue",
    "import_catalogues",
    "link_sku",
    "link_sku_checked",
    "resolve_skus",
    "variant_exists",
]

# The exceptions a new SKU link can fix: their orders are made due when one is made.
SKU_EXCEPTION_CODES: Final = (ExceptionCode.UNMAPPED_SKU.value, ExceptionCode.AMBIGUOUS_SKU.value)


def _clean(sku: str | None) -> str | None:
    """A SKU as compared: trimmed, case kept; blank is no SKU."""
    if sku is None:
        return None
    trimmed = sku.strip()
    return trimmed or None


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What a catalogue import found and linked."""

    tiktok_skus: int
    shopify_variants: int
    linked: tuple[str, ...] = ()  # seller SKUs linked (or re-confirmed) by equal SKU
    kept_explicit: tuple[str, ...] = ()  # TikTok SKU ids whose explicit link was kept
    ambiguous: dict[str, tuple[str, ...]] = field(default_factory=dict)  # seller SKU -> variants
    unmapped: tuple[str, ...] = ()  # seller SKUs (or sku ids without one) with no variant
    unlinked: tuple[str, ...] = ()  # stale SKU-match links removed (the SKU changed)

    def summary(self) -> str:
        """One line for people."""
        return (
            f"{self.tiktok_skus} TikTok SKUs, {self.shopify_variants} Shopify variants: "
            f"{len(self.linked)} linked by SKU, {len(self.kept_explicit)} explicit kept, "
            f"{len(self.ambiguous)} ambiguous, {len(self.unmapped)} unmapped"
        )


@dataclass(frozen=True, slots=True)
class LinkReport:
    """What ``link_sku`` did."""

    tiktok_sku_ids: tuple[str, ...]
    variant_id: str
    orders_resumed: tuple[str, ...]  # TikTok order ids made due now


# --- resolution (the worker's call) -------------------------------------------------


def resolve_skus(
    conn: Connection,
    connection_id: int,
    sku_ids: Iterable[str],
    seller_skus: Mapping[str, str],
    *,
    bundles: Collection[str] = (),
) -> Mapping[str, SkuResolution]:
    """Resolve TikTok ``sku_ids`` (``seller_skus``: sku id -> seller SKU from the order).

    Explicit link first, then equal seller SKU against the imported Shopify variants
    (two or more: AMBIGUOUS with the candidates), else UNMAPPED. ``bundles`` (combined
    listing SKU ids) resolve only by an explicit link.
    """
    wanted = list(dict.fromkeys(sku_ids))
    linked = sku_links.get_sku_links(conn, connection_id, wanted)
    result: dict[str, SkuResolution] = {}
    by_seller: dict[str, list[str]] = {}
    for sku_id in wanted:
        link = linked.get(sku_id)
        if link is not None:
            result[sku_id] = SkuResolution(state=SkuState.MAPPED, variant_id=link.shopify_variant_id)
            continue
        seller = _clean(seller_skus.get(sku_id))
        if seller is None or sku_id in bundles:
            result[sku_id] = SkuResolution(state=SkuState.UNMAPPED)
            continue
        by_seller.setdefault(seller, []).append(sku_id)
    if by_seller:
        variants = _variants_by_skus(conn, connection_id, list(by_seller))
        for seller, ids in by_seller.items():
            found = variants.get(seller, [])
            if len(found) == 1:
                resolution = SkuResolution(state=SkuState.MAPPED, variant_id=found[0])
            elif found:
                resolution = SkuResolution(state=SkuState.AMBIGUOUS, candidates=tuple(found))
            else:
                resolution = SkuResolution(state=SkuState.UNMAPPED)
            for sku_id in ids:
                result[sku_id] = resolution
    return result


def _variants_by_skus(conn: Connection, connection_id: int, skus: list[str]) -> dict[str, list[str]]:
    """Variant ids per SKU (sorted, so candidates are stable)."""
    return sku_links.variant_ids_by_skus(conn, connection_id, skus)


# --- catalogue import ---------------------------------------------------------------


async def import_catalogues(services: Clients, connection: ConnectionRow,
                            progress: Callable[[str, int], None] | None = None) -> ImportReport:
    """Read both catalogues, store them, and link equal SKUs (explicit links are kept).

    ``progress(side, count)``: called as each TikTok product and Shopify variant is read
    (side ``"tiktok"`` or ``"shopify"``, count so far), for a progress display.
    """
    tell = progress or (lambda _side, _count: None)
    tiktok_rows: list[dict[str, Any]] = []
    products = 0
    async for product in services.tiktok_client(connection).iter_products():
        products += 1
        tell("tiktok", products)
        for sku in product.skus:
            if sku.id:
                tiktok_rows.append({
                    "sku_id": sku.id, "product_id": product.id,
                    "seller_sku": _clean(sku.seller_sku), "title": product.title,
                })
    variant_rows: list[dict[str, Any]] = []
    async for variant in services.shopify_client(connection).iter_variants():
        tell("shopify", len(variant_rows) + 1)
        title = " / ".join(t for t in (variant.product_title, variant.title) if t)
        variant_rows.append({
            "variant_id": variant.id, "inventory_item_id": variant.inventory_item_id,
            "product_id": (variant.product or {}).get("id"), "sku": _clean(variant.sku),
            "title": title or None,
        })
    now = services.clock.now()
    with transaction(services.db) as conn:
        sku_links.replace_tiktok_skus(conn, connection.id, tiktok_rows, now=now)
        sku_links.replace_shopify_variants(conn, connection.id, variant_rows, now=now)
        report = _auto_link(conn, connection.id, tiktok_rows, variant_rows, now=now)
        events.append(conn, None, EventKind.EVENT, f"catalogue import: {report.summary()}",
                      {"ambiguous": {k: list(v) for k, v in report.ambiguous.items()},
                       "unmapped": list(report.unmapped)},
                      at=now, connection_id=connection.id)
        links.mark_due(conn, now, ids=_links_with_sku_exceptions(conn, connection.id))
    return report


def _auto_link(
    conn: Connection, connection_id: int, tiktok_rows: list[dict[str, Any]],
    variant_rows: list[dict[str, Any]], *, now: Any,
) -> ImportReport:
    variants: dict[str, list[dict[str, Any]]] = {}
    for v in variant_rows:
        if v["sku"]:
            variants.setdefault(v["sku"], []).append(v)
    existing = {r.tiktok_sku_id: r for r in sku_links.list_sku_links(conn, connection_id)}
    linked: list[str] = []
    kept: list[str] = []
    ambiguous: dict[str, tuple[str, ...]] = {}
    unmapped: list[str] = []
    unlinked: list[str] = []
    for row in tiktok_rows:
        sku_id, seller = row["sku_id"], row["seller_sku"]
        current = existing.get(sku_id)
        if current is not None and current.source != SkuLinkSource.SKU:
            kept.append(sku_id)  # explicit (or import-made) links are never overwritten
            continue
        found = variants.get(seller, []) if seller else []
        if len(found) == 1:
            sku_links.upsert_sku_link(
                conn, connection_id, sku_id, found[0]["variant_id"], now=now,
                source=SkuLinkSource.SKU, shopify_inventory_item_id=found[0]["inventory_item_id"],
                seller_sku=seller,
            )
            linked.append(seller)
            continue
        if found:
            ambiguous[seller] = tuple(sorted(v["variant_id"] for v in found))
        else:
            unmapped.append(seller or sku_id)
        if current is not None:  # a SKU-match link that no longer holds
            sku_links.delete_sku_link(conn, connection_id, sku_id)
            unlinked.append(sku_id)
    return ImportReport(
        tiktok_skus=len(tiktok_rows), shopify_variants=len(variant_rows),
        linked=tuple(linked), kept_explicit=tuple(kept), ambiguous=ambiguous,
        unmapped=tuple(unmapped), unlinked=tuple(unlinked),
    )


# --- explicit links -------------------------------------------------------------------


def _tiktok_sku_ids(conn: Connection, connection_id: int, key: str) -> tuple[list[str], str | None]:
    """The TikTok SKU ids named by ``key`` (a SKU id, or a seller SKU) and the seller SKU."""
    row = sku_links.get_tiktok_sku(conn, connection_id, key)
    if row is not None:
        return [str(row.sku_id)], row.seller_sku
    seller = _clean(key)
    rows = sku_links.tiktok_sku_ids_with_seller_sku(conn, connection_id, seller)
    if rows:
        return rows, seller
    if key.strip().isdigit():  # a TikTok SKU id not imported yet: link it as given
        return [key.strip()], None
    raise ConfigurationError(
        f"no TikTok SKU {key!r} in the imported catalogue: run `orderbridge skus import` first, "
        "or give the numeric TikTok SKU id"
    )


def link_sku(
    services: Clients, connection_id: int, tiktok_sku_id_or_seller_sku: str, variant_id: str,
    *, by: str = "the operator",
) -> LinkReport:
    """Link a TikTok SKU (by id, or every SKU with that seller SKU) to a Shopify variant.

    The link is explicit: catalogue imports never overwrite it. Every order with an open
    UNMAPPED_SKU / AMBIGUOUS_SKU exception about that SKU is made due now, so it resumes
    by itself (the worker swaps the custom line for the variant).
    """
    now = services.clock.now()
    with transaction(services.db) as conn:
        if connections.get_connection(conn, services.cipher, connection_id) is None:
            raise ConfigurationError(f"no connection with id {connection_id}")
        sku_ids, seller = _tiktok_sku_ids(conn, connection_id, tiktok_sku_id_or_seller_sku)
        inventory_item = sku_links.inventory_item_of(conn, connection_id, variant_id)
        for sku_id in sku_ids:
            sku_links.upsert_sku_link(
                conn, connection_id, sku_id, variant_id, now=now, source=SkuLinkSource.EXPLICIT,
                shopify_inventory_item_id=inventory_item, seller_sku=seller,
            )
        link_ids = _links_with_sku_exceptions(conn, connection_id, set(sku_ids), seller)
        links.mark_due(conn, now, ids=link_ids)
        resumed: list[str] = []
        for link_id in link_ids:
            link = links.get_link(conn, link_id)
            if link is not None:
                resumed.append(link.tiktok_order_id)
            events.append(conn, link_id, EventKind.EVENT,
                          f"SKU {seller or ','.join(sku_ids)} linked to {variant_id} by {by}: order due now",
                          {"sku_ids": sku_ids, "variant_id": variant_id, "by": by}, at=now,
                          connection_id=connection_id)
        events.append(conn, None, EventKind.EVENT,
                      f"SKU {seller or ','.join(sku_ids)} linked to {variant_id} by {by}",
                      {"sku_ids": sku_ids, "variant_id": variant_id, "orders": resumed, "by": by},
                      at=now, connection_id=connection_id)
    return LinkReport(tuple(sku_ids), variant_id, tuple(resumed))


def _links_with_sku_exceptions(
    conn: Connection, connection_id: int, sku_ids: set[str] | None = None, seller: str | None = None
) -> list[int]:
    """Links with an open UNMAPPED_SKU / AMBIGUOUS_SKU exception (about these SKUs, if given).

    One link keeps one open exception per code, so an order with two unmapped SKUs names
    only one in the exception's data: its TikTok snapshot is searched for the others.
    """
    rows = order_exceptions.open_on_connection_links(conn, connection_id, SKU_EXCEPTION_CODES)
    found: list[int] = []
    for link_id, data, snapshot in rows:
        if link_id in found:
            continue
        if sku_ids is None or _mentions(data, snapshot, sku_ids, seller):
            found.append(int(link_id))
    return found


def _mentions(data: Any, snapshot: Any, sku_ids: set[str], seller: str | None) -> bool:
    info = data if isinstance(data, dict) else {}
    if str(info.get("sku_id", "")) in sku_ids:
        return True
    if seller is not None and _clean(str(info.get("seller_sku", ""))) == seller:
        return True
    text = json.dumps(snapshot) if snapshot is not None else ""
    return any(f'"{s}"' in text for s in sku_ids)



@dataclass(frozen=True, slots=True)
class CatalogueLine:
    """An imported TikTok SKU and how it resolves now."""

    sku_id: str
    seller_sku: str | None
    title: str | None
    resolution: SkuResolution


def catalogue(conn: Connection, connection_id: int) -> list[CatalogueLine]:
    """A connection's TikTok SKUs with their resolution (the API's and the dashboard's list)."""
    rows = sku_links.list_tiktok_skus(conn, connection_id)
    resolved = resolve_skus(conn, connection_id, [r.sku_id for r in rows], {r.sku_id: r.seller_sku or "" for r in rows})
    return [CatalogueLine(r.sku_id, r.seller_sku, r.title, resolved[r.sku_id]) for r in rows]


class VariantMissing(ConfigurationError):
    """The variant named for a link does not exist in the store."""


async def variant_exists(services: Clients, row: ConnectionRow, variant_id: str) -> bool:
    """Ask the connection's Shopify store whether the variant exists."""
    numeric = variant_id.rsplit("/", 1)[1]
    async for variant in services.shopify_client(row).iter_variants(query=f"id:{numeric}", page_size=1):
        if variant.id == variant_id:
            return True
    return False


async def link_sku_checked(
    services: Clients, row: ConnectionRow, tiktok_sku: str, variant_id: str, *, by: str
) -> LinkReport:
    """``link_sku`` once Shopify confirms the variant exists (a link to a variant that does not
    exist would make every later order of the SKU refused). VariantMissing when it does not;
    Shopify's own errors (``OrderBridgeError``) when it cannot be asked."""
    if not await variant_exists(services, row, variant_id):
        raise VariantMissing(f"variant {variant_id} does not exist in {row.shopify_domain}")
    return await run_sync(services.db, lambda: link_sku(services, row.id, tiktok_sku, variant_id, by=by))
