"""orderCreate, orderUpdate, payments, order queries (orderCancel: ``resolvers_cancel``)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo

from orderbridge.sandbox.shopify import create_fulfilled
from orderbridge.sandbox.shopify.context import Ctx, require_scope
from orderbridge.sandbox.shopify.inputs import amount_of, bag_amount, parse_datetime, user_error
from orderbridge.sandbox.shopify.nodes import connection, order_node
from orderbridge.sandbox.shopify.order_records import (
    LineItem,
    Order,
    ShippingLine,
    TaxLine,
    Transaction,
)
from orderbridge.sandbox.shopify.search import order_search
from orderbridge.sandbox.shopify.state import cents, gid, parse_gid
from orderbridge.sandbox.shopify.taxes import address_changed, recalculate_taxes
from orderbridge.sandbox.shopify.world import build_fulfillment_orders, totals, touch

__all__ = ["MUTATIONS", "QUERIES", "order_create", "order_or_none"]

PROTECTED_SOURCE_NAMES = frozenset({"web", "pos", "shopify_draft_order", "iphone", "android"})
DEV_CAP_WINDOW = timedelta(minutes=1)


def _tax_lines(raw: list[dict[str, Any]] | None, base: Decimal, path: list[str]) -> list[TaxLine]:
    out = []
    for tax in raw or []:
        rate = amount_of(tax["rate"]) if tax.get("rate") is not None else None
        price = bag_amount(tax.get("priceSet"))
        if price is None:
            if rate is None:
                raise _UserError([*path, "taxLines"], "Tax line rate is missing.", "TAX_LINE_RATE_MISSING")
            price = cents(base * rate)
        out.append(TaxLine(tax["title"], rate, price, tax.get("channelLiable")))
    return out


class _UserError(Exception):
    def __init__(self, field: list[str], message: str, code: str | None = "INVALID") -> None:
        super().__init__(message)
        self.error = user_error(field, message, code)


def _build_order(ctx: Ctx, data: dict[str, Any]) -> Order:
    world, shop, now = ctx.world, ctx.shop, ctx.now
    processed_at = parse_datetime(data["processedAt"]) if data.get("processedAt") else now
    if processed_at > now:
        raise _UserError(["order", "processedAt"], "Processed at must not be in the future.",
                         "PROCESSED_AT_INVALID")
    if data.get("customer") and data.get("customerId"):
        raise _UserError(["order", "customer"], "Only one of customer and customerId can be provided.",
                         "REDUNDANT_CUSTOMER_FIELDS")
    if not data.get("lineItems"):
        raise _UserError(["order", "lineItems"], "Line items must have at least one line item.")
    currency = data.get("currency") or shop.currency
    order = Order(world.new_id("order"), shop.domain, ctx.app.id, shop.next_number,
                  data.get("name") or f"#{shop.next_number}", currency, now, now, processed_at)
    for index, raw in enumerate(data["lineItems"]):
        path = ["order", "lineItems", str(index)]
        quantity = raw["quantity"]
        if quantity <= 0:
            raise _UserError([*path, "quantity"], "Quantity must be greater than 0.")
        variant = None
        if raw.get("variantId"):
            variant = world.variant_in(shop.domain, parse_gid(raw["variantId"], "ProductVariant"))
            if variant is None:
                raise _UserError([*path, "variantId"], "Variant does not exist.")
        elif not raw.get("title"):
            raise _UserError([*path, "title"], "Title can't be blank for a custom line item.")
        price = bag_amount(raw.get("priceSet"))
        if price is None:
            price = variant.price if variant else Decimal("0")
        li = LineItem(world.new_id("line"), raw.get("title") or (variant.product_title if variant else ""),
                      raw.get("sku") or (variant.sku if variant else None), variant.id if variant else None,
                      quantity, price, quantity,
                      requires_shipping=raw.get("requiresShipping", True) is not False,
                      taxable=raw.get("taxable", True) is not False,
                      custom_attributes=[(p["name"], p["value"]) for p in raw.get("properties") or []],
                      variant_title=raw.get("variantTitle") or (variant.title if variant else None),
                      vendor=raw.get("vendor"))
        li.tax_lines = _tax_lines(raw.get("taxLines"), price * quantity, path)
        order.line_items.append(li)
    for index, raw in enumerate(data.get("shippingLines") or []):
        price = bag_amount(raw["priceSet"]) or Decimal("0")
        if price < 0:
            raise _UserError(["order", "shippingLines", str(index), "priceSet"], "Price cannot be negative.")
        line = ShippingLine(world.new_id("ship"), raw["title"], price, raw.get("code"), raw.get("source"))
        line.tax_lines = _tax_lines(raw.get("taxLines"), price, ["order", "shippingLines", str(index)])
        order.shipping_lines.append(line)
    gross = sum((li.price * li.quantity for li in order.line_items), Decimal("0"))
    order.tax_lines = _tax_lines(data.get("taxLines"), gross, ["order"])
    _apply_discount(order, data.get("discountCode"), gross)
    _apply_attributes(ctx, order, data)
    return order


def _apply_discount(order: Order, code: dict[str, Any] | None, gross: Decimal) -> None:
    if not code:
        return
    given = [k for k, v in code.items() if v]
    if len(given) != 1:
        raise _UserError(["order", "discountCode"], "Only one discount code can be applied.")
    kind, value = given[0], code[given[0]]
    order.discount_code = value["code"]
    if kind == "itemFixedDiscountCode":
        order.discount_amount = min(gross, bag_amount(value.get("amountSet")) or Decimal("0"))
    elif kind == "itemPercentageDiscountCode":
        order.discount_amount = cents(gross * Decimal(str(value.get("percentage") or 0)) / 100)
    else:
        order.free_shipping = True
    remaining = order.discount_amount
    for index, li in enumerate(order.line_items):  # allocate pro rata, remainder on the last line
        share = remaining if index == len(order.line_items) - 1 else (
            cents(order.discount_amount * li.price * li.quantity / gross) if gross else Decimal("0"))
        li.discount, remaining = share, remaining - share


def _apply_attributes(ctx: Ctx, order: Order, data: dict[str, Any]) -> None:
    order.email, order.phone, order.note = data.get("email"), data.get("phone"), data.get("note")
    order.tags = [t.strip() for t in data.get("tags") or [] if t.strip()]
    order.custom_attributes = [(a["key"], a["value"]) for a in data.get("customAttributes") or []]
    order.metafields = [{"id": gid("Metafield", ctx.world.new_id("metafield")),
                         "namespace": m.get("namespace") or f"app--{ctx.app.id}", "key": m.get("key"),
                         "value": m.get("value"), "type": m.get("type") or "single_line_text_field"}
                        for m in data.get("metafields") or []]
    source = data.get("sourceName")
    # Only the app's registered handles attribute; anything else is attributed to the app.
    order.source_name = source if source in ctx.app.source_handles else str(ctx.app.id)
    order.source_identifier, order.source_url = data.get("sourceIdentifier"), data.get("sourceUrl")
    order.financial_status = data.get("financialStatus")
    order.shipping_address, order.billing_address = data.get("shippingAddress"), data.get("billingAddress")
    order.buyer_accepts_marketing = bool(data.get("buyerAcceptsMarketing"))
    order.taxes_included, order.test = bool(data.get("taxesIncluded")), bool(data.get("test"))
    customer = data.get("customer") or {}
    if customer.get("toUpsert"):
        c = customer["toUpsert"]
        name = " ".join(p for p in (c.get("firstName"), c.get("lastName")) if p) or c.get("email") or ""
        order.customer = {"id": gid("Customer", ctx.world.new_id("customer")), "email": c.get("email"),
                          "firstName": c.get("firstName"), "lastName": c.get("lastName"),
                          "displayName": name, "phone": c.get("phone")}
    elif customer.get("toAssociate") or data.get("customerId"):
        cid = (customer.get("toAssociate") or {}).get("id") or data.get("customerId")
        order.customer = {"id": cid, "email": None, "firstName": None, "lastName": None,
                          "displayName": "", "phone": None}


def _claim(ctx: Ctx, order: Order, behaviour: str) -> None:
    if behaviour == "BYPASS":
        return
    location = ctx.shop.location_ids[0]
    wanted: dict[int, int] = {}
    for li in order.line_items:
        if li.variant_id:
            wanted[li.variant_id] = wanted.get(li.variant_id, 0) + li.quantity
    if behaviour == "DECREMENT_OBEYING_POLICY":
        for variant_id, qty in wanted.items():
            variant = ctx.world.variants[variant_id]
            if variant.inventory_policy == "DENY" and ctx.world.available(variant, location) < qty:
                raise _UserError(["options", "inventoryBehaviour"],
                                 f"Unable to claim inventory for {variant.sku}: not enough stock.",
                                 "INVENTORY_CLAIM_FAILED")
    for li in order.line_items:
        if li.variant_id:
            ctx.world.adjust(ctx.world.variants[li.variant_id], location, -li.quantity)
            li.claimed = li.quantity


def order_create(_root: Any, info: GraphQLResolveInfo[Any], order: dict[str, Any],
                 options: dict[str, Any] | None = None) -> dict[str, Any]:
    ctx = require_scope(info, "write_orders")
    shop = ctx.shop
    if shop.create_cap is not None:
        while shop.create_times and ctx.now - shop.create_times[0] >= DEV_CAP_WINDOW:
            shop.create_times.popleft()
        if len(shop.create_times) >= shop.create_cap:
            raise GraphQLError(
                "Too many orders created. Trial and development stores can create at most "
                f"{shop.create_cap} new orders per minute.", extensions={"code": "THROTTLED"})
    try:
        new = _build_order(ctx, order)
        fulfilled = create_fulfilled.read_fulfilment(ctx, order)
        _claim(ctx, new, (options or {}).get("inventoryBehaviour") or "BYPASS")
    except (_UserError, create_fulfilled.CreateFulfilmentError) as exc:
        return {"order": None, "userErrors": [exc.error]}
    shop.create_times.append(ctx.now)
    shop.next_number += 1
    for raw in order.get("transactions") or []:
        new.transactions.append(Transaction(
            ctx.world.new_id("transaction"), raw.get("kind") or "SALE", raw.get("status") or "SUCCESS",
            raw.get("gateway") or "manual", bag_amount(raw["amountSet"]) or Decimal("0"), ctx.now,
            parse_datetime(raw["processedAt"]) if raw.get("processedAt") else new.processed_at,
            test=bool(raw.get("test"))))
    if not new.transactions and new.financial_status in ("PAID", "AUTHORIZED"):
        kind = "SALE" if new.financial_status == "PAID" else "AUTHORIZATION"
        new.transactions.append(Transaction(ctx.world.new_id("transaction"), kind, "SUCCESS", "manual",
                                            totals(new)["total"], ctx.now, new.processed_at))
    ctx.world.orders[new.id] = new
    ctx.world.count(shop.domain, "orderCreate", new.id)
    create_fulfilled.fulfil_at_create(ctx, new, fulfilled)  # fulfillmentStatus FULFILLED: done before any event
    touch(ctx.world, new, ctx.now)
    world, runtime = ctx.world, ctx.runtime

    def make_fulfillment_orders() -> None:
        build_fulfillment_orders(world, new, runtime.now())

    ctx.runtime.schedule(world.timing.fulfillment_order_delay, make_fulfillment_orders,
                         f"shopify fulfillment orders for {new.name}")
    ctx.runtime.order_event(new, "orders/create")
    if totals(new)["received"] > 0:
        ctx.runtime.order_event(new, "orders/paid")
    return {"order": order_node(ctx, new), "userErrors": []}


def order_or_none(ctx: Ctx, value: Any) -> Order | None:
    """The shop's order with this GID, or None."""
    return ctx.world.order_in(ctx.shop.domain, parse_gid(value, "Order"))


