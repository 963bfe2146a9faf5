"""Small factories for decide() tests: TikTok orders, Shopify views, observed states."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from orderbridge.domain.actions import Action
from orderbridge.domain.decide.common import Decision
from orderbridge.domain.decide.core import decide
from orderbridge.domain.link import LinkMemory, LinkState
from orderbridge.domain.observed import (
    Cancellation,
    CancellationStatus,
    CancellationType,
    FulfillmentStatus,
    Observed,
    ShopifyFulfillment,
    ShopifyFulfillmentLine,
    ShopifyFulfillmentOrder,
    ShopifyHold,
    ShopifyLineItem,
    ShopifyOrderView,
    SkuResolution,
    SkuState,
)
from orderbridge.domain.order import LineItem, Payment, Recipient, TikTokOrder, TikTokStatus
from orderbridge.domain.outcome import Outcome, OutcomeStatus, apply_outcome
from orderbridge.domain.policy import Policy

T0 = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)
ORDER_ID = "576000000000000001"
SHOPIFY_ID = "gid://shopify/Order/1"
OPTION = "opt-standard"
PROVIDERS = {OPTION: (("p-usps", "USPS"), ("p-ups", "UPS"), ("p-amzn", "Amazon Shipping"))}
UPS = ["1Z999AA10100000004", "1Z999AA10100000013", "1Z999AA10100000022", "1Z999AA10100000031"]
HANDLE = "orderbridge"


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def recipient(**kw: Any) -> Recipient:
    base: dict[str, Any] = {
        "name": "Jane Doe",
        "phone": "(+1)4085550142",
        "address_line1": "1 Main St",
        "city": "San Jose",
        "state": "California",
        "postal_code": "95112",
        "region_code": "US",
    }
    base.update(kw)
    return Recipient(**base)


MASKED = Recipient(
    name="J***",
    address_line1="***",
    city="San Jose",
    state="California",
    postal_code="951**",
    region_code="US",
    masked=True,
)


def order(
    status: TikTokStatus = TikTokStatus.AWAITING_SHIPMENT,
    units: tuple[str, ...] = ("sku-a",),
    *,
    price: str = "10.00",
    **kw: Any,
) -> TikTokOrder:
    """An order with one unit per entry of ``units`` (line ids L1, L2, ...)."""
    lines = tuple(
        LineItem(
            id=f"L{i + 1}",
            sku_id=sku,
            seller_sku=sku.upper(),
            product_name=f"Product {sku}",
            original_price=Decimal(price),
            sale_price=Decimal(price),
        )
        for i, sku in enumerate(units)
    )
    total = Decimal(price) * len(units)
    base: dict[str, Any] = {
        "id": ORDER_ID,
        "status": status,
        "raw_status": status.value,
        "create_time": T0 - minutes(90),
        "paid_time": None if status is TikTokStatus.UNPAID else T0 - minutes(80),
        "shipping_type": "SELLER",
        "fulfillment_type": "FULFILLMENT_BY_SELLER",
        "delivery_option_id": OPTION,
        "delivery_option_name": "Standard Shipping",
        "buyer_email": "x@scs.chat.seller.tiktok.com",
        "payment": Payment(original_total_product_price=total, sub_total=total, total_amount=total),
        "recipient": recipient()
        if status not in (TikTokStatus.UNPAID, TikTokStatus.ON_HOLD)
        else MASKED,
        "line_items": lines,
    }
    base.update(kw)
    return TikTokOrder(**base)


def mapped(*skus: str) -> dict[str, SkuResolution]:
    return {s: SkuResolution(state=SkuState.MAPPED, variant_id=f"v-{s}") for s in skus}


def fo(
    fid: str = "fo1",
    *,
    held: bool = True,
    status: str | None = None,
    service: bool = False,
    other_holds: tuple[ShopifyHold, ...] = (),
) -> ShopifyFulfillmentOrder:
    ours = (ShopifyHold(id=f"h-{fid}", handle=HANDLE, reason="OTHER"),) if held else ()
    holds = ours + other_holds
    return ShopifyFulfillmentOrder(
        id=fid,
        status=status or ("ON_HOLD" if holds else "OPEN"),
        fulfillment_service=service,
        holds=holds,
    )


def sline(
    lid: str = "SL1",
    sku: str = "sku-a",
    qty: int = 1,
    *,
    variant: bool = True,
    current: int | None = None,
) -> ShopifyLineItem:
    return ShopifyLineItem(
        id=lid,
        sku=sku.upper(),
        variant_id=f"v-{sku}" if variant else None,
        quantity=qty,
        current_quantity=qty if current is None else current,
        tiktok_sku_id=sku,
    )


def fulfilment(
    fid: str = "F1",
    numbers: tuple[str, ...] = (UPS[0],),
    company: str = "UPS",
    lines: tuple[tuple[str, int], ...] = (("SL1", 1),),
    status: FulfillmentStatus = FulfillmentStatus.SUCCESS,
) -> ShopifyFulfillment:
    return ShopifyFulfillment(
        id=fid,
        status=status,
        created_at=T0,
        tracking_company=company,
        tracking_numbers=numbers,
        line_items=tuple(ShopifyFulfillmentLine(line_item_id=a, quantity=q) for a, q in lines),
    )


def view(**kw: Any) -> ShopifyOrderView:
    base: dict[str, Any] = {
        "id": SHOPIFY_ID,
        "line_items": (sline(),),
        "fulfillment_orders": (fo(),),
        "total_outstanding": Decimal("10.00"),
    }
    base.update(kw)
    return ShopifyOrderView(**base)


def buyer_request(cid: str = "C1", **kw: Any) -> Cancellation:
    base: dict[str, Any] = {
        "cancel_id": cid,
        "type": CancellationType.BUYER_CANCEL,
        "status": CancellationStatus.PENDING,
        "role": "BUYER",
        "reason": "buyer_changed_mind",
        "reason_text": "Changed my mind",
        "deadline": T0 + timedelta(hours=30),
    }
    base.update(kw)
    return Cancellation(**base)


def observed(
    tiktok: TikTokOrder | None = None, shopify: ShopifyOrderView | None = None, **kw: Any
) -> Observed:
    base: dict[str, Any] = {"skus": mapped("sku-a", "sku-b"), "providers": PROVIDERS}
    base.update(kw)
    return Observed(tiktok=tiktok if tiktok is not None else order(), shopify=shopify, **base)


def held_memory(**kw: Any) -> LinkMemory:
    """A link whose Shopify order exists under our hold, first seen well before T0."""
    base: dict[str, Any] = {
        "state": LinkState.CREATED_HELD,
        "shopify_order_id": SHOPIFY_ID,
        "first_seen_at": T0 - minutes(90),
        "first_seen_awaiting_at": T0 - minutes(10),
        "held_fulfillment_order_ids": ("fo1",),
    }
    base.update(kw)
    return LinkMemory(**base)


def run(
    memory: LinkMemory, obs: Observed, now: datetime = T0, policy: Policy | None = None
) -> Decision:
    return decide(memory, obs, policy or Policy(), now)


def kinds(decision: Decision) -> list[str]:
    return [a.kind.value for a in decision.actions]


def codes(decision: Decision) -> set[str]:
    return {i.code.value for i in decision.issues}


def ok(memory: LinkMemory, action: Action, at: datetime = T0, **ids: str) -> LinkMemory:
    return apply_outcome(memory, action, Outcome(status=OutcomeStatus.SUCCESS, at=at, ids=ids))


def outcome(
    memory: LinkMemory, action: Action, status: OutcomeStatus, at: datetime = T0, message: str = ""
) -> LinkMemory:
    return apply_outcome(memory, action, Outcome(status=status, at=at, message=message))


def first(decision: Decision, kind: type[Any]) -> Any:
    found = [a for a in decision.actions if isinstance(a, kind)]
    assert found, f"no {kind.__name__} in {kinds(decision)}"
    return found[0]


__all__ = ["replace"]
