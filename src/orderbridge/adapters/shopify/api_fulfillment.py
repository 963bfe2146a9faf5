"""Holds, fulfilments and order edits of the Shopify client."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from orderbridge.adapters.shopify import ops_fulfillment as ops
from orderbridge.adapters.shopify.builders import FulfillmentLinesSpec, TrackingSpec, money
from orderbridge.adapters.shopify.models import (
    FulfillmentHoldReason,
    FulfillmentOrderRef,
    FulfillmentResult,
    HoldResult,
)
from orderbridge.adapters.shopify.models_edits import (
    CalculatedLineItem,
    CalculatedOrder,
    EditCommitResult,
)
from orderbridge.adapters.shopify.throttle import Priority
from orderbridge.adapters.shopify.transport import API_NAME, ShopifyTransport
from orderbridge.errors import NotFound, Rejected

__all__ = ["HOLD_HANDLE_MAX_LENGTH", "FulfillmentApi", "SwapResult", "gid_tail", "tracking_input"]

HOLD_HANDLE_MAX_LENGTH = 64  # Shopify's limit on a hold handle


@dataclass(frozen=True, slots=True, kw_only=True)
class SwapResult:
    """What ``swap_custom_line_for_variant`` did.

    ``committed`` is false when the variant is cheaper than the custom line: a variant line's
    price cannot be raised in an order edit, so the edit is left uncommitted (Shopify drops
    it) and the custom line keeps the price the buyer paid. ``discount_per_unit`` is the
    fixed discount put on each added unit when the variant costs more.
    """

    committed: bool
    custom_unit_price: Decimal | None  # what the buyer paid a unit (less the allocated discount)
    variant_unit_price: Decimal | None
    discount_per_unit: Decimal = Decimal("0")
    commit: EditCommitResult | None = None


def gid_tail(gid: str) -> str:
    """The numeric part of a global id (``gid://shopify/LineItem/12`` -> ``12``)."""
    return gid.rsplit("/", 1)[-1].split("?", 1)[0]


def tracking_input(tracking: TrackingSpec) -> dict[str, Any]:
    """A ``FulfillmentTrackingInput``: ``number``/``url`` for one, ``numbers``/``urls`` for more.

    Shopify refuses ``number`` with ``numbers`` (and ``url`` with ``urls``), and a URL
    without a number.
    """
    out: dict[str, Any] = {}
    if tracking.company:
        out["company"] = tracking.company
    numbers, urls = list(tracking.numbers), list(tracking.urls)
    if urls and not numbers:
        raise ValueError("a tracking URL needs a tracking number")
    if len(numbers) == 1 and len(urls) <= 1:
        out["number"] = numbers[0]
        if urls:
            out["url"] = urls[0]
    elif numbers:
        out["numbers"] = numbers
        if urls:
            out["urls"] = urls
    return out


def _payload(result_payload: Any, key: str, operation: str) -> dict[str, Any]:
    value = result_payload.get(key) if isinstance(result_payload, dict) else None
    if not isinstance(value, dict):
        raise Rejected(f"{operation}: response has no {key}", api=API_NAME, operation=operation)
    return value


class FulfillmentApi(ShopifyTransport):
    """Fulfilment holds, cancellation requests, fulfilments and order edits."""

    async def hold_fulfillment_order(
        self,
        fulfillment_order_id: str,
        *,
        handle: str,
        reason: FulfillmentHoldReason | str,
        reason_notes: str | None = None,
        notify_merchant: bool = False,
        external_id: str | None = None,
        priority: int = Priority.CREATE_HOLD,
    ) -> HoldResult:
        """``fulfillmentOrderHold`` with our ``handle``.

        A hold with that handle already there comes back as ``UserErrors`` with
        ``already_done`` true.
        """
        if not handle or len(handle) > HOLD_HANDLE_MAX_LENGTH:
            raise ValueError(f"a hold handle must be 1-{HOLD_HANDLE_MAX_LENGTH} characters")
        hold: dict[str, Any] = {"reason": str(reason), "handle": handle, "notifyMerchant": notify_merchant}
        if reason_notes:
            hold["reasonNotes"] = reason_notes
        if external_id:
            hold["externalId"] = external_id
        result = await self.execute(
            ops.FULFILLMENT_ORDER_HOLD, {"id": fulfillment_order_id, "fulfillmentHold": hold}, priority=priority
        )
        return HoldResult.from_raw(result.payload if isinstance(result.payload, dict) else {})

    async def release_fulfillment_holds(
        self,
        fulfillment_order_id: str,
        hold_ids: Sequence[str],
        *,
        external_id: str | None = None,
        priority: int = Priority.RELEASE,
    ) -> FulfillmentOrderRef:
        """``fulfillmentOrderReleaseHold`` for *our* hold ids only.

        Shopify releases every hold (other apps' too) when ``holdIds`` is omitted, so an
        empty list is refused here.
        """
        if not hold_ids:
            raise ValueError("refusing to release holds without hold ids (that would release all holds)")
        variables: dict[str, Any] = {"id": fulfillment_order_id, "holdIds": list(hold_ids)}
        if external_id:
            variables["externalId"] = external_id
        result = await self.execute(ops.FULFILLMENT_ORDER_RELEASE_HOLD, variables, priority=priority)
        op = ops.FULFILLMENT_ORDER_RELEASE_HOLD.name
        return FulfillmentOrderRef.from_raw(_payload(result.payload, "fulfillmentOrder", op))

    async def submit_cancellation_request(
        self, fulfillment_order_id: str, *, message: str | None = None, priority: int = Priority.CANCEL
    ) -> FulfillmentOrderRef:
        """Ask the fulfilment service (a 3PL app) holding a fulfilment order to cancel it."""
        variables: dict[str, Any] = {"id": fulfillment_order_id}
        if message:
            variables["message"] = message
        result = await self.execute(ops.FULFILLMENT_ORDER_SUBMIT_CANCELLATION_REQUEST, variables, priority=priority)
        op = ops.FULFILLMENT_ORDER_SUBMIT_CANCELLATION_REQUEST.name
        return FulfillmentOrderRef.from_raw(_payload(result.payload, "fulfillmentOrder", op))

    async def create_fulfillment(
        self,
        lines: Sequence[FulfillmentLinesSpec],
        *,
        tracking: TrackingSpec | None = None,
        notify_customer: bool = False,
        message: str | None = None,
        priority: int = Priority.TRACKING,
        order_ref: str | None = None,
    ) -> FulfillmentResult:
        """``fulfillmentCreate``. Not retried after an unknown outcome (``RemoteTimeout``)."""
        if not lines:
            raise ValueError("a fulfilment needs at least one fulfilment order")
        fulfillment: dict[str, Any] = {
            "lineItemsByFulfillmentOrder": [
                {
                    "fulfillmentOrderId": spec.fulfillment_order_id,
                    **(
                        {"fulfillmentOrderLineItems": [{"id": i, "quantity": q} for i, q in spec.lines]}
                        if spec.lines
                        else {}
                    ),
                }
                for spec in lines
            ],
            "notifyCustomer": notify_customer,
        }
        if tracking is not None:
            fulfillment["trackingInfo"] = tracking_input(tracking)
        variables: dict[str, Any] = {"fulfillment": fulfillment}
        if message:
            variables["message"] = message
        result = await self.execute(ops.FULFILLMENT_CREATE, variables, priority=priority, order_ref=order_ref)
        return FulfillmentResult.from_raw(_payload(result.payload, "fulfillment", ops.FULFILLMENT_CREATE.name))

    # -- order edits ----------------------------------------------------------------

    async def begin_order_edit(
        self,
        order_id: str,
        *,
        line_items_first: int = ops.DEFAULT_EDIT_LINE_ITEMS_FIRST,
        priority: int = Priority.CANCEL,
    ) -> CalculatedOrder:
        """``orderEditBegin``: the calculated order to stage changes on."""
        result = await self.execute(
            ops.ORDER_EDIT_BEGIN, {"id": order_id, "lineItemsFirst": line_items_first},
            priority=priority, order_ref=order_id,
        )
        return CalculatedOrder.from_raw(_payload(result.payload, "calculatedOrder", ops.ORDER_EDIT_BEGIN.name))

    async def order_edit_set_quantity(
        self, calculated_order_id: str, line_item_id: str, quantity: int, *, restock: bool = True,
        priority: int = Priority.CANCEL,
    ) -> CalculatedLineItem:
        """``orderEditSetQuantity`` (0 removes the line) on a staged edit."""
        if quantity < 0:
            raise ValueError("quantity cannot be negative")
        variables = {"id": calculated_order_id, "lineItemId": line_item_id, "quantity": quantity, "restock": restock}
        result = await self.execute(ops.ORDER_EDIT_SET_QUANTITY, variables, priority=priority)
        line = _payload(result.payload, "calculatedLineItem", ops.ORDER_EDIT_SET_QUANTITY.name)
        return CalculatedLineItem.model_validate(line)

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
        result = await self.execute(ops.ORDER_EDIT_ADD_VARIANT, variables, priority=priority)
        line = _payload(result.payload, "calculatedLineItem", ops.ORDER_EDIT_ADD_VARIANT.name)
        return CalculatedLineItem.model_validate(line)

    async def commit_order_edit(
        self, calculated_order_id: str, *, notify_customer: bool = False, staff_note: str | None = None,
        priority: int = Priority.CANCEL, order_ref: str | None = None,
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
        staff_note: str | None = None, priority: int = Priority.CANCEL,
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
        result = await self.execute(ops.ORDER_EDIT_ADD_LINE_ITEM_DISCOUNT, variables, priority=priority)
        line = _payload(result.payload, "calculatedLineItem", ops.ORDER_EDIT_ADD_LINE_ITEM_DISCOUNT.name)
        return CalculatedLineItem.model_validate(line)

    async def swap_custom_line_for_variant(
        self, order_id: str, line_item_id: str, variant_id: str, *, quantity: int | None = None,
        location_id: str | None = None, staff_note: str | None = None, keep_unit_price: bool = True,
        discount_description: str = "Price paid on TikTok", priority: int = Priority.RELEASE,
    ) -> SwapResult:
        """Replace a custom line (unmapped SKU) by the variant it now links to, in one edit.

        ``quantity`` defaults to the custom line's current quantity. An added variant is
        priced at the variant's price (Shopify's rule) and gets no share of the order's
        discount code; with ``keep_unit_price`` the line keeps what the custom line cost the
        buyer a unit (its price less its allocated order discount): a dearer variant gets a
        fixed discount per unit in the same edit, a cheaper one is not swapped (see
        ``SwapResult``). An allocation that does not divide by the units leaves the line at
        most half a cent a unit off.
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
            return SwapResult(committed=False, custom_unit_price=paid, variant_unit_price=price)
        await self.order_edit_set_quantity(edit.id, line.id, 0, restock=False, priority=priority)
        discount = Decimal("0")
        if paid is not None and price is not None and price > paid:
            discount = (price - paid).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            bag = line.original_unit_price_set
            assert bag is not None  # paid came from it
            staged = await self.order_edit_add_line_item_discount(
                edit.id, added.id, amount_per_unit=discount, currency=bag.shop_money.currency_code,
                description=f"{discount_description}: {money(paid)} a unit (variant {money(price)})",
                priority=priority,
            )
            # Check the staged unit price before committing (the edit is dropped otherwise).
            unit = staged.discounted_unit_price_set
            if unit is not None and unit.shop_money.amount != price - discount:
                raise Rejected(
                    f"the staged discount left {unit.shop_money.amount} a unit, not {price - discount}: "
                    "edit not committed", api=API_NAME, operation=ops.ORDER_EDIT_ADD_LINE_ITEM_DISCOUNT.name,
                )
        commit = await self.commit_order_edit(edit.id, staff_note=staff_note, priority=priority, order_ref=order_id)
        return SwapResult(committed=True, custom_unit_price=paid, variant_unit_price=price,
                          discount_per_unit=discount, commit=commit)


def _calculated_line(edit: CalculatedOrder, line_item_id: str, order_id: str) -> CalculatedLineItem:
    # A calculated line item's id carries the same number as the order line it stands for
    # (gid://shopify/CalculatedLineItem/N for gid://shopify/LineItem/N).
    wanted = gid_tail(line_item_id)
    for line in edit.line_items:
        if line.id == line_item_id or gid_tail(line.id) == wanted:
            return line
    raise NotFound(f"line {line_item_id} not found in the edit of order {order_id}", api=API_NAME,
                   operation=ops.ORDER_EDIT_BEGIN.name)