def order_update(_root: Any, info: GraphQLResolveInfo[Any], input: dict[str, Any]) -> dict[str, Any]:
    ctx = require_scope(info, "write_orders")
    order = order_or_none(ctx, input["id"])
    if order is None:
        return {"order": None, "userErrors": [user_error(["id"], "Order does not exist")]}
    before = order.shipping_address
    # OrderInput.phone exists from 2026-01 (the sandbox serves 2026-10).
    for key, attr in (("note", "note"), ("email", "email"), ("phone", "phone"),
                      ("shippingAddress", "shipping_address")):
        if key in input:
            setattr(order, attr, input[key])
    if "tags" in input and input["tags"] is not None:
        order.tags = [t.strip() for t in input["tags"] if t.strip()]
    if input.get("customAttributes") is not None:
        order.custom_attributes = [(a["key"], a["value"]) for a in input["customAttributes"]]
    for m in input.get("metafields") or []:
        order.metafields = [x for x in order.metafields if (x["namespace"], x["key"]) != (m.get("namespace"), m.get("key"))]
        order.metafields.append({"id": gid("Metafield", ctx.world.new_id("metafield")),
                                 "namespace": m.get("namespace"), "key": m.get("key"),
                                 "value": m.get("value"), "type": m.get("type") or "single_line_text_field"})
    if "shippingAddress" in input and address_changed(before, order.shipping_address):
        recalculate_taxes(ctx.shop, order)  # since 2026-08-31 (taxes.py)
    ctx.world.count(ctx.shop.domain, "orderUpdate", order.id)
    touch(ctx.world, order, ctx.now)
    ctx.runtime.order_event(order, "orders/updated")
    return {"order": order_node(ctx, order), "userErrors": []}


