"""Order editing (begin, set quantity, add a variant or a custom item, line discount, commit) and
refundCreate (idempotent)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo, value_from_ast_untyped

from orderbridge.sandbox.shopify.context import Ctx, require_scope
from orderbridge.sandbox.shopify.inputs import amount_of, user_error
from orderbridge.sandbox.shopify.nodes import (
    connection,
    money_bag,
    order_node,
    refund_node,
    variant_node,
)
from orderbridge.sandbox.shopify.order_records import (
    EditSession,
    LineItem,
    Order,
    Refund,
    StagedCustomItem,
    Transaction,
)
from orderbridge.sandbox.shopify.state import cents, gid, parse_gid
from orderbridge.sandbox.shopify.world import restock_line, sync_fo_quantities, totals, touch

__all__ = ["MUTATIONS"]


def _fulfilled(order: Order, line_id: int) -> int:
    return sum(q for f in order.fulfillments if f.status == "SUCCESS" for _, lid, q in f.lines if lid == line_id)


def _staged_order(ctx: Ctx, session: EditSession) -> Order:
    """The order as the edit would leave it (a copy: the stored order is not touched).

    Added lines get no share of the order's discount code and no tax: this store has no
    tax engine of its own, so it charges tax only where a caller gave tax lines (a custom
    item staged ``taxable: false`` is untaxed in any store).
    """
    order = ctx.world.orders[session.order_id]
    lines = [replace(li, current_quantity=session.quantities.get(li.id, li.current_quantity))
             for li in order.line_items]
    for calc_id, variant_id, qty in session.added:
        variant = ctx.world.variants[variant_id]
        off = session.discounts.get(calc_id, (Decimal("0"), ""))[0]
        lines.append(LineItem(calc_id, variant.product_title, variant.sku, variant.id, qty, variant.price, qty,
                              requires_shipping=variant.requires_shipping, unit_discount=off,
                              added_by_edit=True))
    for item in session.custom_items:
        lines.append(LineItem(item.calc_id, item.title, None, None, item.quantity, item.price, item.quantity,
                              requires_shipping=item.requires_shipping, taxable=item.taxable,
                              added_by_edit=True))
    return replace(order, line_items=lines)


def _calc_order(ctx: Ctx, session: EditSession) -> dict[str, Any]:
    order = ctx.world.orders[session.order_id]
    cur = order.currency
    rows: list[dict[str, Any]] = []
    for li in order.line_items:
        qty = session.quantities.get(li.id, li.current_quantity)
        variant = ctx.world.variants.get(li.variant_id) if li.variant_id else None
        rows.append({"id": gid("CalculatedLineItem", li.id), "title": li.title, "sku": li.sku,
                     "quantity": qty, "editableQuantity": qty, "restockable": li.variant_id is not None,
                     "restocking": session.restock.get(li.id, False),
                     "variant": variant_node(ctx, variant) if variant else None,
                     "originalUnitPriceSet": money_bag(li.price, cur),
                     # line-level discounts only: the order's discount code is an allocation
                     "discountedUnitPriceSet": money_bag(li.price - li.unit_discount, cur),
                     "calculatedDiscountAllocations": [
                         {"allocatedAmountSet": money_bag(cents(li.discount * qty / li.quantity), cur)}
                     ] if li.discount and li.quantity else [],
                     "hasStagedLineItemDiscount": False, "_n": li.id})
    added: list[dict[str, Any]] = []
    for calc_id, variant_id, qty in session.added:
        variant = ctx.world.variants[variant_id]
        off = session.discounts.get(calc_id, (Decimal("0"), ""))[0]
        added.append({"id": gid("CalculatedLineItem", calc_id), "title": variant.product_title,
                      "sku": variant.sku, "quantity": qty, "editableQuantity": qty, "restockable": True,
                      "restocking": False, "variant": variant_node(ctx, variant),
                      "originalUnitPriceSet": money_bag(variant.price, cur),
                      "discountedUnitPriceSet": money_bag(variant.price - off, cur),
                      "calculatedDiscountAllocations": [],
                      "hasStagedLineItemDiscount": calc_id in session.discounts, "_n": calc_id})
    for item in session.custom_items:
        added.append({"id": gid("CalculatedLineItem", item.calc_id), "title": item.title, "sku": None,
                      "quantity": item.quantity, "editableQuantity": item.quantity, "restockable": False,
                      "restocking": False, "variant": None,
                      "originalUnitPriceSet": money_bag(item.price, cur),
                      "discountedUnitPriceSet": money_bag(item.price, cur),
                      "calculatedDiscountAllocations": [], "hasStagedLineItemDiscount": False,
                      "_n": item.calc_id})
    staged = totals(_staged_order(ctx, session), current=True)
    return {"id": gid("CalculatedOrder", session.id), "committed": session.committed,
            "originalOrder": lambda _i: order_node(ctx, order),
            "lineItems": lambda _i, **a: connection(rows + added, a, lambda r: r, lambda r: r["_n"]),
            "addedLineItems": lambda _i, **a: connection(added, a, lambda r: r, lambda r: r["_n"]),
            "subtotalPriceSet": money_bag(staged["subtotal"], cur),
            "totalPriceSet": money_bag(staged["total"], cur),
            "totalOutstandingSet": money_bag(staged["outstanding"], cur)}


def _session(ctx: Ctx, value: str) -> EditSession | None:
    number = parse_gid(value, "CalculatedOrder") or parse_gid(value, "OrderEditSession")
    session = ctx.world.edits.get(number or -1)
    if session is None or session.committed or ctx.world.orders.get(session.order_id) is None:
        return None
    return session if ctx.world.orders[session.order_id].shop == ctx.shop.domain else None


def _payload(ctx: Ctx, session: EditSession, line: dict[str, Any] | None = None) -> dict[str, Any]:
    calc = _calc_order(ctx, session)
    return {"calculatedOrder": calc, "calculatedLineItem": line,
            "orderEditSession": {"id": gid("OrderEditSession", session.id)}, "userErrors": []}


def _fail(field: list[str], message: str) -> dict[str, Any]:
    return {"calculatedOrder": None, "calculatedLineItem": None, "orderEditSession": None,
            "userErrors": [user_error(field, message)]}


def edit_begin(_root: Any, info: GraphQLResolveInfo[Any], id: str) -> dict[str, Any]:
    ctx = require_scope(info, "write_order_edits")
    order = ctx.world.order_in(ctx.shop.domain, parse_gid(id, "Order"))
    if order is None:
        return _fail(["id"], "Order does not exist")
    if order.cancelled_at is not None:
        return _fail(["id"], "The order cannot be edited because it has been cancelled.")
    session = EditSession(ctx.world.new_id("edit"), order.id, {}, {})
    ctx.world.edits[session.id] = session
    ctx.world.count(ctx.shop.domain, "orderEditBegin", order.id)
    return _payload(ctx, session)


def edit_set_quantity(_root: Any, info: GraphQLResolveInfo[Any], id: str, lineItemId: str, quantity: int,
                      restock: bool | None = None, locationId: str | None = None) -> dict[str, Any]:
    ctx = require_scope(info, "write_order_edits")
    session = _session(ctx, id)
    if session is None:
        return _fail(["id"], "The calculated order does not exist or was already committed.")
    if quantity < 0:
        return _fail(["quantity"], "Quantity must be greater than or equal to 0.")
    order = ctx.world.orders[session.order_id]
    number = parse_gid(lineItemId, "CalculatedLineItem")
    ctx.world.count(ctx.shop.domain, "orderEditSetQuantity", order.id)
    line = next((li for li in order.line_items if li.id == number), None)
    if line is not None:
        if quantity < _fulfilled(order, line.id):
            return _fail(["quantity"], "Quantity cannot be less than the fulfilled quantity.")
        session.quantities[line.id] = quantity
        session.restock[line.id] = bool(restock)
    else:
        index = next((i for i, a in enumerate(session.added) if a[0] == number), None)
        item = next((c for c in session.custom_items if c.calc_id == number), None)
        if index is not None:
            calc_id, variant_id, _ = session.added[index]
            session.added[index] = (calc_id, variant_id, quantity)
        elif item is not None:
            item.quantity = quantity
        else:
            return _fail(["lineItemId"], "Line item does not exist.")
    calc = _calc_order(ctx, session)
    row = next(r for r in calc["lineItems"](None, first=250)["nodes"] if r["_n"] == number)
    return _payload(ctx, session, row)


def edit_add_variant(_root: Any, info: GraphQLResolveInfo[Any], id: str, variantId: str, quantity: int,
                     locationId: str | None = None, allowDuplicates: bool = False) -> dict[str, Any]:
    ctx = require_scope(info, "write_order_edits")
    session = _session(ctx, id)
    if session is None:
        return _fail(["id"], "The calculated order does not exist or was already committed.")
    variant = ctx.world.variant_in(ctx.shop.domain, parse_gid(variantId, "ProductVariant"))
    if variant is None:
        return _fail(["variantId"], "Variant does not exist.")
    if quantity <= 0:
        return _fail(["quantity"], "Quantity must be greater than 0.")
    order = ctx.world.orders[session.order_id]
    present = any(li.variant_id == variant.id for li in order.line_items) or any(
        v == variant.id for _, v, _ in session.added)
    if present and not allowDuplicates:
        return _fail(["variantId"], "Variant is already on the order; set allowDuplicates to add it again.")
    calc_id = ctx.world.new_id("calc")
    session.added.append((calc_id, variant.id, quantity))
    ctx.world.count(ctx.shop.domain, "orderEditAddVariant", order.id)
    calc = _calc_order(ctx, session)
    row = next(r for r in calc["addedLineItems"](None, first=250)["nodes"] if r["_n"] == calc_id)
    return _payload(ctx, session, row)


def edit_add_custom_item(_root: Any, info: GraphQLResolveInfo[Any], id: str, title: str, price: dict[str, Any],
                         quantity: int, locationId: str | None = None, requiresShipping: bool | None = None,
                         taxable: bool | None = None) -> dict[str, Any]:
    """A custom line (no variant, claims no stock) staged at ``price`` a unit. Shopify's
    defaults: taxable, not requiring shipping."""
    ctx = require_scope(info, "write_order_edits")
    session = _session(ctx, id)
    if session is None:
        return _fail(["id"], "The calculated order does not exist or was already committed.")
    order = ctx.world.orders[session.order_id]
    if not title.strip():
        return _fail(["title"], "Title can't be blank.")
    if quantity <= 0:
        return _fail(["quantity"], "Quantity must be greater than 0.")
    if price.get("currencyCode") != order.currency:
        return _fail(["price", "currencyCode"], "Currency must match the order's currency.")
    amount = amount_of(price["amount"])
    if amount < 0:
        return _fail(["price"], "Price can't be negative.")
    item = StagedCustomItem(ctx.world.new_id("calc"), title, amount, quantity,
                            taxable=True if taxable is None else taxable,
                            requires_shipping=bool(requiresShipping))
    session.custom_items.append(item)
    ctx.world.count(ctx.shop.domain, "orderEditAddCustomItem", order.id)
    calc = _calc_order(ctx, session)
    row = next(r for r in calc["addedLineItems"](None, first=250)["nodes"] if r["_n"] == item.calc_id)
    return _payload(ctx, session, row)


def edit_add_line_item_discount(_root: Any, info: GraphQLResolveInfo[Any], id: str, lineItemId: str,
                                discount: dict[str, Any]) -> dict[str, Any]:
    """A fixed (per unit) or percentage discount on a line added in this edit, staged."""
    ctx = require_scope(info, "write_order_edits")
    session = _session(ctx, id)
    if session is None:
        return _fail(["id"], "The calculated order does not exist or was already committed.")
    number = parse_gid(lineItemId, "CalculatedLineItem")
    found = next((a for a in session.added if a[0] == number), None)
    if found is None:
        return _fail(["lineItemId"], "Only items added during the current edit may be discounted.")
    number = found[0]
    if number in session.discounts:
        return _fail(["lineItemId"], "The line item already has a discount.")
    fixed, percent = discount.get("fixedValue"), discount.get("percentValue")
    if (fixed is None) == (percent is None):
        return _fail(["discount"], "Specify either a fixed value or a percent value.")
    price = ctx.world.variants[found[1]].price
    order = ctx.world.orders[session.order_id]
    if fixed is not None:
        if fixed.get("currencyCode") != order.currency:
            return _fail(["discount", "fixedValue", "currencyCode"], "Currency must match the order's currency.")
        amount = amount_of(fixed["amount"])
    else:
        amount = cents(price * Decimal(str(percent)) / 100)
    if amount <= 0 or amount > price:
        return _fail(["discount"], "The discount must be greater than 0 and at most the unit price.")
    session.discounts[number] = (amount, discount.get("description") or "")
    ctx.world.count(ctx.shop.domain, "orderEditAddLineItemDiscount", order.id)
    calc = _calc_order(ctx, session)
    row = next(r for r in calc["addedLineItems"](None, first=250)["nodes"] if r["_n"] == number)
    return _payload(ctx, session, row)


def edit_commit(_root: Any, info: GraphQLResolveInfo[Any], id: str, notifyCustomer: bool | None = None,
                staffNote: str | None = None) -> dict[str, Any]:
    ctx = require_scope(info, "write_order_edits")
    session = _session(ctx, id)
    if session is None:
        return {"order": None, "successMessages": None, "userErrors": [user_error(
            ["id"], "The calculated order does not exist or was already committed.")]}
    order = ctx.world.orders[session.order_id]
    location = ctx.shop.location_ids[0]
    for li in order.line_items:
        new = session.quantities.get(li.id, li.current_quantity)
        if new < li.current_quantity and session.restock.get(li.id):
            restock_line(ctx.world, order, li.id, li.current_quantity - new)
        elif new > li.current_quantity and li.variant_id:
            ctx.world.adjust(ctx.world.variants[li.variant_id], location, -(new - li.current_quantity))
            li.claimed += new - li.current_quantity
        li.current_quantity = new
    for calc_id, variant_id, qty in session.added:
        if qty <= 0:
            continue
        variant = ctx.world.variants[variant_id]
        off, title = session.discounts.get(calc_id, (Decimal("0"), None))
        li = LineItem(ctx.world.new_id("line"), variant.product_title, variant.sku, variant.id, qty,
                      variant.price, qty, requires_shipping=variant.requires_shipping,
                      variant_title=variant.title, claimed=qty, unit_discount=off, unit_discount_title=title,
                      added_by_edit=True)
        ctx.world.adjust(variant, location, -qty)
        order.line_items.append(li)
    for item in session.custom_items:
        if item.quantity > 0:  # a custom line claims no stock
            order.line_items.append(LineItem(
                ctx.world.new_id("line"), item.title, None, None, item.quantity, item.price,
                item.quantity, requires_shipping=item.requires_shipping, taxable=item.taxable,
                added_by_edit=True))
    session.committed = True
    if staffNote:
        order.staff_notes.append(staffNote)
    sync_fo_quantities(ctx.world, order, ctx.now)
    touch(ctx.world, order, ctx.now)
    ctx.world.count(ctx.shop.domain, "orderEditCommit", order.id)
    ctx.runtime.order_event(order, "orders/edited")
    ctx.runtime.order_event(order, "orders/updated")
    return {"order": order_node(ctx, order), "successMessages": ["Order updated"], "userErrors": []}


def _idempotency_key(info: GraphQLResolveInfo[Any]) -> str | None:
    """The ``@idempotent(key:)`` directive's key on this field, if any."""
    coerced = getattr(info.variable_values, "coerced", info.variable_values)
    variables = dict(coerced) if isinstance(coerced, dict) else {}
    for directive in info.field_nodes[0].directives or ():
        if directive.name.value == "idempotent":
            for arg in directive.arguments or ():
                if arg.name.value == "key":
                    value = value_from_ast_untyped(arg.value, variables)
                    return None if value is None else str(value)
    return None


