"""The default world and the order arithmetic Shopify does (totals, statuses, stock).

Default world (deterministic): two stores, each with one location and the same catalog,
whose SKUs are the TikTok sandbox's seller SKUs, plus ``DUP-SKU`` on two variants (SKU
ambiguity); one app (``OrderBridge``) with a client secret, and a second app
(``Fraud Filter``) whose holds an integration must leave alone.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from orderbridge.sandbox.shopify.order_records import FOLine, FulfillmentOrder, Order
from orderbridge.sandbox.shopify.state import (
    FULFILLMENT_ORDER_SCOPES,
    FULL_SCOPES,
    App,
    Location,
    Shop,
    Token,
    World,
    cents,
)

__all__ = ["DEFAULT_CATALOG", "DEFAULT_SHOPS", "build_default_world", "totals"]

DEFAULT_SHOPS = ("matcha-shop.myshopify.com", "second-shop.myshopify.com")
DEFAULT_APP_SECRET = "shpss_sandbox_orderbridge_client_secret"
OTHER_APP_SECRET = "shpss_sandbox_fraud_filter_client_secret"
DEFAULT_SOURCE_HANDLES = ("tiktok", "tiktok_shop")
DEFAULT_STOCK = 100
# (sku, title, price)
DEFAULT_CATALOG: tuple[tuple[str, str, str], ...] = (
    # The TikTok sandbox's seller SKUs, except WHISK-HOLDER (left out on purpose: an
    # unmapped SKU) and DUP-SKU, which two variants share (an ambiguous SKU).
    ("MW-SET-NAT", "Matcha Whisk Set - Natural", "24.99"),
    ("MW-SET-BLK", "Matcha Whisk Set - Black", "26.99"),
    ("BOWL-WHT", "Matcha Bowl - White", "18.00"),
    ("BOWL-GRN", "Matcha Bowl - Green", "18.00"),
    ("MATCHA-CER-30", "Ceremonial Matcha 30g", "29.50"),
    ("MATCHA-CUL-100", "Culinary Matcha 100g", "15.75"),
    ("SCOOP-BMB", "Bamboo Scoop (Chashaku)", "6.49"),
    # Sold in Shopify only.
    ("WHISK-BAMBOO", "Bamboo Whisk (Chasen)", "18.00"),
    ("TIN-50G", "Ceremonial Matcha Tin 50g", "24.00"),
    ("DUP-SKU", "Duplicate SKU Variant A", "12.00"),
    ("DUP-SKU", "Duplicate SKU Variant B", "12.00"),
)


def _token(domain: str, label: str) -> str:
    return f"shpat_{label}_{domain.split('.')[0].replace('-', '_')}"


def build_default_world() -> World:
    """The deterministic starting world."""
    world = World()
    app = App(world.new_id("app"), "OrderBridge", "orderbridge", "sandbox-api-key-orderbridge",
              DEFAULT_APP_SECRET, DEFAULT_SOURCE_HANDLES)
    other = App(world.new_id("app"), "Fraud Filter", "fraud-filter", "sandbox-api-key-fraud",
                OTHER_APP_SECRET)
    world.apps = {app.id: app, other.id: other}
    for index, domain in enumerate(DEFAULT_SHOPS):
        location = Location(world.new_id("location"), "Main Warehouse")
        world.locations[location.id] = location
        shop = Shop(domain, ["Matcha Shop", "Second Shop"][index], "USD", [location.id])
        shop.id = world.new_id("shop")
        world.shops[domain] = shop
        full = frozenset(FULL_SCOPES)
        world.tokens[_token(domain, "full")] = Token(_token(domain, "full"), app.id, domain, full)
        limited = full - FULFILLMENT_ORDER_SCOPES
        world.tokens[_token(domain, "nofo")] = Token(_token(domain, "nofo"), app.id, domain, limited)
        world.tokens[_token(domain, "other")] = Token(_token(domain, "other"), other.id, domain, full)
        for sku, title, price in DEFAULT_CATALOG:
            world.add_variant(shop, sku, title, Decimal(price), DEFAULT_STOCK)
    return world


def add_service_location(world: World, shop: Shop, handle: str) -> Location:
    """A fulfilment service (3PL app) and its location in ``shop``."""
    app = next((a for a in world.apps.values() if a.handle == handle), None)
    if app is None:
        app = App(world.new_id("app"), handle, handle, f"sandbox-api-key-{handle}", f"shpss_{handle}")
        world.apps[app.id] = app
    location = Location(world.new_id("location"), f"{handle} warehouse", app.id, handle)
    world.locations[location.id] = location
    return location


# ---------------------------------------------------------------------- arithmetic
def totals(order: Order, current: bool = False) -> dict[str, Decimal]:
    """Shopify's order totals (``current`` = after edits, removals and refunded lines)."""
    amounts = _amounts(order, current)
    now_total = amounts["total"] if current else _amounts(order, True)["total"]
    refunded = sum((r.total for r in order.refunds), Decimal("0"))
    received = sum((t.amount for t in order.transactions
                    if t.kind in ("SALE", "CAPTURE") and t.status == "SUCCESS"), Decimal("0"))
    amounts.update(received=received, refunded=refunded,
                   outstanding=max(Decimal("0"), now_total - (received - refunded)))
    return amounts