def _record_payment(ctx: Ctx, order: Order, amount: Decimal, gateway: str, manual: bool,
                    processed: Any = None) -> None:
    order.transactions.append(Transaction(ctx.world.new_id("transaction"), "SALE", "SUCCESS", gateway,
                                          amount, ctx.now, processed or ctx.now, manual=manual))
    touch(ctx.world, order, ctx.now)
    ctx.runtime.order_event(order, "orders/updated")
    if totals(order, current=True)["outstanding"] <= 0:
        ctx.runtime.order_event(order, "orders/paid")


def order_mark_as_paid(_root: Any, info: GraphQLResolveInfo[Any], input: dict[str, Any]) -> dict[str, Any]:
    ctx = require_scope(info, "write_orders")
    order = order_or_none(ctx, input["id"])
    if order is None:
        return {"order": None, "userErrors": [user_error(["id"], "Order does not exist")]}
    outstanding = totals(order, current=True)["outstanding"]
    if outstanding <= 0 or order.cancelled_at is not None:
        return {"order": order_node(ctx, order),
                "userErrors": [user_error(["id"], "Order cannot be marked as paid.")]}
    ctx.world.count(ctx.shop.domain, "orderMarkAsPaid", order.id)
    _record_payment(ctx, order, outstanding, "manual", True)
    return {"order": order_node(ctx, order), "userErrors": []}


