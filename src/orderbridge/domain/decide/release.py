"""Holds, the release rule, SKU linking and what follows the release (lifecycle.md).

Our hold goes on every open fulfilment order (ones that appear later too) until the release
rule allows: then the address, the payment and the release, in that order. A hold released
by a person is respected and reported, never fought.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from orderbridge.domain.actions import (
    AddTags,
    ApproveReturn,
    HoldReason,
    PlaceHold,
    RecordNote,
    RecordPayment,
    RefundShopify,
    ReleaseHold,
    RestoreTax,
    SwapCustomLine,
    UpdateShopifyAddress,
)
from orderbridge.domain.address import Destination, destination_kind, to_shipping_address
from orderbridge.domain.decide.common import Ctx, fingerprint, order_lines
from orderbridge.domain.decide.totals import total_holds
from orderbridge.domain.exceptions import ExceptionCode, IssueAction
from orderbridge.domain.link import LinkState
from orderbridge.domain.observed import (
    ShopifyFulfillmentOrder,
    ShopifyLineItem,
    ShopifyOrderView,
    SkuResolution,
    SkuState,
)
from orderbridge.domain.order import (
    OrderKind,
    TikTokStatus,
    UnitGroup,
    classify,
    group_units,
    is_at_least,
    is_masked,
)
from orderbridge.domain.returns import LineUnits, Restock, auto_approvable, plan_refund

__all__ = ["address_problem", "after_shipping", "holds_and_release", "raise_sku_issues"]

_PAID_STATUSES = frozenset({"PAID", "PARTIALLY_REFUNDED", "REFUNDED"})
_HOLD_NOTES = "Awaiting TikTok payment and cancellation window (OrderBridge)."
_NO_TRACKING_NOTE = "shipping-no-tracking"
_CENT = Decimal("0.01")


def _flag_sku(ctx: Ctx, group: UnitGroup, resolution: SkuResolution | None) -> None:
    data = {"sku_id": group.sku_id, "seller_sku": group.seller_sku, "title": group.title}
    if resolution is not None and resolution.state is SkuState.AMBIGUOUS:
        ctx.flag(
            ExceptionCode.AMBIGUOUS_SKU,
            f"Several Shopify variants have the SKU {group.seller_sku!r} ({group.title}); "
            "link the right one.",
            {**data, "candidates": ",".join(resolution.candidates)},
            (IssueAction.LINK_SKU,),
        )
        return
    ctx.flag(
        ExceptionCode.UNMAPPED_SKU,
        f"The TikTok SKU {group.seller_sku or group.sku_id!r} ({group.title}) is linked to no "
        "Shopify variant; the order stays on hold until it is.",
        data,
        (IssueAction.LINK_SKU,),
    )


def _mapped(resolution: SkuResolution | None) -> bool:
    return (
        resolution is not None
        and resolution.state is SkuState.MAPPED
        and resolution.variant_id is not None
    )


def raise_sku_issues(ctx: Ctx) -> None:
    """Before creation: flag every unit group whose SKU resolves to no single variant."""
    for group in group_units(ctx.order.line_items):
        resolution = ctx.observed.skus.get(group.sku_id)
        if not _mapped(resolution):
            _flag_sku(ctx, group, resolution)


def _skus(ctx: Ctx, view: ShopifyOrderView) -> bool:
    """Swap custom lines whose SKU is now linked; True while any line is still custom."""
    blocked = False
    for group, line in order_lines(ctx, view):
        if line.variant_id is not None or line.current_quantity <= 0:
            continue
        resolution = ctx.observed.skus.get(group.sku_id)
        if line.id in ctx.memory.custom_lines_kept and _mapped(resolution):
            _flag_kept(ctx, group)
            continue
        blocked = True
        if resolution is not None and _mapped(resolution) and resolution.variant_id:
            ctx.act(
                SwapCustomLine(
                    shopify_order_id=view.id,
                    custom_line_item_id=line.id,
                    variant_id=resolution.variant_id,
                    quantity=line.current_quantity,
                    tiktok_sku_id=group.sku_id,
                    channel_tax=_channel_tax(ctx, group, line),
                )
            )
            ctx.due(ctx.now + ctx.policy.retry_soon)
        else:
            _flag_sku(ctx, group, resolution)
    return blocked


def _channel_tax(ctx: Ctx, group: UnitGroup, line: ShopifyLineItem) -> Decimal:
    """The channel-liable tax on the custom line's current units: the plan's tax for the
    group (what the line was created with), in proportion to the units still on the line, as
    Shopify counts a line whose units were removed."""
    planned = {(p.group.sku_id, p.group.unit_price): sum(
        (t.amount for t in p.tax_lines if t.channel_liable), Decimal("0")) for p in ctx.plan.lines}
    tax = planned.get((group.sku_id, group.unit_price), group.tax)
    share = tax * line.current_quantity / max(line.quantity, line.current_quantity, 1)
    return share.quantize(_CENT, rounding=ROUND_HALF_UP)


def _flag_kept(ctx: Ctx, group: UnitGroup) -> None:
    ctx.flag(
        ExceptionCode.CUSTOM_LINE_KEPT,
        f"The TikTok SKU {group.seller_sku or group.sku_id!r} ({group.title}) is linked, but "
        "swapping its custom line for the variant would change the Shopify total (the variant "
        "costs less than the buyer paid on TikTok, and an order edit cannot raise a variant's "
        "price; or Shopify would charge its own tax on it): the custom line stays so the "
        "Shopify total keeps what the buyer paid. It claims no stock: adjust the variant's "
        "inventory by hand.",
        {"sku_id": group.sku_id, "seller_sku": group.seller_sku, "title": group.title},
    )


def holds_and_release(ctx: Ctx, view: ShopifyOrderView) -> None:
    """Keep our hold on every fulfilment order until the release rule allows, then release."""
    if ctx.memory.state not in (LinkState.CREATED_HELD, LinkState.RELEASED):
        return
    blocked = _skus(ctx, view)
    if ctx.memory.state is LinkState.RELEASED:
        _after_release(ctx, view)
        return
    handle = ctx.policy.hold_handle
    open_fos = [fo for fo in view.fulfillment_orders if fo.is_open]
    held_now = [fo for fo in open_fos if fo.holds_with(handle)]
    held = ctx.memory.held_fulfillment_order_ids
    held += tuple(fo.id for fo in held_now if fo.id not in held)
    ctx.update(held_fulfillment_order_ids=held)
    released = ctx.memory.released_fulfillment_order_ids
    holding = {fo.id for fo in held_now}
    if any(fo.id in held and fo.id not in released and fo.id not in holding for fo in open_fos):
        if not ctx.memory.hold_released_by_hand:
            ctx.note("Our hold was released by hand: respected, not placed again.")
        ctx.update(hold_released_by_hand=True)
    if ctx.memory.hold_released_by_hand:
        ctx.flag(
            ExceptionCode.HOLD_RELEASED_BY_HAND,
            "Someone released the OrderBridge hold before the TikTok cancellation window "
            "ended; the order may be shipped before TikTok allows it.",
        )
    due = ctx.release_due()
    if due is not None and ctx.now < due:
        ctx.due(due)
    releasing = due is not None and ctx.now >= due and not blocked
    if releasing and _release(ctx, view, held_now):
        return
    # Not released in this pass (not yet due, a SKU unlinked, or no address it may ship to):
    # the hold protects the order whatever exception stands, so it is placed regardless.
    if not ctx.memory.hold_released_by_hand:
        _place_holds(ctx, view, open_fos)


def _place_holds(ctx: Ctx, view: ShopifyOrderView, open_fos: list[ShopifyFulfillmentOrder]) -> None:
    handle = ctx.policy.hold_handle
    if not view.fulfillment_orders:
        # Shopify builds fulfilment orders after the order: never "nothing to hold".
        ctx.note("Shopify has no fulfilment orders yet; the hold is pending.")
        ctx.due(ctx.now + ctx.policy.retry_soon)
        return
    missing = tuple(
        fo.id for fo in open_fos if fo.status.upper() != "IN_PROGRESS" and not fo.holds_with(handle)
    )
    if missing:
        unpaid = ctx.order.status is TikTokStatus.UNPAID
        ctx.act(
            PlaceHold(
                fulfillment_order_ids=missing,
                handle=handle,
                reason=HoldReason.AWAITING_PAYMENT if unpaid else HoldReason.OTHER,
                notes=_HOLD_NOTES,
            )
        )
        # No quick look-again timer: once the hold succeeds memory knows every fulfilment
        # order is held, and the next news comes from the release rule's due time, the
        # periodic re-check or a fulfilment-order webhook (a late one gets its hold then).


def _release(ctx: Ctx, view: ShopifyOrderView, held_now: list[ShopifyFulfillmentOrder]) -> bool:
    """At release, in order: the address, the payment, then our holds by id.

    False when there is no address the order may ship to: nothing is released then.
    """
    if not _write_address(ctx, view):
        return False
    # Shopify recalculates the order's taxes when the address changes: the payment is only
    # recorded at the outstanding amount decided here (the executor checks the address
    # write left it so), and a pass after a change compares the totals first.
    if ctx.memory.payment_recorded or total_holds(ctx, view):
        ensure_payment(ctx, view)
    elif any(isinstance(a, RestoreTax) for a in ctx.actions):
        return True  # the tax Shopify dropped is added back first, then paid and released
    # else TOTALS_MISMATCH is raised: the order still goes ahead, unpaid (lifecycle.md); the
    # payment follows once the totals agree (``_after_release``).
    if ctx.memory.hold_released_by_hand or not held_now:
        pending = any(isinstance(a, UpdateShopifyAddress | RecordPayment) for a in ctx.actions)
        if not pending:
            ctx.update(state=LinkState.RELEASED, released_at=ctx.now)
            ctx.note("Released: the merchant's fulfilment takes over.")
        return True
    for fo in held_now:
        holds = tuple(h.id for h in fo.holds_with(ctx.policy.hold_handle))
        ctx.act(ReleaseHold(fulfillment_order_id=fo.id, hold_ids=holds))
    ctx.due(ctx.now + ctx.policy.retry_soon)
    return True


def _write_address(ctx: Ctx, view: ShopifyOrderView) -> bool:
    address, warnings = to_shipping_address(ctx.order.recipient)
    if address is None:
        address_problem(ctx)
        return False
    if ctx.memory.masked_since is not None:
        ctx.update(masked_since=None)
    for warning in warnings:
        ctx.flag(ExceptionCode.INVALID_PHONE, warning)
    stamp = fingerprint(address)
    if ctx.memory.address_fingerprint != stamp:
        # Refused recently: wait for its retry. Releasing without it would leave the
        # merchant an order with no address that nothing writes later (released orders
        # only follow address *changes*).
        return ctx.act(
            UpdateShopifyAddress(shopify_order_id=view.id, address=address, fingerprint=stamp)
        )
    return True


def address_problem(ctx: Ctx) -> None:
    """Why there is no address to write: masked (retried, then raised), abroad, or invalid."""
    r = ctx.order.recipient
    if (
        r is None
        or r.masked
        or any(is_masked(t) for t in (r.name, r.address_line1, r.city, r.postal_code))
    ):
        since = ctx.memory.masked_since or ctx.now
        ctx.update(masked_since=since)
        if ctx.now >= since + ctx.policy.masked_retry_period:
            ctx.flag(
                ExceptionCode.MASKED_RECIPIENT,
                "TikTok still masks the recipient of this seller-shipped order. Cancel it in "
                "TikTok or ship it with TikTok Shipping, and set the shop's default to seller "
                "shipping.",
                {"masked_since": since.isoformat()},
                (IssueAction.RETRY, IssueAction.CANCEL_ON_TIKTOK, IssueAction.DISMISS),
            )
        ctx.due(min(ctx.now + ctx.policy.masked_recheck, since + ctx.policy.masked_retry_period))
        return
    lines = (r.address_line1, r.address_line2, r.address_line3, r.address_line4, r.city)
    kind = destination_kind(r.region_code, r.state, lines, r.postal_code)
    if kind not in (Destination.DOMESTIC, Destination.UNKNOWN):
        ctx.flag(
            ExceptionCode.UNSUPPORTED_DESTINATION,
            f"The order ships to a {kind.value} address; TikTok Shop US ships to the 50 "
            "states and DC only. Cancel it on TikTok.",
            {"destination": kind.value, "state": r.state, "postal_code": r.postal_code},
            (IssueAction.CANCEL_ON_TIKTOK, IssueAction.DISMISS),
        )
        return
    _, reasons = to_shipping_address(r)
    ctx.flag(
        ExceptionCode.INVALID_ADDRESS,
        " ".join(reasons),
        {"state": r.state},
        (IssueAction.RETRY, IssueAction.DISMISS),
    )


def ensure_payment(ctx: Ctx, view: ShopifyOrderView) -> None:
    """Record the manual "TikTok Shop" payment unless it is done or the order is $0."""
    if ctx.memory.payment_recorded or ctx.plan.is_zero:
        return
    if view.financial_status.upper() in _PAID_STATUSES or view.total_outstanding <= 0:
        ctx.update(payment_recorded=True)
        return
    ctx.act(
        RecordPayment(
            shopify_order_id=view.id, amount=view.total_outstanding, currency=ctx.plan.currency
        )
    )


def _after_release(ctx: Ctx, view: ShopifyOrderView) -> None:
    """Payment left over (create_at=released) and an address changed on TikTok."""
    # Unshipped, the totals are compared first (the tax added back, or TOTALS_MISMATCH and
    # no payment); an address change is still written either way.
    if view.shipped or total_holds(ctx, view):
        ensure_payment(ctx, view)
    address, _ = to_shipping_address(ctx.order.recipient)
    if address is None or not ctx.memory.address_fingerprint:
        return
    stamp = fingerprint(address)
    if stamp == ctx.memory.address_fingerprint:
        return
    if view.shipped:
        ctx.flag(
            ExceptionCode.ADDRESS_CHANGED_AFTER_SHIP,
            "The buyer changed the address on TikTok after the order shipped; contact the "
            "carrier to redirect the parcel.",
            {"address": f"{address.address1}, {address.city} {address.province_code}"},
        )
        return
    ctx.act(UpdateShopifyAddress(shopify_order_id=view.id, address=address, fingerprint=stamp))


def mirror_refunds(ctx: Ctx, view: ShopifyOrderView) -> None:
    """A Shopify refund for each TikTok return whose money moved (``domain/returns.py``)."""
    fulfilled: dict[str, int] = {}
    for shipment in view.shipped:
        for part in shipment.line_items:
            fulfilled[part.line_item_id] = fulfilled.get(part.line_item_id, 0) + part.quantity
    # A fulfilment read without its lines counts as every unit shipped: never restock blind.
    blind = any(not shipment.line_items for shipment in view.shipped)
    units = [
        LineUnits(line.id, group.line_ids,
                  0 if blind else max(line.current_quantity - fulfilled.get(line.id, 0), 0))
        for group, line in order_lines(ctx, view)
    ]
    fbt = classify(ctx.order) is OrderKind.FBT
    for record in ctx.observed.returns:
        if (auto_approvable(record, ctx.policy.auto_approve_refunds_under)
                and record.return_id not in ctx.memory.returns_approved):
            ctx.act(ApproveReturn(return_id=record.return_id, decision="APPROVE_REFUND",
                                  idempotency_key=f"{record.return_id}-auto-approve-refund"))
        if not record.refunded or record.return_id in ctx.memory.refunds_done:
            continue
        plan = plan_refund(record, units, fbt=fbt)
        ctx.act(
            RefundShopify(
                shopify_order_id=view.id,
                return_id=record.return_id,
                line_items=tuple((line.shopify_line_id, line.quantity) for line in plan.lines),
                restock_types=tuple(line.restock.value for line in plan.lines),
                shipping=plan.shipping,
                restock=any(line.restock is not Restock.NO_RESTOCK for line in plan.lines),
                idempotency_key=plan.idempotency_key,
                amount=plan.amount,
            )
        )


def after_shipping(ctx: Ctx, view: ShopifyOrderView) -> None:
    """Completed TikTok refunds, status tags and the 3PL "no tracking yet" note."""
    mirror_refunds(ctx, view)
    status = ctx.order.status
    if ctx.policy.status_tags and is_at_least(status, TikTokStatus.AWAITING_COLLECTION):
        tag = "tiktok-" + status.value.lower().replace("_", "-")
        if tag not in view.tags:
            ctx.act(AddTags(shopify_order_id=view.id, tags=(tag,)))
    threepl = ctx.observed.threepl
    if (
        threepl is not None
        and threepl.shipped_without_tracking
        and classify(ctx.order) is OrderKind.SELLER_SHIPPED
        and _NO_TRACKING_NOTE not in ctx.memory.notes_written
    ):
        ctx.act(
            RecordNote(
                shopify_order_id=view.id,
                note_id=_NO_TRACKING_NOTE,
                text="Shipping, no tracking yet.",
            )
        )