def _amounts(order: Order, current: bool) -> dict[str, Decimal]:
    lines = [(li, li.current_quantity if current else li.quantity) for li in order.line_items]
    gross = sum((li.price * q for li, q in lines), Decimal("0"))
    # The order's discount code is allocated over the lines it was applied to: a removed
    # line takes its share away, a line added by an order edit gets none.
    coded = sum((li.price * q for li, q in lines if not li.added_by_edit), Decimal("0"))
    discount = min(order.discount_amount, coded)
    if current and coded:
        original = sum((li.price * li.quantity for li in order.line_items if not li.added_by_edit),
                       Decimal("0"))
        discount = cents(discount * coded / original) if original else Decimal("0")
    subtotal = gross - discount - sum((li.unit_discount * q for li, q in lines), Decimal("0"))
    shipping = Decimal("0") if order.free_shipping else sum(
        (s.price for s in order.shipping_lines), Decimal("0"))
    line_tax = Decimal("0")
    for li, q in lines:
        for line in li.tax_lines:
            line_tax += cents(line.price * q / li.quantity) if li.quantity else Decimal("0")
    ship_tax = sum((t.price for s in order.shipping_lines for t in s.tax_lines), Decimal("0"))
    order_tax = sum((t.price for t in order.tax_lines), Decimal("0"))
    tax = line_tax + ship_tax + order_tax
    total = subtotal + shipping + (Decimal("0") if order.taxes_included else tax)
    return {"gross": gross, "discount": discount, "subtotal": subtotal, "shipping": shipping,
            "tax": tax, "total": total}


def financial_status(order: Order) -> str:
    """OrderDisplayFinancialStatus."""
    t = totals(order, current=True)
    if order.refunds:
        return "REFUNDED" if t["refunded"] >= t["received"] and t["received"] > 0 else "PARTIALLY_REFUNDED"
    if any(tx.kind == "AUTHORIZATION" for tx in order.transactions) and order.cancelled_at:
        return "VOIDED"
    if t["received"] > 0:
        return "PAID" if t["outstanding"] <= 0 else "PARTIALLY_PAID"
    if order.financial_status == "PAID" and not order.transactions:
        return "PAID"
    if t["total"] <= 0 and order.financial_status in (None, "PAID"):
        return "PAID"
    return order.financial_status or "PENDING"