def refund_create(_root: Any, info: GraphQLResolveInfo[Any], input: dict[str, Any]) -> dict[str, Any]:
    ctx = require_scope(info, "write_orders")
    key = _idempotency_key(info)
    if key is None:
        # Mandatory from 2026-04: "calling these mutations without an idempotency directive will
        # result in an error at runtime" (https://shopify.dev/changelog/making-idempotency-
        # mandatory-for-inventory-adjustments-and-refund-mutations). The wording is ours.
        raise GraphQLError("The @idempotent directive is required for refundCreate.",
                           extensions={"code": "BAD_REQUEST"})
    if (ctx.shop.domain, str(ctx.app.id), key) in ctx.world.idempotency:
        memo = ctx.world.idempotency[(ctx.shop.domain, str(ctx.app.id), key)]
        order = ctx.world.orders.get(memo["order"])
        refund = next((r for r in order.refunds if r.id == memo["refund"]), None) if order else None
        if order is not None and refund is not None:
            return {"order": order_node(ctx, order), "refund": refund_node(ctx, order, refund), "userErrors": []}
    order = ctx.world.order_in(ctx.shop.domain, parse_gid(input["orderId"], "Order"))
    if order is None:
        return {"order": None, "refund": None, "userErrors": [user_error(["orderId"], "Order does not exist")]}
    rows = []
    for index, raw in enumerate(input.get("refundLineItems") or []):
        li = next((x for x in order.line_items if gid("LineItem", x.id) == raw["lineItemId"]), None)
        if li is None or raw["quantity"] <= 0 or raw["quantity"] > li.current_quantity:
            return {"order": order_node(ctx, order), "refund": None, "userErrors": [user_error(
                ["refundLineItems", str(index), "quantity"], "Quantity cannot refund more items than were purchased")]}
        rows.append((li, raw["quantity"], raw.get("restockType") or "NO_RESTOCK"))
    refund = Refund(ctx.world.new_id("refund"), order.id, ctx.now, input.get("note"), [], Decimal("0"), Decimal("0"))
    for li, qty, restock_type in rows:
        if restock_type in ("CANCEL", "RETURN"):
            restock_line(ctx.world, order, li.id, qty)
        li.current_quantity -= qty
        unit = li.price - (li.discount / li.quantity if li.quantity else Decimal("0")) - li.unit_discount
        refund.lines.append((ctx.world.new_id("rline"), li.id, qty, restock_type, cents(unit * qty)))
    shipping = input.get("shipping") or {}
    if shipping.get("fullRefund"):
        refund.shipping = totals(order)["shipping"]
    elif shipping.get("amount") is not None:
        refund.shipping = amount_of(shipping["amount"])
    for raw in input.get("transactions") or []:
        tx = Transaction(ctx.world.new_id("transaction"), raw["kind"], "SUCCESS", raw["gateway"],
                         amount_of(raw["amount"]), ctx.now, ctx.now, manual=raw["gateway"] == "manual")
        order.transactions.append(tx)
        refund.transaction_ids.append(tx.id)
        refund.total += tx.amount
    order.refunds.append(refund)
    sync_fo_quantities(ctx.world, order, ctx.now)
    touch(ctx.world, order, ctx.now)
    ctx.world.count(ctx.shop.domain, "refundCreate", order.id)
    if key is not None:
        ctx.world.idempotency[(ctx.shop.domain, str(ctx.app.id), key)] = {"order": order.id, "refund": refund.id}
    ctx.runtime.refund_event(order, refund)
    ctx.runtime.order_event(order, "orders/updated")
    return {"order": order_node(ctx, order), "refund": refund_node(ctx, order, refund), "userErrors": []}


MUTATIONS = {
    "orderEditBegin": edit_begin, "orderEditSetQuantity": edit_set_quantity,
    "orderEditAddVariant": edit_add_variant, "orderEditAddCustomItem": edit_add_custom_item,
    "orderEditAddLineItemDiscount": edit_add_line_item_discount,
    "orderEditCommit": edit_commit, "refundCreate": refund_create,
}
