"""State objects as GraphQL values: dicts whose callables take (info, **args).

graphql-core's default resolver calls a callable attribute with the field's arguments,
so nested connections with ``first:`` and friends are lazy and cheap.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from graphql import GraphQLError

from orderbridge.sandbox.shopify.context import Ctx
from orderbridge.sandbox.shopify.state import (
    Fulfillment,
    FulfillmentOrder,
    Hold,
    LineItem,
    Location,
    Order,
    TaxLine,
    Transaction,
    Variant,
    gid,
)
from orderbridge.sandbox.shopify.suggested_refund import suggested_refund_node
from orderbridge.sandbox.shopify.world import (
    financial_status,
    fulfillment_status,
    money_str,
    totals,
)

__all__ = ["connection", "iso", "money_bag", "order_node"]

T = TypeVar("T")
FO_READ_SCOPES = ("read_merchant_managed_fulfillment_orders", "read_third_party_fulfillment_orders",
                  "read_assigned_fulfillment_orders", "read_marketplace_fulfillment_orders")
MAX_PAGE = 250


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


def money(amount: Decimal, currency: str) -> dict[str, Any]:
    return {"amount": money_str(amount), "currencyCode": currency}


def money_bag(amount: Decimal, currency: str) -> dict[str, Any]:
    return {"shopMoney": money(amount, currency), "presentmentMoney": money(amount, currency)}


def cursor(number: int) -> str:
    return base64.b64encode(json.dumps({"last_id": number}).encode()).decode()


def _decode_cursor(value: str) -> int:
    try:
        return int(json.loads(base64.b64decode(value))["last_id"])
    except (ValueError, KeyError, TypeError) as exc:
        raise GraphQLError("Invalid cursor for current pagination sort.",
                           extensions={"code": "BAD_REQUEST"}) from exc


def connection(items: Sequence[T], args: dict[str, Any], node: Callable[[T], dict[str, Any]],
               key: Callable[[T], int]) -> dict[str, Any]:
    """A Relay connection over ``items`` honouring first/after/last/before/reverse."""
    first, last = args.get("first"), args.get("last")
    if first is None and last is None:
        raise GraphQLError("you must provide one of first or last",
                           extensions={"code": "BAD_REQUEST"})
    if (first is not None and first > MAX_PAGE) or (last is not None and last > MAX_PAGE):
        raise GraphQLError(f"The first/last argument can't exceed {MAX_PAGE}.",
                           extensions={"code": "BAD_REQUEST"})
    ordered = list(reversed(items)) if args.get("reverse") else list(items)
    keys = [key(i) for i in ordered]
    start, end = 0, len(ordered)
    if args.get("after"):
        after = _decode_cursor(args["after"])
        start = keys.index(after) + 1 if after in keys else end
    if args.get("before"):
        before = _decode_cursor(args["before"])
        end = keys.index(before) if before in keys else end
    window = ordered[start:end]
    if first is not None:
        has_next = len(window) > first or end < len(ordered)
        window, has_prev = window[:first], start > 0
    else:
        has_prev = len(window) > (last or 0) or start > 0
        window, has_next = window[len(window) - (last or 0):], end < len(ordered)
    nodes = [node(i) for i in window]
    edges = [{"cursor": cursor(key(i)), "node": n} for i, n in zip(window, nodes, strict=True)]
    return {"edges": edges, "nodes": nodes, "pageInfo": {
        "hasNextPage": has_next, "hasPreviousPage": has_prev,
        "startCursor": edges[0]["cursor"] if edges else None,
        "endCursor": edges[-1]["cursor"] if edges else None}}


def tax_node(tax: TaxLine, currency: str) -> dict[str, Any]:
    rate = float(tax.rate) if tax.rate is not None else None
    return {"title": tax.title, "rate": rate, "ratePercentage": rate * 100 if rate is not None else None,
            "priceSet": money_bag(tax.price, currency), "channelLiable": tax.channel_liable,
            "source": None}


def variant_node(ctx: Ctx, v: Variant) -> dict[str, Any]:
    def level(location_id: int) -> dict[str, Any]:
        return inventory_level_node(ctx, v, ctx.world.locations[location_id])

    def item_level(_info: Any, locationId: str) -> dict[str, Any] | None:
        loc = next((i for i in ctx.shop.location_ids if gid("Location", i) == locationId), None)
        return level(loc) if loc is not None else None

    item = {
        "id": gid("InventoryItem", v.inventory_item_id), "sku": v.sku, "tracked": True,
        "requiresShipping": v.requires_shipping, "variant": lambda _i: variant_node(ctx, v),
        "inventoryLevel": item_level,
        "inventoryLevels": lambda _i, **a: connection(ctx.shop.location_ids, a, level, lambda n: n),
    }
    return {
        "id": gid("ProductVariant", v.id), "legacyResourceId": v.id, "title": v.title,
        "displayName": f"{v.product_title} - {v.title}", "sku": v.sku, "price": money_str(v.price),
        "inventoryQuantity": sum(ctx.world.available(v, i) for i in ctx.shop.location_ids),
        "inventoryPolicy": v.inventory_policy, "inventoryItem": item,
        "product": {"id": gid("Product", v.product_id), "title": v.product_title,
                    "handle": v.product_title.lower().replace(" ", "-")},
    }


def _fulfilled(order: Order, line_id: int) -> int:
    return sum(qty for f in order.fulfillments if f.status != "CANCELLED"
               for _fo_line, lid, qty in f.lines if lid == line_id)


def inventory_level_node(ctx: Ctx, v: Variant, loc: Location) -> dict[str, Any]:
    available = ctx.world.available(v, loc.id)
    # Orders claim stock at the shop's first location; fulfilled units leave "committed".
    committed = 0 if loc.id != ctx.shop.location_ids[0] else sum(
        max(li.claimed - _fulfilled(o, li.id), 0) for o in ctx.world.orders.values()
        if o.shop == ctx.shop.domain for li in o.line_items if li.variant_id == v.id)
    values = {"available": available, "committed": committed, "on_hand": available + committed,
              "incoming": 0, "reserved": 0, "damaged": 0, "safety_stock": 0, "quality_control": 0}

    def quantities(_info: Any, names: list[str]) -> list[dict[str, Any]]:
        return [{"id": f"{gid('InventoryLevel', v.inventory_item_id)}?name={n}", "name": n,
                 "quantity": values.get(n, 0), "updatedAt": iso(ctx.now)} for n in names]

    return {"id": f"gid://shopify/InventoryLevel/{v.inventory_item_id}?inventory_item_id="
                  f"{v.inventory_item_id}&location_id={loc.id}",
            "location": location_node(ctx, loc), "item": lambda _i: variant_node(ctx, v)["inventoryItem"],
            "updatedAt": iso(ctx.now), "createdAt": iso(ctx.now), "quantities": quantities}


def location_node(ctx: Ctx, loc: Location) -> dict[str, Any]:
    variants = [v for v in ctx.world.variants.values()
                if ctx.world.variant_shop.get(v.id) == ctx.shop.domain]

    def one(_info: Any, inventoryItemId: str) -> dict[str, Any] | None:
        v = next((v for v in variants if gid("InventoryItem", v.inventory_item_id) == inventoryItemId), None)
        return inventory_level_node(ctx, v, loc) if v else None

    service = None
    if loc.service_handle:
        service = {"id": gid("FulfillmentService", loc.id), "handle": loc.service_handle,
                   "serviceName": loc.service_handle, "location": None}
    return {"id": gid("Location", loc.id), "name": loc.name, "legacyResourceId": loc.id,
            "isActive": True, "fulfillsOnlineOrders": True,
            "fulfillmentService": service, "inventoryLevel": one,
            "inventoryLevels": lambda _i, **a: connection(
                variants, a, lambda v: inventory_level_node(ctx, v, loc), lambda v: v.inventory_item_id)}


def line_item_node(ctx: Ctx, order: Order, li: LineItem) -> dict[str, Any]:
    cur = order.currency
    per_unit_discount = (li.discount / li.quantity if li.quantity else Decimal("0")) + li.unit_discount
    line_discount = li.discount + li.unit_discount * li.quantity
    fulfilled = sum(q for f in order.fulfillments if f.status == "SUCCESS" for _, lid, q in f.lines
                    if lid == li.id)
    variant = ctx.world.variants.get(li.variant_id) if li.variant_id else None
    return {
        "id": gid("LineItem", li.id), "name": li.title, "title": li.title, "sku": li.sku,
        "quantity": li.quantity, "currentQuantity": li.current_quantity,
        "unfulfilledQuantity": max(0, li.current_quantity - fulfilled),
        "refundableQuantity": li.current_quantity, "nonFulfillableQuantity": 0,
        "variant": variant_node(ctx, variant) if variant else None,
        "variantTitle": li.variant_title, "vendor": li.vendor, "requiresShipping": li.requires_shipping,
        "taxable": li.taxable, "isGiftCard": False,
        "originalUnitPriceSet": money_bag(li.price, cur),
        "discountedUnitPriceSet": money_bag(li.price - per_unit_discount, cur),
        "originalTotalSet": money_bag(li.price * li.quantity, cur),
        "discountedTotalSet": money_bag(li.price * li.quantity - line_discount, cur),
        "totalDiscountSet": money_bag(line_discount, cur),
        "taxLines": lambda _i, **_a: [tax_node(t, cur) for t in li.tax_lines],
        "customAttributes": [{"key": k, "value": v} for k, v in li.custom_attributes],
    }


def hold_node(ctx: Ctx, hold: Hold) -> dict[str, Any]:
    app = ctx.world.apps.get(hold.app_id)
    return {"id": gid("FulfillmentHold", hold.id), "handle": hold.handle, "reason": hold.reason,
            "reasonNotes": hold.reason_notes, "displayReason": hold.reason.replace("_", " ").capitalize(),
            "heldByRequestingApp": hold.app_id == ctx.app.id,
            "heldByApp": {"id": gid("App", app.id), "title": app.title, "handle": app.handle,
                          "apiKey": app.api_key} if app else None}


def fo_node(ctx: Ctx, fo: FulfillmentOrder) -> dict[str, Any]:
    order = ctx.world.orders[fo.order_id]
    loc = ctx.world.locations[fo.location_id]

    def line(ln: Any) -> dict[str, Any]:
        li = next(li for li in order.line_items if li.id == ln.line_item_id)
        return {"id": gid("FulfillmentOrderLineItem", ln.id), "totalQuantity": ln.total,
                "remainingQuantity": ln.remaining, "sku": li.sku, "productTitle": li.title,
                "lineItem": line_item_node(ctx, order, li)}

    return {
        "id": gid("FulfillmentOrder", fo.id), "status": fo.status, "requestStatus": fo.request_status,
        "createdAt": iso(fo.created_at), "updatedAt": iso(fo.updated_at), "fulfillAt": None,
        "orderId": gid("Order", order.id), "orderName": order.name,
        "order": lambda _i: order_node(ctx, order),
        "assignedLocation": {"name": loc.name, "countryCode": "US", "location": location_node(ctx, loc)},
        "fulfillmentHolds": [hold_node(ctx, h) for h in fo.holds],
        "lineItems": lambda _i, **a: connection(fo.lines, a, line, lambda ln: ln.id),
    }


def fulfillment_node(ctx: Ctx, order: Order, f: Fulfillment) -> dict[str, Any]:
    def line(row: tuple[int, int, int]) -> dict[str, Any]:
        li = next(li for li in order.line_items if li.id == row[1])
        return {"id": gid("FulfillmentLineItem", row[0]), "quantity": row[2],
                "lineItem": line_item_node(ctx, order, li)}

    loc = ctx.world.locations.get(f.location_id)
    return {
        "id": gid("Fulfillment", f.id), "legacyResourceId": f.id, "name": f.name, "status": f.status,
        "displayStatus": "CANCELED" if f.status == "CANCELLED" else "FULFILLED",
        "createdAt": iso(f.created_at), "updatedAt": iso(f.updated_at),
        "totalQuantity": sum(q for _, _, q in f.lines), "order": lambda _i: order_node(ctx, order),
        "location": location_node(ctx, loc) if loc else None,
        "trackingInfo": lambda _i, first=None: [
            {"company": t.company, "number": t.number, "url": t.url} for t in f.tracking][:first],
        "fulfillmentLineItems": lambda _i, **a: connection(f.lines, a, line, lambda r: r[0]),
    }


def transaction_node(tx: Transaction, currency: str) -> dict[str, Any]:
    return {"id": gid("OrderTransaction", tx.id), "kind": tx.kind, "status": tx.status,
            "gateway": tx.gateway, "formattedGateway": tx.gateway, "amountSet": money_bag(tx.amount, currency),
            "processedAt": iso(tx.processed_at), "createdAt": iso(tx.created_at),
            "manualPaymentGateway": tx.manual, "test": tx.test, "parentTransaction": None}


def refund_node(ctx: Ctx, order: Order, refund: Any) -> dict[str, Any]:
    cur = order.currency

    def line(row: tuple[int, int, int, str, Decimal]) -> dict[str, Any]:
        li = next(li for li in order.line_items if li.id == row[1])
        return {"id": gid("RefundLineItem", row[0]), "lineItem": line_item_node(ctx, order, li),
                "quantity": row[2], "restockType": row[3], "restocked": row[3] in ("CANCEL", "RETURN"),
                "location": None, "subtotalSet": money_bag(row[4], cur),
                "priceSet": money_bag(li.price, cur), "totalTaxSet": money_bag(Decimal("0"), cur)}

    txs = [t for t in order.transactions if t.id in refund.transaction_ids]
    return {"id": gid("Refund", refund.id), "legacyResourceId": refund.id,
            "createdAt": iso(refund.created_at), "updatedAt": iso(refund.created_at),
            "note": refund.note, "order": lambda _i: order_node(ctx, order),
            "totalRefundedSet": money_bag(refund.total, cur),
            "refundLineItems": lambda _i, **a: connection(refund.lines, a, line, lambda r: r[0]),
            "transactions": lambda _i, **a: connection(txs, a, lambda t: transaction_node(t, cur),
                                                       lambda t: t.id)}


def address_node(address: dict[str, Any] | None, number: int) -> dict[str, Any] | None:
    if address is None:
        return None
    first, last = address.get("firstName"), address.get("lastName")
    name = " ".join(p for p in (first, last) if p) or None
    return {"id": f"gid://shopify/MailingAddress/{number}?model_name=Address", "address1": address.get("address1"),
            "address2": address.get("address2"), "city": address.get("city"), "company": address.get("company"),
            "country": "United States" if address.get("countryCode") == "US" else address.get("countryCode"),
            "countryCodeV2": address.get("countryCode"), "firstName": first, "lastName": last,
            "name": name, "phone": address.get("phone"), "province": address.get("provinceCode"),
            "provinceCode": address.get("provinceCode"), "zip": address.get("zip")}


def order_node(ctx: Ctx, order: Order) -> dict[str, Any]:
    """The Order object."""
    cur = order.currency
    t, now = totals(order), totals(order, current=True)
    fin = financial_status(order)

    def fulfillment_orders(_info: Any, **args: Any) -> dict[str, Any]:
        fos = [ctx.world.fulfillment_orders[i] for i in order.fulfillment_order_ids]
        if not ctx.has(*FO_READ_SCOPES):
            fos = []  # Shopify returns what the scopes allow: nothing at all
        return connection(fos, args, lambda fo: fo_node(ctx, fo), lambda fo: fo.id)

    def metafield(_info: Any, key: str, namespace: str | None = None) -> dict[str, Any] | None:
        return next((m for m in order.metafields if m["key"] == key
                     and (namespace is None or m["namespace"] == namespace)), None)

    def metafields(_info: Any, **args: Any) -> dict[str, Any]:
        items = [m for m in order.metafields if args.get("namespace") in (None, m["namespace"])]
        return connection(items, args, lambda m: m, lambda m: int(m["id"].rsplit("/", 1)[1]))

    return {
        "id": gid("Order", order.id), "legacyResourceId": order.id, "name": order.name,
        "email": order.email, "phone": order.phone, "note": order.note, "tags": list(order.tags),
        "customAttributes": [{"key": k, "value": v} for k, v in order.custom_attributes],
        "sourceName": order.source_name, "sourceIdentifier": order.source_identifier,
        "test": order.test, "confirmed": True, "closed": order.closed_at is not None,
        "closedAt": iso(order.closed_at), "cancelledAt": iso(order.cancelled_at),
        "cancelReason": order.cancel_reason, "createdAt": iso(order.created_at),
        "updatedAt": iso(order.updated_at), "processedAt": iso(order.processed_at),
        "currencyCode": cur, "presentmentCurrencyCode": cur, "taxesIncluded": order.taxes_included,
        "displayFinancialStatus": fin,
        "displayFulfillmentStatus": fulfillment_status(ctx.world, order),
        "fullyPaid": now["outstanding"] <= 0, "unpaid": t["received"] <= 0 and now["outstanding"] > 0,
        "canMarkAsPaid": now["outstanding"] > 0 and order.cancelled_at is None,
        "fulfillable": order.cancelled_at is None and any(
            fo.status in ("OPEN", "IN_PROGRESS") for fo in
            (ctx.world.fulfillment_orders[i] for i in order.fulfillment_order_ids)),
        "paymentGatewayNames": sorted({tx.gateway for tx in order.transactions}),
        "customer": order.customer,
        "totalPriceSet": money_bag(t["total"], cur), "subtotalPriceSet": money_bag(t["subtotal"], cur),
        "totalTaxSet": money_bag(t["tax"], cur), "totalDiscountsSet": money_bag(t["discount"], cur),
        "totalShippingPriceSet": money_bag(t["shipping"], cur),
        "totalOutstandingSet": money_bag(now["outstanding"], cur),
        "totalReceivedSet": money_bag(t["received"], cur),
        "totalRefundedSet": money_bag(t["refunded"], cur),
        "netPaymentSet": money_bag(t["received"] - t["refunded"], cur),
        "currentTotalPriceSet": money_bag(now["total"], cur),
        "currentSubtotalPriceSet": money_bag(now["subtotal"], cur),
        "currentTotalTaxSet": money_bag(now["tax"], cur),
        "discountCode": order.discount_code,
        "discountCodes": [order.discount_code] if order.discount_code else [],
        "lineItems": lambda _i, **a: connection(
            order.line_items, a, lambda li: line_item_node(ctx, order, li), lambda li: li.id),
        "shippingLines": lambda _i, **a: connection(order.shipping_lines, a, lambda s: {
            "id": gid("ShippingLine", s.id), "title": s.title, "code": s.code, "source": s.source,
            "originalPriceSet": money_bag(s.price, cur), "discountedPriceSet": money_bag(
                Decimal("0") if order.free_shipping else s.price, cur),
            "taxLines": [tax_node(x, cur) for x in s.tax_lines]}, lambda s: s.id),
        "taxLines": [tax_node(x, cur) for x in _all_tax_lines(order)],
        "shippingAddress": address_node(order.shipping_address, order.id),
        "billingAddress": address_node(order.billing_address, order.id + 1),
        "fulfillmentOrders": fulfillment_orders,
        "fulfillments": lambda _i, first=None, query=None: [
            fulfillment_node(ctx, order, f) for f in order.fulfillments][:first],
        "refunds": lambda _i, first=None: [refund_node(ctx, order, r) for r in order.refunds][:first],
        "suggestedRefund": lambda _i, **a: suggested_refund_node(order, **a),
        # manuallyResolvable: a manual-gateway payment still pending (the merchant settles it).
        "transactions": lambda _i, first=None, capturable=None, manuallyResolvable=None: [
            transaction_node(tx, cur) for tx in order.transactions
            if manuallyResolvable is None
            or (tx.manual and tx.status == "PENDING") == manuallyResolvable][:first],
        "metafield": metafield, "metafields": metafields,
    }


def _all_tax_lines(order: Order) -> list[TaxLine]:
    """Order.taxLines: line and shipping tax lines merged by title and rate (as Shopify sums)."""
    merged: dict[tuple[str, Decimal | None, bool | None], TaxLine] = {}
    sources = [t for li in order.line_items for t in li.tax_lines]
    sources += [t for s in order.shipping_lines for t in s.tax_lines] + list(order.tax_lines)
    for tax in sources:
        key = (tax.title, tax.rate, tax.channel_liable)
        if key in merged:
            merged[key] = TaxLine(tax.title, tax.rate, merged[key].price + tax.price, tax.channel_liable)
        else:
            merged[key] = TaxLine(tax.title, tax.rate, tax.price, tax.channel_liable)
    return list(merged.values())