def order_create_manual_payment(_root: Any, info: GraphQLResolveInfo[Any], id: str,
                                amount: dict[str, Any] | None = None, paymentMethodName: str | None = None,
                                processedAt: str | None = None) -> dict[str, Any]:
    ctx = require_scope(info, "write_orders")
    order = order_or_none(ctx, id)
    if order is None:
        return {"order": None, "userErrors": [user_error(["id"], "Order is not found.", "ORDER_NOT_FOUND")]}
    outstanding = totals(order, current=True)["outstanding"]
    value = amount_of(amount["amount"]) if amount else outstanding
    processed = parse_datetime(processedAt) if processedAt else None
    errors = []
    if amount and ctx.shop.plan.value not in ("plus", "enterprise"):
        errors.append(user_error(["amount"], "The amount field requires a Shopify Plus store.", None))
    elif processed is not None and processed > ctx.now:
        errors.append(user_error(["processedAt"], "Processed at is invalid.", "PROCESSED_AT_INVALID"))
    elif value <= 0:
        errors.append(user_error(["amount"], "Amount must be positive.", "AMOUNT_NOT_POSITIVE"))
    elif value > outstanding:
        errors.append(user_error(["amount"], "Amount exceeds the remaining balance.", "AMOUNT_EXCEEDS_BALANCE"))
    if errors:
        return {"order": order_node(ctx, order), "userErrors": errors}
    ctx.world.count(ctx.shop.domain, "orderCreateManualPayment", order.id)
    _record_payment(ctx, order, value, paymentMethodName or "Other", True, processed)
    return {"order": order_node(ctx, order), "userErrors": []}


def q_order(_root: Any, info: GraphQLResolveInfo[Any], id: str) -> dict[str, Any] | None:
    ctx = require_scope(info, "read_orders", "read_marketplace_orders")
    order = order_or_none(ctx, id)
    return order_node(ctx, order) if order else None


def q_orders(_root: Any, info: GraphQLResolveInfo[Any], **args: Any) -> dict[str, Any]:
    ctx = require_scope(info, "read_orders", "read_marketplace_orders")
    found = order_search(ctx, args.get("query"), args.get("sortKey") or "PROCESSED_AT")
    return connection(found, args, lambda o: order_node(ctx, o), lambda o: o.id)


QUERIES = {"order": q_order, "orders": q_orders}
MUTATIONS = {
    "orderCreate": order_create, "orderUpdate": order_update, "orderMarkAsPaid": order_mark_as_paid,
    "orderCreateManualPayment": order_create_manual_payment,
}
