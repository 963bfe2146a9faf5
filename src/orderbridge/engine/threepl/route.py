"""The 3PL actions: ``CreateThreePLOrder`` (policy ``route_to``: the 3PL order made from
the TikTok order) and ``FindThreePLOrder`` (the fallback search, ``domain/decide/threepl_search``).

A search tries each reference (Amazon ``getFulfillmentOrder``, a refusal of an id Amazon
cannot take counting as not found; ShipBob ``GET /order?ReferenceIds=``), then at Amazon the
orders listed since the TikTok order was placed (``listAllFulfillmentOrders`` by
``queryStartDate``, matching the seller or displayable id). What it finds is stored as a
poll's find (``store``), so the order's next decision sees it.

A create is looked at first: the 3PL's order under the reference (Amazon ``getFulfillmentOrder`` by the
seller fulfilment order id; ShipBob ``GET /order?ReferenceIds=``). Found: SUCCESS, nothing
sent. Else created; a create whose answer is lost is found by the next decision's lookup
(Amazon and ShipBob both refuse a second order with the same reference anyway).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING

from orderbridge.adapters.amazon_mcf import (
    AmazonMcfClient,
    CreateItem,
    CreateOrder,
    DestinationAddress,
    ShippingSpeed,
)
from orderbridge.adapters.amazon_mcf.translate import to_threepl_view as mcf_view
from orderbridge.adapters.shipbob import (
    NewOrder,
    NewProduct,
    Recipient,
    RecipientAddress,
    ShipBobClient,
)
from orderbridge.adapters.shipbob.translate import to_threepl_view as shipbob_view
from orderbridge.domain.actions import CreateThreePLOrder, FindThreePLOrder
from orderbridge.domain.observed import ThreePLView
from orderbridge.domain.outcome import Outcome
from orderbridge.domain.policy import ThreePL
from orderbridge.engine.executor.tiktok import Refused, succeed
from orderbridge.errors import Rejected

if TYPE_CHECKING:
    from orderbridge.engine.executor.core import ExecutionContext

__all__ = ["ORDER_COMMENT", "Store", "ThreePLRouter"]

# Amazon prints the comment on the packing slip (required, up to 750 characters).
ORDER_COMMENT = "Thank you for your order."


def _name(action: CreateThreePLOrder) -> str:
    return " ".join(p for p in (action.address.first_name, action.address.last_name) if p) or "Customer"


# What a found 3PL order is handed to: (view, alternative reference) -> stored, links due.
Store = Callable[[ThreePLView, str | None], Awaitable[None]]


async def _nowhere(_view: ThreePLView, _alt: str | None) -> None:
    return None


class ThreePLRouter:
    """Runs the 3PL actions of one connection with the process's 3PL clients (``None``: not
    configured); ``store`` keeps what a search finds."""

    def __init__(self, amazon: AmazonMcfClient | None, shipbob: ShipBobClient | None,
                 store: Store = _nowhere) -> None:
        self.amazon = amazon
        self.shipbob = shipbob
        self.store = store

    async def find(self, action: FindThreePLOrder, ctx: ExecutionContext) -> Outcome:
        """Search (see the module docstring); SUCCESS whether found or not (the message says)."""
        refs = tuple(r for r in action.references if r)
        if action.threepl == ThreePL.AMAZON_MCF.value:
            found = await self._find_amazon(refs, action.since)
        elif action.threepl == ThreePL.SHIPBOB.value:
            found = await self._find_shipbob(refs)
        else:
            raise Refused(f"unknown 3PL {action.threepl!r}")
        if found is None:
            return succeed(ctx, message=f"no {action.threepl} order under {', '.join(refs)}")
        view, alt = found
        await self.store(view, alt)
        return succeed(ctx, message=f"found {action.threepl} order {view.order_id} under {view.reference}",
                       threepl_order_id=view.order_id)

    async def _find_amazon(self, refs: tuple[str, ...], since: datetime) -> tuple[ThreePLView, str | None] | None:
        if self.amazon is None:
            raise Refused("no Amazon MCF account is configured (ORDERBRIDGE_AMAZON_MCF_*)")
        for ref in refs:
            try:
                detail = await self.amazon.find_order(ref)
            except Rejected:  # an id Amazon cannot take (e.g. with '#'): not this one
                continue
            if detail is not None:
                return mcf_view(detail), detail.fulfillment_order.displayable_order_id
        async for summary in self.amazon.iter_updated_since(since):
            if summary.seller_fulfillment_order_id in refs or summary.displayable_order_id in refs:
                detail = await self.amazon.get_order(summary.seller_fulfillment_order_id)
                return mcf_view(detail), summary.displayable_order_id
        return None

    async def _find_shipbob(self, refs: tuple[str, ...]) -> tuple[ThreePLView, str | None] | None:
        if self.shipbob is None:
            raise Refused("no ShipBob account is configured (ORDERBRIDGE_SHIPBOB_TOKEN)")
        for ref in refs:
            order = await self.shipbob.find_by_reference(ref)
            if order is not None:
                return shipbob_view(order), order.order_number
        return None

    async def create(self, action: CreateThreePLOrder, ctx: ExecutionContext) -> Outcome:
        if action.threepl == ThreePL.AMAZON_MCF.value:
            return await self._amazon(action, ctx)
        if action.threepl == ThreePL.SHIPBOB.value:
            return await self._shipbob(action, ctx)
        raise Refused(f"unknown 3PL {action.threepl!r}")

    async def _amazon(self, action: CreateThreePLOrder, ctx: ExecutionContext) -> Outcome:
        if self.amazon is None:
            raise Refused("route_to is amazon_mcf but no Amazon MCF account is configured "
                          "(ORDERBRIDGE_AMAZON_MCF_CLIENT_ID, _CLIENT_SECRET, _REFRESH_TOKEN)")
        ref = action.reference
        if await self.amazon.find_order(ref) is not None:
            return succeed(ctx, message=f"Amazon MCF already has {ref}", threepl_order_id=ref)
        a = action.address
        await self.amazon.create_order(CreateOrder(
            seller_fulfillment_order_id=ref, displayable_order_id=ref,
            displayable_order_date=action.order_date or ctx.now(),
            displayable_order_comment=ORDER_COMMENT,
            shipping_speed_category=ShippingSpeed(action.speed),
            destination_address=DestinationAddress(
                name=_name(action), address_line1=a.address1, address_line2=a.address2 or None,
                city=a.city, state_or_region=a.province_code, postal_code=a.zip,
                country_code=a.country_code, phone=a.phone),
            items=[CreateItem(seller_sku=sku, seller_fulfillment_order_item_id=f"{ref}-{i}", quantity=units)
                   for i, (sku, units) in enumerate(action.items, start=1)],
        ))
        return succeed(ctx, threepl_order_id=ref)

    async def _shipbob(self, action: CreateThreePLOrder, ctx: ExecutionContext) -> Outcome:
        if self.shipbob is None:
            raise Refused("route_to is shipbob but no ShipBob account is configured (ORDERBRIDGE_SHIPBOB_TOKEN)")
        ref = action.reference
        found = await self.shipbob.find_by_reference(ref)
        if found is not None:
            return succeed(ctx, message=f"ShipBob already has {ref}", threepl_order_id=str(found.id))
        a = action.address
        created = await self.shipbob.create_order(NewOrder(
            reference_id=ref, order_number=ref, shipping_method=action.speed,
            recipient=Recipient(name=_name(action), phone_number=a.phone, address=RecipientAddress(
                address1=a.address1, address2=a.address2 or None, city=a.city, state=a.province_code,
                country=a.country_code, zip_code=a.zip)),
            products=[NewProduct(reference_id=sku, sku=sku, quantity=units) for sku, units in action.items],
            purchase_date=action.order_date,
        ))
        return succeed(ctx, threepl_order_id=str(created.id))
