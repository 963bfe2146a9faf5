"""Tracking back to TikTok: unit allocation, carrier and number checks, one push per package.

A Shopify fulfilment of k units of a line takes the first k unallocated, uncancelled TikTok
line ids of that line's group; the allocation is stored and stable across retries. Each
fulfilment with tracking is one TikTok package with exactly those ids. A fulfilment made
while TikTok is still UNPAID/ON_HOLD is allocated at once and pushed at AWAITING_SHIPMENT.
"""

from __future__ import annotations

from orderbridge.domain.actions import FetchShippingProviders, PushTracking, UpdateTracking
from orderbridge.domain.carriers import accepted_names, match_tiktok_provider, resolve_carrier
from orderbridge.domain.decide.common import Ctx, order_lines
from orderbridge.domain.decide.threepl import is_mcf_order
from orderbridge.domain.exceptions import ExceptionCode, IssueAction
from orderbridge.domain.link import PushedPackage, UnitAllocation
from orderbridge.domain.observed import FulfillmentStatus, ShopifyFulfillment, ShopifyOrderView
from orderbridge.domain.order import TikTokStatus, is_at_least
from orderbridge.domain.policy import TRACKING_CORRECTION_WINDOW
from orderbridge.domain.tracking import is_amazon_issued, validate_tracking

__all__ = ["tracking"]


def _allocate(ctx: Ctx, view: ShopifyOrderView) -> None:
    """Give every fulfilment its units (once); a cancelled, unpushed fulfilment frees them."""
    m = ctx.memory
    group_of = {line.id: group for group, line in order_lines(ctx, view)}
    cancelled = ctx.cancelled_line_ids()
    allocation = list(m.allocation)
    for f in view.fulfillments:
        if f.status is FulfillmentStatus.CANCELLED:
            if m.package_of(f.id) is not None:
                ctx.flag(
                    ExceptionCode.FULFILMENT_CANCELLED_AFTER_PUSH,
                    f"Shopify fulfilment {f.id} was cancelled after its tracking reached "
                    "TikTok; TikTok still shows the package as shipped.",
                    {"fulfillment_id": f.id},
                )
            else:
                allocation = [a for a in allocation if a.fulfillment_id != f.id]
    taken = {a.line_id for a in allocation}
    for f in view.shipped:
        if any(a.fulfillment_id == f.id for a in allocation):
            continue
        for fl in f.line_items:
            group = group_of.get(fl.line_item_id)
            if group is None:
                continue  # a line that is not a TikTok unit group (added by hand)
            free = [i for i in group.line_ids if i not in taken and i not in cancelled]
            for line_id in free[: max(fl.quantity, 0)]:
                allocation.append(UnitAllocation(line_id, fl.line_item_id, f.id))
                taken.add(line_id)
    if tuple(allocation) != m.allocation:
        ctx.update(allocation=tuple(allocation))


def tracking(ctx: Ctx, view: ShopifyOrderView) -> None:
    """Allocate units to Shopify fulfilments and push (or correct) their tracking."""
    _allocate(ctx, view)
    if not view.shipped:
        return
    if not is_at_least(ctx.order.status, TikTokStatus.AWAITING_SHIPMENT):
        ctx.note("Shopify has a fulfilment while TikTok is not ready to ship: kept, pushed later.")
        return
    for f in view.shipped:
        _push(ctx, f)


