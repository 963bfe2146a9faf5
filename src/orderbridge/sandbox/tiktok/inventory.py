"""Stock of the shop's SKUs: Update Inventory and Inventory Search (Product API 202309).

A SKU's ``inventory`` holds the *available* units per warehouse (what buyers can still
buy). Placing an order takes units from it at once; cancelling a unit gives it back.
*Committed* units are those of live order lines not yet shipped, computed from the orders.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from orderbridge.sandbox.tiktok.constants import MAX_SKU_STOCK, ErrorCode
from orderbridge.sandbox.tiktok.errors import bad_request, business_error
from orderbridge.sandbox.tiktok.params import str_list
from orderbridge.sandbox.tiktok.state import Product, Shop, Sku, World

__all__ = ["committed_units", "inventory_search", "update_inventory"]


def committed_units(world: World, shop: Shop, sku_id: str, warehouse_id: str) -> int:
    """Units of the SKU in the shop's orders from that warehouse, live and not yet shipped."""
    return sum(
        1
        for order in world.orders.values()
        if order.shop_id == shop.id and order.warehouse_id == warehouse_id
        for li in order.live_lines()
        if li.sku_id == sku_id and not li.shipped
    )


STOCK_LOCK_MESSAGES = {
    ErrorCode.PROMOTION_STOCK_LOCKED: "The SKU is in a promotion: its stock cannot be edited now",
    ErrorCode.SHARED_STOCK: "The SKU shares its stock with other listings: edit it there",
}


def update_inventory(shop: Shop, product: Product, body: dict[str, Any],
                     log: tuple[World, datetime] | None = None) -> dict[str, Any]:
    """Set absolute available quantities. A malformed request writes nothing; a SKU whose
    stock is locked (``Sku.stock_lock``) is refused on its own inside a code-0 answer
    (``data.errors``), the others are written."""
    skus = body.get("skus")
    if not isinstance(skus, list) or not skus:
        raise bad_request("skus is required")
    by_id = {s.id: s for s in product.skus}
    updates: list[tuple[Sku, str, int]] = []
    for entry in skus:
        if not isinstance(entry, dict) or entry.get("id") not in by_id:
            raise business_error(ErrorCode.SKU_NOT_FOUND, "A sku does not belong to the product")
        inventory = entry.get("inventory")
        if not isinstance(inventory, list) or not inventory:
            raise bad_request("inventory must be a non-empty list of {warehouse_id, quantity}")
        for inv in inventory:
            qty = inv.get("quantity") if isinstance(inv, dict) else None
            if not isinstance(qty, int) or isinstance(qty, bool) or qty < 0:
                raise bad_request("quantity must be a non-negative integer")
            if qty > MAX_SKU_STOCK:
                raise business_error(ErrorCode.STOCK_OUT_OF_RANGE,
                                     f"The SKU stock must be between [0,{MAX_SKU_STOCK}]")
            assert isinstance(inv, dict)
            warehouse = str(inv.get("warehouse_id") or shop.warehouse_id)
            if warehouse != shop.warehouse_id:
                raise business_error(ErrorCode.WAREHOUSE_NOT_FOUND,
                                     f"warehouse {warehouse} is not a warehouse of the shop")
            updates.append((by_id[entry["id"]], warehouse, qty))
    errors: dict[str, dict[str, Any]] = {}
    for sku, warehouse, qty in updates:
        if sku.stock_lock is None:
            sku.inventory[warehouse] = qty
            if log is not None:
                log[0].stock_updates.append((log[1], shop.id, sku.id, warehouse, qty))
            continue
        code = ErrorCode(sku.stock_lock)
        error = errors.setdefault(sku.id, {
            "code": int(code), "message": STOCK_LOCK_MESSAGES.get(code, code.name),
            "detail": {"sku_id": sku.id, "extra_errors": []}})
        error["detail"]["extra_errors"].append(
            {"warehouse_id": warehouse, "code": int(code), "message": error["message"]})
    return {"errors": list(errors.values())} if errors else {}


def inventory_search(world: World, shop: Shop, body: dict[str, Any]) -> dict[str, Any]:
    """Stock per SKU and warehouse of the products (or SKUs) asked for."""
    product_ids, sku_ids = str_list(body, "product_ids"), str_list(body, "sku_ids")
    if not product_ids and not sku_ids:
        raise bad_request("product_ids or sku_ids is required")
    found = []
    for product in sorted(shop.products.values(), key=lambda p: p.id):
        skus = [
            s for s in product.skus
            if (product_ids and product.id in product_ids) or (sku_ids and s.id in sku_ids)
        ]
        if skus:
            found.append({"product_id": product.id,
                          "skus": [_sku_stock(world, shop, s) for s in skus]})
    return {"inventory": found}


def _sku_stock(world: World, shop: Shop, sku: Sku) -> dict[str, Any]:
    rows = [(w, max(units, 0), committed_units(world, shop, sku.id, w))
            for w, units in sorted(sku.inventory.items())]
    total = sum(available for _w, available, _c in rows)
    return {
        "id": sku.id, "seller_sku": sku.seller_sku,
        "total_available_quantity": total,
        "total_committed_quantity": sum(committed for _w, _a, committed in rows),
        "warehouse_inventory": [
            {"warehouse_id": w, "available_quantity": available, "committed_quantity": committed}
            for w, available, committed in rows
        ],
        "total_available_inventory_distribution": {"in_shop_inventory": {"quantity": total}},
    }
