"""Shopify search syntax for orders(query:) and productVariants(query:).

The orders index lags writes: it sees each order as it was ``index_lag`` ago (an order
created a moment ago is not found at all), and without ``read_all_orders`` only orders
processed in the last 60 days.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from orderbridge.clock import as_utc
from orderbridge.sandbox.shopify.context import Ctx
from orderbridge.sandbox.shopify.order_records import Order
from orderbridge.sandbox.shopify.state import SEARCH_WINDOW, Variant

__all__ = ["Term", "order_search", "parse_query", "variant_search"]

SORT_FIELDS = {"PROCESSED_AT": "processed_at", "CREATED_AT": "created_at", "UPDATED_AT": "updated_at"}


@dataclass
class Term:
    field: str | None  # None = free text
    op: str  # ":", ">", ">=", "<", "<="
    value: str
    negated: bool = False


def parse_query(query: str | None) -> list[list[Term]]:
    """Groups of AND-ed terms, OR-ed together."""
    if not query:
        return [[]]
    try:
        tokens = shlex.split(query)
    except ValueError:
        tokens = query.split()
    groups: list[list[Term]] = [[]]
    negate_next = False
    for token in tokens:
        if token == "OR":
            groups.append([])
            continue
        if token == "AND":
            continue
        if token == "NOT":
            negate_next = True
            continue
        negated = negate_next or token.startswith("-")
        negate_next = False
        token = token.lstrip("-")
        if ":" in token:
            key, _, value = token.partition(":")
            op = ":"
            for candidate in (">=", "<=", ">", "<"):
                if value.startswith(candidate):
                    op, value = candidate, value[len(candidate):]
                    break
            groups[-1].append(Term(key.lower(), op, value.strip("'\""), negated))
        else:
            groups[-1].append(Term(None, ":", token, negated))
    return groups


def _as_instant(value: str) -> datetime | None:
    try:
        return as_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


def _compare(actual: Any, term: Term) -> bool:
    if isinstance(actual, datetime):
        wanted = _as_instant(term.value)
        if wanted is None:
            return False
        if term.op == ":":
            if "T" in term.value:
                return actual == wanted
            return actual.date() == wanted.date()
        return {">": actual > wanted, ">=": actual >= wanted, "<": actual < wanted,
                "<=": actual <= wanted}[term.op]
    if isinstance(actual, list):
        return term.value.lower() in actual
    if isinstance(actual, bool):
        return str(actual).lower() == term.value.lower()
    if actual is None:
        return False
    if term.value.endswith("*"):
        return str(actual).lower().startswith(term.value[:-1].lower())
    return str(actual).lower() == term.value.lower()


def _order_term(doc: dict[str, Any], term: Term) -> bool:
    field = term.field
    if field is None:
        text = term.value.lower()
        return any(text in str(doc.get(k) or "").lower() for k in ("name", "email", "source_identifier")) \
            or text in doc["tags"]
    if field == "name":
        wanted = term.value.lower().lstrip("#")
        return str(doc["name"]).lower().lstrip("#") == wanted
    if field == "tag":
        return term.value.lower() in doc["tags"]
    if field == "tag_not":
        return term.value.lower() not in doc["tags"]
    if field == "status":
        return term.value.lower() == "any" or doc["status"] == term.value.lower()
    if field == "sku":
        return term.value in doc["skus"]
    if field == "id":
        return _compare(str(doc["id"]), term)
    return _compare(doc.get(field), term)


def order_search(ctx: Ctx, query: str | None, sort_key: str) -> list[Order]:
    """Orders of the shop that the (lagging) index finds for ``query``."""
    groups = parse_query(query)
    window_start = None if ctx.has("read_all_orders") else ctx.now - SEARCH_WINDOW
    found: list[tuple[Any, Order]] = []
    for order in ctx.world.orders.values():
        if order.shop != ctx.shop.domain:
            continue
        visible = [snap for at, snap in order.index if at <= ctx.now]
        if not visible:
            continue  # not indexed yet
        doc = dict(visible[-1], id=order.id)
        if window_start is not None and doc["processed_at"] < window_start:
            continue
        if any(all(_order_term(doc, t) != t.negated for t in group) for group in groups):
            sort_value = doc.get(SORT_FIELDS.get(sort_key, "")) or order.id
            if sort_key == "ORDER_NUMBER":
                sort_value = order.number
            found.append((sort_value, order))
    found.sort(key=lambda pair: (pair[0], pair[1].id))
    return [order for _, order in found]


def variant_search(ctx: Ctx, query: str | None) -> list[Variant]:
    """Variants of the shop matching ``query`` (sku:, title:, product_id:, id:, free text)."""
    groups = parse_query(query)
    out = []
    for variant in ctx.world.variants.values():
        if ctx.world.variant_shop.get(variant.id) != ctx.shop.domain:
            continue
        doc = {"sku": variant.sku, "title": variant.product_title, "product_id": str(variant.product_id),
               "id": str(variant.id)}

        def match(term: Term, doc: dict[str, Any] = doc) -> bool:
            if term.field is None:
                return term.value.lower() in f"{doc['sku']} {doc['title']}".lower()
            return _compare(doc.get(term.field), term)

        if any(all(match(t) != t.negated for t in group) for group in groups):
            out.append(variant)
    return sorted(out, key=lambda v: v.id)