def _push(ctx: Ctx, f: ShopifyFulfillment) -> None:
    m, order = ctx.memory, ctx.order
    numbers = list(dict.fromkeys(n.strip() for n in f.tracking_numbers if n.strip()))
    pushed = m.package_of(f.id)
    data = {"fulfillment_id": f.id, "company": f.tracking_company}
    if not numbers:
        if pushed is None:
            ctx.flag(
                ExceptionCode.NO_TRACKING,
                f"Shopify fulfilment {f.id} has no tracking number; add one in Shopify.",
                data,
            )
        return
    units = sum(fl.quantity for fl in f.line_items)
    if len(numbers) > 1 and units > 1:
        ctx.flag(
            ExceptionCode.MULTI_TRACKING_SPLIT,
            f"Shopify fulfilment {f.id} has {len(numbers)} tracking numbers for {units} units; "
            "TikTok needs one package per number. Split it into one fulfilment per parcel.",
            {**data, "numbers": ",".join(numbers)},
        )
        return
    line_ids = tuple(a.line_id for a in m.allocation if a.fulfillment_id == f.id)
    if not line_ids:
        return
    providers = ctx.observed.providers.get(order.delivery_option_id)
    if providers is None:
        ctx.act(FetchShippingProviders(delivery_option_id=order.delivery_option_id))
        ctx.due(ctx.now + ctx.policy.retry_soon)
        return
    carrier = resolve_carrier(f.tracking_company)
    provider_id = None if carrier is None else match_tiktok_provider(carrier, providers)
    if carrier is None or provider_id is None:
        names = ", ".join(accepted_names(providers)) or "none"
        ctx.flag(
            ExceptionCode.UNSUPPORTED_CARRIER,
            f"The carrier {f.tracking_company!r} is not one TikTok accepts for this order's "
            f"delivery option. Accepted: {names}.",
            {**data, "accepted": names},
            (IssueAction.RETRY, IssueAction.DISMISS),
        )
        return
    check = validate_tracking(carrier, numbers[0])
    number = check.normalized or numbers[0].upper()
    anyway = not check.valid and number in m.push_anyway
    if not check.valid and not anyway:
        ctx.flag(
            ExceptionCode.INVALID_TRACKING,
            f"{number} is {check.reason}. Correct it in Shopify, or push it anyway (counted "
            "against TikTok's valid-tracking rate).",
            {**data, "tracking_number": number, "reason": check.reason},
            (IssueAction.PUSH_ANYWAY, IssueAction.DISMISS),
        )
        return
    if is_mcf_order(ctx) and not is_amazon_issued(number, carrier):
        ctx.flag(
            ExceptionCode.NON_MCF_TRACKING,
            f"{number} is not Amazon-issued, and warehouse {order.warehouse_id} is fulfilled by "
            "Amazon MCF: TikTok deactivates such warehouses after repeated non-MCF numbers.",
            {**data, "tracking_number": number, "warehouse_id": order.warehouse_id},
        )
        return
    if pushed is not None:
        _correct(ctx, f, pushed, number, provider_id)
        return
    if any(p.tracking_number == number for p in m.packages) or any(
        isinstance(a, PushTracking) and a.tracking_number == number for a in ctx.actions
    ):
        ctx.flag(
            ExceptionCode.DUPLICATE_TRACKING,
            f"{number} is already on another package of this order; give each parcel its own "
            "fulfilment and number.",
            {**data, "tracking_number": number},
        )
        return
    items = {item.id: item for item in order.line_items}
    if all(i in items and items[i].tracking_number.strip().upper() == number for i in line_ids):
        # TikTok already has it (a push whose answer was lost): record it, send nothing.
        package = PushedPackage(
            f.id, number, provider_id, line_ids, ctx.now, items[line_ids[0]].package_id
        )
        ctx.update(packages=(*m.packages, package))
        return
    ctx.act(
        PushTracking(
            tiktok_order_id=order.id,
            tracking_number=number,
            provider_id=provider_id,
            line_ids=line_ids,
            source_fulfillment_id=f.id,
            push_anyway=anyway,
        )
    )


def _correct(
    ctx: Ctx, f: ShopifyFulfillment, pushed: PushedPackage, number: str, provider_id: str
) -> None:
    """A tracking change after the push: TikTok's one correction within 72 h, else locked."""
    if pushed.tracking_number == number and pushed.provider_id == provider_id:
        return
    data = {"fulfillment_id": f.id, "pushed": pushed.tracking_number, "now": number}
    if pushed.corrections == 0 and ctx.now <= pushed.pushed_at + TRACKING_CORRECTION_WINDOW:
        ctx.note(f"Tracking of fulfilment {f.id} changed: correcting it on TikTok.")
        ctx.act(
            UpdateTracking(
                tiktok_order_id=ctx.order.id,
                package_id=pushed.package_id,
                tracking_number=number,
                provider_id=provider_id,
                source_fulfillment_id=f.id,
            )
        )
        return
    ctx.flag(
        ExceptionCode.TRACKING_LOCKED,
        f"Shopify fulfilment {f.id} now has {number}, but TikTok has {pushed.tracking_number} "
        "and accepts one correction within 72 hours only: change it in Seller Center.",
        data,
    )
