"""Shopify recalculating an order's taxes when ``orderUpdate`` changes its shipping address.

Source: Shopify's developer changelog "Updating an order's shipping address now recalculates
taxes" (https://shopify.dev/changelog/updating-an-orders-shipping-address-returns-accurate-financial-data,
posted 2026-07-30). As of 2026-08-31, on every Admin API version (the version-scoped post of
the same change says "2026-10 onwards"; both cover the 2026-10 the sandbox serves),
changing the shipping address of an unfulfilled order with ``orderUpdate`` recalculates the
order's taxes against the new destination: read the order again for the updated
``taxLines``, ``totalTaxSet`` and totals. The address change always succeeds; only the
recalculation is conditional: a partially or fully fulfilled order keeps its tax lines.
Nothing in the post lets a merchant opt out, so the sandbox has no switch for it.

The recalculation is the store's own: the tax lines the order had (those given to
``orderCreate``, channel-liable ones included) are replaced by what the store charges at the
new destination. The sandbox's store tax is a table per shop (control API ``PUT
/shopify/shops/{shop}/taxes``): a rate per destination state, applied to taxable lines after
their discount (and to shipping when the store taxes shipping), rounded to the cent. A state
not in the table is taxed nothing, as for a TikTok-only seller that registered nowhere (the
default: an empty table). An order priced with taxes included keeps its total (the tax is
inside the prices), as Shopify's totals already do.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from orderbridge.sandbox.shopify.order_records import LineItem, Order, TaxLine
from orderbridge.sandbox.shopify.state import Shop

if TYPE_CHECKING:
    from orderbridge.sandbox.shopify import ShopifySandbox

__all__ = ["address_changed", "build_taxes_router", "recalculate_taxes"]

_CENT = Decimal("0.01")


def address_changed(before: dict[str, Any] | None, after: dict[str, Any] | None) -> bool:
    """Whether ``orderUpdate`` changed the shipping address (a first address is a change)."""
    return (before or None) != (after or None)


def _fulfilled_any(order: Order) -> bool:
    return any(f.status == "SUCCESS" and any(q > 0 for _, _, q in f.lines) for f in order.fulfillments)


def _line_base(order: Order, line: LineItem) -> Decimal:
    """The line's price after its per-unit discount and its share of the discount code."""
    gross = line.price * line.quantity
    coded = sum((li.price * li.quantity for li in order.line_items if not li.added_by_edit), Decimal("0"))
    share = Decimal("0")
    if order.discount_amount and coded and not line.added_by_edit:
        share = min(order.discount_amount, coded) * gross / coded
    return gross - line.unit_discount * line.quantity - share


def _tax(rate: Decimal, base: Decimal, title: str) -> list[TaxLine]:
    amount = (rate * base).quantize(_CENT, rounding=ROUND_HALF_UP)
    return [TaxLine(title, rate, amount, False)] if amount > 0 else []


def recalculate_taxes(shop: Shop, order: Order) -> bool:
    """Recalculate ``order``'s taxes for its (new) shipping address; False when Shopify
    leaves them unchanged (some units fulfilled, or the order is cancelled)."""
    if order.cancelled_at is not None or _fulfilled_any(order):
        return False
    address = order.shipping_address or {}
    state = str(address.get("provinceCode") or address.get("province_code") or "").upper()
    rate = shop.tax_rates.get(state, Decimal("0"))
    title = f"{state} State Tax"
    for line in order.line_items:
        line.tax_lines = _tax(rate, _line_base(order, line), title) if line.taxable else []
    for shipping in order.shipping_lines:
        taxed = shop.tax_shipping and not order.free_shipping
        shipping.tax_lines = _tax(rate, shipping.price, title) if taxed else []
    order.tax_lines = []
    return True


class TaxesBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rates: dict[str, Decimal] = Field(default_factory=dict)  # state code -> rate (0.0725)
    shipping_taxed: bool = False


def build_taxes_router(sandbox: ShopifySandbox) -> APIRouter:
    """``PUT /shops/{shop}/taxes``: the store's own sales tax by destination state."""
    router = APIRouter(tags=["shopify"])
    world = sandbox.world

    @router.put("/shops/{shop}/taxes")
    def shop_taxes(shop: str, body: TaxesBody) -> dict[str, Any]:
        """Rates per state the store collects tax in (replaces the table); shipping taxed or not."""
        target = world.shops.get(shop) or world.shops.get(shop + ".myshopify.com")
        if target is None:
            raise HTTPException(404, f"no shop {shop}")
        bad = [code for code, rate in body.rates.items() if not Decimal("0") <= rate < Decimal("1")]
        if bad:
            raise HTTPException(422, f"rates must be fractions from 0 to 1: {', '.join(bad)}")
        target.tax_rates = {code.upper(): rate for code, rate in body.rates.items()}
        target.tax_shipping = body.shipping_taxed
        return {"rates": {k: str(v) for k, v in target.tax_rates.items()},
                "shipping_taxed": target.tax_shipping}

    return router
