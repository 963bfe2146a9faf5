"""Order edits of the Shopify client: staging changes, committing them, and the swap of a
custom line for its variant that keeps the order's money as it was."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from orderbridge.adapters.shopify import ops_fulfillment as ops
from orderbridge.adapters.shopify.api_fulfillment import gid_tail, payload_object
from orderbridge.adapters.shopify.builders import money
from orderbridge.adapters.shopify.models_edits import (
    CalculatedLineItem,
    CalculatedOrder,
    EditCommitResult,
)
from orderbridge.adapters.shopify.operation import Operation
from orderbridge.adapters.shopify.throttle import Priority
from orderbridge.adapters.shopify.transport import API_NAME, ShopifyTransport
from orderbridge.errors import NotFound, Rejected

__all__ = ["DEFAULT_CHANNEL_TAX_TITLE", "EditsApi", "SwapKept", "SwapResult"]

DEFAULT_CHANNEL_TAX_TITLE = "Sales tax collected and remitted by the sales channel (channel-liable)"
_CENT = Decimal("0.01")


class SwapKept(StrEnum):
    """Why a swap was left uncommitted (Shopify discards an uncommitted edit)."""

    CHEAPER = "cheaper"  # the variant costs less than the price paid: an edit cannot raise it
    TOTAL_CHANGED = "total_changed"  # the staged total is not the order's total before the edit


@dataclass(frozen=True, slots=True, kw_only=True)
class SwapResult:
    """What ``swap_custom_line_for_variant`` did.

    ``committed`` is false when the swap would change the money (``kept`` says how): the
    custom line then stays with the price the buyer paid. ``discount_per_unit`` is the fixed
    discount put on each added unit when the variant costs more; ``channel_tax`` the amount of
    the non-taxable custom item that carries the custom line's channel-liable tax.
    ``total_before`` and ``total_staged`` are Shopify's order total before the edit and with
    the staged changes (``None`` when the response did not say).
    """

    committed: bool
    custom_unit_price: Decimal | None  # what the buyer paid a unit (less the allocated discount)
    variant_unit_price: Decimal | None
    discount_per_unit: Decimal = Decimal("0")
    channel_tax: Decimal = Decimal("0")
    kept: SwapKept | None = None
    total_before: Decimal | None = None
    total_staged: Decimal | None = None
    commit: EditCommitResult | None = None


def _staged_total(payload: Any) -> Decimal | None:
    calc = payload.get("calculatedOrder") if isinstance(payload, dict) else None
    return CalculatedOrder.from_raw(calc).total if isinstance(calc, dict) and calc.get("id") else None


class EditsApi(ShopifyTransport):
    """``orderEditBegin``, the staging mutations and ``orderEditCommit``."""

    async def begin_order_edit(
        self,
        order_id: str,
        *,
        line_items_first: int = ops.DEFAULT_EDIT_LINE_ITEMS_FIRST,
        priority: int = Priority.CANCELLATION,
    ) -> CalculatedOrder:
        """``orderEditBegin``: the calculated order to stage changes on."""
        result = await self.execute(
            ops.ORDER_EDIT_BEGIN, {"id": order_id, "lineItemsFirst": line_items_first},
            priority=priority, order_ref=order_id,
        )
        return CalculatedOrder.from_raw(
            payload_object(result.payload, "calculatedOrder", ops.ORDER_EDIT_BEGIN.name))

    async def _stage(
        self, operation: Operation, variables: dict[str, Any], priority: int,
    ) -> tuple[CalculatedLineItem, Decimal | None]:
        """Run a staging mutation: the line it staged and the staged order's total."""
        result = await self.execute(operation, variables, priority=priority)
        line = payload_object(result.payload, "calculatedLineItem", operation.name)
        return CalculatedLineItem.model_validate(line), _staged_total(result.payload)

    async def order_edit_set_quantity(
        self, calculated_order_id: str, line_item_id: str, quantity: int, *, restock: bool = True,
        priority: int = Priority.CANCELLATION,
    ) -> CalculatedLineItem:
        """``orderEditSetQuantity`` (0 removes the line) on a staged edit."""
        return (await self._set_quantity(calculated_order_id, line_item_id, quantity, restock, priority))[0]

    async def _set_quantity(
        self, calculated_order_id: str, line_item_id: str, quantity: int, restock: bool, priority: int,
    ) -> tuple[CalculatedLineItem, Decimal | None]:
        if quantity < 0:
            raise ValueError("quantity cannot be negative")
        variables = {"id": calculated_order_id, "lineItemId": line_item_id, "quantity": quantity, "restock": restock}
        return await self._stage(ops.ORDER_EDIT_SET_QUANTITY, variables, priority)

    async def order_edit_add_variant(
        self, calculated_order_id: str, variant_id: str, quantity: int, *, location_id: str | None = None,
        allow_duplicates: bool = False, priority: int = Priority.RELEASE,
    ) -> CalculatedLineItem:
        """``orderEditAddVariant`` on a staged edit."""
        if quantity < 1:
            raise ValueError("quantity must be at least 1")
        variables: dict[str, Any] = {
            "id": calculated_order_id, "variantId": variant_id, "quantity": quantity,
            "allowDuplicates": allow_duplicates,
        }
        if location_id:
            variables["locationId"] = location_id
        return (await self._stage(ops.ORDER_EDIT_ADD_VARIANT, variables, priority))[0]

    async def order_edit_add_custom_item(
        self, calculated_order_id: str, *, title: str, unit_price: Decimal, currency: str, quantity: int = 1,
        taxable: bool = True, requires_shipping: bool = False, priority: int = Priority.RELEASE,
    ) -> tuple[CalculatedLineItem, Decimal | None]:
        """``orderEditAddCustomItem``: a line with no variant (it claims no stock) on a staged
        edit; the staged line and the staged order's total. Shopify's defaults are taxable and
        not requiring shipping."""
        if quantity < 1:
            raise ValueError("quantity must be at least 1")
        if unit_price < 0:
            raise ValueError("a custom item's price cannot be negative")
        variables: dict[str, Any] = {
            "id": calculated_order_id, "title": title, "quantity": quantity,
            "price": {"amount": money(unit_price), "currencyCode": currency},
            "taxable": taxable, "requiresShipping": requires_shipping,
        }
        return await self._stage(ops.ORDER_EDIT_ADD_CUSTOM_ITEM, variables, priority)

    async def order_edit_add_line_item_discount(
        self, calculated_order_id: str, line_item_id: str, *, amount_per_unit: Decimal, currency: str,
        description: str, priority: int = Priority.RELEASE,
    ) -> CalculatedLineItem:
        """``orderEditAddLineItemDiscount``: a fixed discount on each unit of a line added in
        this edit (Shopify refuses lines that were not added in the current edit)."""
        if amount_per_unit <= 0:
            raise ValueError("a discount must be positive")
        variables: dict[str, Any] = {
            "id": calculated_order_id, "lineItemId": line_item_id,
            "discount": {"description": description,
                         "fixedValue": {"amount": money(amount_per_unit), "currencyCode": currency}},
        }
        return (await self._stage(ops.ORDER_EDIT_ADD_LINE_ITEM_DISCOUNT, variables, priority))[0]

    async def commit_order_edit(
        self, calculated_order_id: str, *, notify_customer: bool = False, staff_note: str | None = None,
        priority: int = Priority.CANCELLATION, order_ref: str | None = None,
    ) -> EditCommitResult:
        """``orderEditCommit``: apply the staged changes (not retried after an unknown outcome)."""
        variables: dict[str, Any] = {"id": calculated_order_id, "notifyCustomer": notify_customer}
        if staff_note:
            variables["staffNote"] = staff_note
        result = await self.execute(ops.ORDER_EDIT_COMMIT, variables, priority=priority, order_ref=order_ref)
        payload = result.payload if isinstance(result.payload, dict) else {}
        return EditCommitResult.from_raw(payload)

    async def remove_units(
        self, order_id: str, line_item_id: str, quantity: int, *, restock: bool = True,
        staff_note: str | None = None, priority: int = Priority.CANCELLATION,
    ) -> EditCommitResult:
        """Remove ``quantity`` units of an order line (partial cancellation), restocking them."""
        if quantity < 1:
            raise ValueError("quantity must be at least 1")
        edit = await self.begin_order_edit(order_id, priority=priority)
        line = _calculated_line(edit, line_item_id, order_id)
        remaining = line.quantity - quantity
        if remaining < 0 or (line.editable_quantity is not None and quantity > line.editable_quantity):
            raise Rejected(
                f"cannot remove {quantity} of line {line_item_id}: {line.quantity} on the order, "
                f"{line.editable_quantity} editable",
                api=API_NAME, operation=ops.ORDER_EDIT_SET_QUANTITY.name,
            )
        await self.order_edit_set_quantity(edit.id, line.id, remaining, restock=restock, priority=priority)
        return await self.commit_order_edit(edit.id, staff_note=staff_note, priority=priority, order_ref=order_id)

    async def swap_custom_line_for_variant(
        self, order_id: str, line_item_id: str, variant_id: str, *, quantity: int | None = None,
        location_id: str | None = None, staff_note: str | None = None, keep_unit_price: bool = True,
        discount_description: str = "Price paid on TikTok", channel_tax: Decimal = Decimal("0"),
        channel_tax_title: str = DEFAULT_CHANNEL_TAX_TITLE, priority: int = Priority.RELEASE,
    ) -> SwapResult:
        """Replace a custom line (unmapped SKU) by the variant it now links to, in one edit,
        leaving the order's total as it was.

        ``quantity`` defaults to the custom line's current quantity. An added variant is
        priced at the variant's price (Shopify's rule) and gets no share of the order's
        discount code; with ``keep_unit_price`` the line keeps what the custom line cost the
        buyer a unit (its price less its allocated order discount): a dearer variant gets a
        fixed discount per unit in the same edit, a cheaper one is not swapped. The custom
        line's tax lines leave with it and an edit cannot add tax lines, so ``channel_tax``
        (the channel-liable tax of the swapped units) comes back as a non-taxable custom item
        titled ``channel_tax_title`` that needs no shipping. The edit is committed only when
        Shopify's staged total equals the order's total before it (``SwapKept``).
        """
        edit = await self.begin_order_edit(order_id, priority=priority)
        line = _calculated_line(edit, line_item_id, order_id)
        units = quantity if quantity is not None else line.quantity
        # What the buyer paid a unit: the custom line's price less its share of the order's
        # discount (that share leaves with the removed line).
        paid = line.net_unit_price if keep_unit_price else None
        added = await self.order_edit_add_variant(edit.id, variant_id, units, location_id=location_id,
                                                  priority=priority)
        price = added.unit_price
        if paid is not None and price is not None and price < paid:
            return SwapResult(committed=False, custom_unit_price=paid, variant_unit_price=price,
                              kept=SwapKept.CHEAPER, total_before=edit.total)
        _, staged = await self._set_quantity(edit.id, line.id, 0, False, priority)
        bag = line.original_unit_price_set
        currency = bag.shop_money.currency_code if bag is not None else "USD"
        discount = Decimal("0")
        if paid is not None and price is not None and price > paid:
            discount = (price - paid).quantize(_CENT, rounding=ROUND_HALF_UP)
            described = f"{discount_description}: {money(paid)} a unit (variant {money(price)})"
            discounted, staged = await self._stage(ops.ORDER_EDIT_ADD_LINE_ITEM_DISCOUNT, {
                "id": edit.id, "lineItemId": added.id,
                "discount": {"description": described,
                             "fixedValue": {"amount": money(discount), "currencyCode": currency}},
            }, priority)
            # Check the staged unit price before committing (the edit is dropped otherwise).
            unit = discounted.discounted_unit_price_set
            if unit is not None and unit.shop_money.amount != price - discount:
                raise Rejected(
                    f"the staged discount left {unit.shop_money.amount} a unit, not {price - discount}: "
                    "edit not committed", api=API_NAME, operation=ops.ORDER_EDIT_ADD_LINE_ITEM_DISCOUNT.name,
                )
        if channel_tax > 0:
            _, staged = await self.order_edit_add_custom_item(
                edit.id, title=channel_tax_title, unit_price=channel_tax, currency=currency,
                taxable=False, requires_shipping=False, priority=priority,
            )
        if edit.total is not None and staged is not None and staged != edit.total:
            return SwapResult(committed=False, custom_unit_price=paid, variant_unit_price=price,
                              discount_per_unit=discount, channel_tax=channel_tax,
                              kept=SwapKept.TOTAL_CHANGED, total_before=edit.total, total_staged=staged)
        commit = await self.commit_order_edit(edit.id, staff_note=staff_note, priority=priority, order_ref=order_id)
        return SwapResult(committed=True, custom_unit_price=paid, variant_unit_price=price,
                          discount_per_unit=discount, channel_tax=channel_tax, total_before=edit.total,
                          total_staged=staged, commit=commit)


def _calculated_line(edit: CalculatedOrder, line_item_id: str, order_id: str) -> CalculatedLineItem:
    # A calculated line item's id carries the same number as the order line it stands for
    # (gid://shopify/CalculatedLineItem/N for gid://shopify/LineItem/N).
    wanted = gid_tail(line_item_id)
    for line in edit.line_items:
        if line.id == line_item_id or gid_tail(line.id) == wanted:
            return line
    raise NotFound(f"line {line_item_id} not found in the edit of order {order_id}", api=API_NAME,
                   operation=ops.ORDER_EDIT_BEGIN.name)