def fulfillment_status(world: World, order: Order) -> str:
    """OrderDisplayFulfillmentStatus."""
    ordered = sum(li.current_quantity for li in order.line_items if li.requires_shipping)
    shipped = sum(q for f in order.fulfillments if f.status == "SUCCESS" for _, _, q in f.lines)
    if ordered and shipped >= ordered:
        return "FULFILLED"
    if shipped:
        return "PARTIALLY_FULFILLED"
    fos = [world.fulfillment_orders[i] for i in order.fulfillment_order_ids]
    open_fos = [fo for fo in fos if fo.status not in ("CLOSED", "CANCELLED")]
    if open_fos and all(fo.status == "ON_HOLD" for fo in open_fos):
        return "ON_HOLD"
    return "UNFULFILLED"


def searchable(world: World, order: Order) -> dict[str, Any]:
    """What the search index stores for an order."""
    return {
        "name": order.name, "source_identifier": order.source_identifier,
        "source_name": order.source_name, "tags": [t.lower() for t in order.tags],
        "email": order.email, "created_at": order.created_at, "updated_at": order.updated_at,
        "processed_at": order.processed_at, "test": order.test,
        "status": "cancelled" if order.cancelled_at else ("closed" if order.closed_at else "open"),
        "financial_status": financial_status(order).lower(),
        "fulfillment_status": fulfillment_status(world, order).lower(),
        "skus": [li.sku for li in order.line_items if li.sku],
    }


def touch(world: World, order: Order, now: datetime) -> None:
    """Record a write: bump updated_at and queue the search index's view of it."""
    order.updated_at = max(order.updated_at, now)
    order.index.append((now + world.timing.index_lag, searchable(world, order)))
    del order.index[:-20]


def build_fulfillment_orders(world: World, order: Order, now: datetime) -> list[FulfillmentOrder]:
    """Shopify's fulfilment orders for an order: one for the shop's first location."""
    if order.fulfillment_order_ids or order.cancelled_at:
        return []
    shop = world.shops[order.shop]
    location_id = shop.location_ids[0]
    lines = [FOLine(world.new_id("foline"), li.id, li.current_quantity, li.current_quantity)
             for li in order.line_items if li.requires_shipping and li.current_quantity > 0]
    if not lines:
        return []
    fo = FulfillmentOrder(world.new_id("fo"), order.id, location_id, "OPEN", now, now, lines)
    world.fulfillment_orders[fo.id] = fo
    order.fulfillment_order_ids.append(fo.id)
    touch(world, order, now)
    return [fo]


def sync_fo_quantities(world: World, order: Order, now: datetime) -> None:
    """After an edit: fulfilment order lines follow the line items' current quantities."""
    fos = [world.fulfillment_orders[i] for i in order.fulfillment_order_ids]
    live = [fo for fo in fos if fo.status not in ("CLOSED", "CANCELLED")]
    if not live:
        return
    for li in order.line_items:
        if not li.requires_shipping:
            continue
        fulfilled = sum(q for f in order.fulfillments if f.status == "SUCCESS"
                        for _, lid, q in f.lines if lid == li.id)
        want = max(0, li.current_quantity - fulfilled)
        fo_line = next((ln for fo in live for ln in fo.lines if ln.line_item_id == li.id), None)
        if fo_line is None and want > 0:
            live[0].lines.append(FOLine(world.new_id("foline"), li.id, want, want))
        elif fo_line is not None:
            fo_line.total += want - fo_line.remaining
            fo_line.remaining = want
    for fo in live:
        fo.updated_at = now
        if all(ln.remaining == 0 for ln in fo.lines):
            fo.status = "CLOSED"


def restock_line(world: World, order: Order, line_id: int, quantity: int) -> int:
    """Return up to ``quantity`` claimed units of a line to stock; returns units restocked."""
    li = next(li for li in order.line_items if li.id == line_id)
    variant = world.variants.get(li.variant_id) if li.variant_id else None
    units = min(quantity, li.claimed)
    if variant is None or units <= 0:
        return 0
    world.adjust(variant, world.shops[order.shop].location_ids[0], units)
    li.claimed -= units
    return units


def money_str(value: Decimal) -> str:
    """Shopify's decimal string: ``"19.99"``, ``"10.0"``, ``"0.0"``."""
    text = f"{cents(value):.2f}"
    return text[:-1] if text.endswith("0") else text
