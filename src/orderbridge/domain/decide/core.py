"""``decide()``: the pure heart of the order engine (lifecycle.md, level-triggered).

Given the link's memory, what was observed now, the policy and the time, it answers what to
do (actions, in order), the memory to save *before* doing it, when to look again, and the
link's current exceptions. No I/O, no clock, standard library only.

The engine's loop for one claimed link:

1. fetch the truth into ``Observed``; ``decision = decide(memory, observed, policy, now)``;
2. save ``decision.memory`` (this records a create attempt *before* the create is sent),
   the issues (raise ``issues``, resolve ``resolved``) and the timeline ``notes``;
3. run ``decision.actions`` in order, each checking remote state first; after each, save
   ``memory = apply_outcome(memory, action, outcome)``; stop at the first outcome that is not
   a success (what was skipped is decided again next time);
4. set ``next_due_at`` (``now`` again when an action succeeded and more may follow).

The steps for one order live in sibling modules: creation here, holds and release in
``decide_release``, cancellations in ``decide_cancel``, tracking in ``decide_tracking``.
"""

from __future__ import annotations

from datetime import datetime

from orderbridge.domain.actions import CreateLine, CreateShopifyOrder, SearchExistingShopifyOrder
from orderbridge.domain.address import (
    Destination,
    ShippingAddress,
    destination_kind,
    to_shipping_address,
)
from orderbridge.domain.decide.cancel import linked_cancellations
from orderbridge.domain.decide.common import Ctx, Decision
from orderbridge.domain.decide.imported import (
    IMPORT_FINANCIAL_STATUS,
    import_ready,
    import_tracking,
)
from orderbridge.domain.decide.release import (
    address_problem,
    after_shipping,
    holds_and_release,
    raise_sku_issues,
)
from orderbridge.domain.decide.threepl import threepl_parcels
from orderbridge.domain.decide.threepl_route import route
from orderbridge.domain.decide.threepl_search import look_for_threepl_order
from orderbridge.domain.decide.tracking import tracking
from orderbridge.domain.exceptions import ExceptionCode, IssueAction
from orderbridge.domain.existing import order_tag
from orderbridge.domain.link import LinkMemory, LinkState
from orderbridge.domain.observed import Observed, SkuState
from orderbridge.domain.order import (
    OrderKind,
    TikTokStatus,
    classify,
    is_at_least,
    is_masked,
)
from orderbridge.domain.policy import (
    AFTER_DELIVERY_WATCH,
    DEFAULT_CUSTOMER_NAME,
    DEFAULT_TAGS,
    CreateAt,
    CustomerNameMode,
    Policy,
    SampleOrders,
    TikTokShippedOrders,
)
from orderbridge.domain.returns import replacement_marks

__all__ = ["Decision", "decide"]

_RELAY_DOMAINS = ("chat.seller.tiktok.com", "chat-seller-us.tiktok.com")
_POST_DELIVERY = (TikTokStatus.DELIVERED, TikTokStatus.COMPLETED)


def decide(memory: LinkMemory, observed: Observed, policy: Policy, now: datetime) -> Decision:
    """What to do about one order now. Pure: see the module docstring for the engine's part."""
    order = observed.tiktok
    if order is None:
        # The fetch failed: change nothing, resolve nothing, look again soon.
        return Decision((), memory, now + policy.search_interval, (), (), ())
    ctx = Ctx(memory=memory, observed=observed, policy=policy, now=now, order=order)
    _bookkeeping(ctx)
    state = ctx.memory.state
    view = observed.shopify
    if state is LinkState.GONE:
        _gone(ctx)
    elif state is LinkState.DONE:
        ctx.finished = True
    elif order.status is TikTokStatus.UNKNOWN:
        ctx.flag(
            ExceptionCode.UNKNOWN_STATUS,
            f"TikTok reports the status {order.raw_status!r}, which OrderBridge does not know; "
            "nothing was changed.",
            {"raw_status": order.raw_status},
        )
        ctx.evaluated = False
    elif ctx.memory.shopify_order_id is None:
        _before_creation(ctx)
    elif view is None:
        ctx.evaluated = False
        ctx.due(now + policy.search_interval)
    elif not view.exists:
        ctx.update(state=LinkState.GONE)
        _gone(ctx)
    elif not linked_cancellations(ctx, view):
        if ctx.memory.state is LinkState.CANCELLING:
            # Our cancel never took effect and nothing needs cancelling now (the request
            # was withdrawn, or the goods shipped): back to where the order was.
            back = LinkState.RELEASED if ctx.memory.released_at else LinkState.CREATED_HELD
            ctx.update(state=back)
            ctx.note("The Shopify cancel did not happen and is no longer needed.")
        kind = classify(order)
        if kind is OrderKind.SELLER_SHIPPED:
            holds_and_release(ctx, view)
            route(ctx)
            look_for_threepl_order(ctx, view)
            threepl_parcels(ctx, view)
            tracking(ctx, view)
        after_shipping(ctx, view)
    _totals(ctx)
    _rejections(ctx)
    return ctx.decision(_next_due(ctx))


def _bookkeeping(ctx: Ctx) -> None:
    m, order = ctx.memory, ctx.order
    if m.first_seen_at is None:
        ctx.update(first_seen_at=ctx.now)
    if m.first_seen_awaiting_at is None and is_at_least(
        order.status, TikTokStatus.AWAITING_SHIPMENT
    ):
        ctx.update(first_seen_awaiting_at=ctx.now)
    if order.raw_status != m.last_tiktok_status:
        ctx.update(last_tiktok_status=order.raw_status)


def _gone(ctx: Ctx) -> None:
    ctx.finished = True
    ctx.flag(
        ExceptionCode.SHOPIFY_ORDER_GONE,
        "The Shopify order was deleted; OrderBridge will not create it again.",
        {"shopify_order_id": ctx.memory.shopify_order_id or ""},
    )


# --- before the Shopify order exists ---


def _before_creation(ctx: Ctx) -> None:
    state = ctx.memory.state
    if state in (LinkState.CREATING, LinkState.CREATE_UNKNOWN) and not _search(ctx):
        return
    if ctx.order.status is TikTokStatus.CANCELLED:
        ctx.update(state=LinkState.CANCELLED)
        ctx.note("Cancelled on TikTok before a Shopify order was made; nothing to mirror.")
        ctx.finished = True
        return
    address = _eligible(ctx)
    if address is False:
        return
    raise_sku_issues(ctx)
    ctx.update(state=LinkState.NEW)
    create = _create_action(ctx, address)
    if ctx.act(create):
        ctx.update(
            state=LinkState.CREATING,
            create_attempted_at=ctx.now,
            create_attempts=ctx.memory.create_attempts + 1,
        )
        ctx.due(ctx.now + ctx.policy.retry_soon)


def _search(ctx: Ctx) -> bool:
    """Whether creating may go ahead: a lost create is searched for until it settles."""
    m, policy = ctx.memory, ctx.policy
    started = m.search_started_at or m.create_attempted_at or ctx.now
    if m.state is LinkState.CREATING:
        # The outcome was never recorded (a crash): as good as unknown.
        ctx.update(state=LinkState.CREATE_UNKNOWN, search_started_at=started)
    last = m.last_empty_search_at
    if m.empty_searches >= 2 and last is not None and last >= started + policy.create_settle_period:
        ctx.note("Searches over the settling period found no Shopify order: creating again.")
        return True
    if last is None or ctx.now >= last + policy.search_interval:
        ctx.act(
            SearchExistingShopifyOrder(source_identifier=ctx.order.id, tag=order_tag(ctx.order.id))
        )
        ctx.due(ctx.now + policy.search_interval)
    else:
        ctx.due(last + policy.search_interval)
    return False


def _eligible(ctx: Ctx) -> ShippingAddress | bool | None:
    """False when the order must not be created now; else the address to create it with."""
    order, policy = ctx.order, ctx.policy
    kind = classify(order)
    ctx.update(state=LinkState.NEW)
    if kind is OrderKind.UNKNOWN:
        ctx.flag(
            ExceptionCode.UNKNOWN_SHIPPING_TYPE,
            f"TikTok gives shipping type {order.shipping_type!r} and fulfilment type "
            f"{order.fulfillment_type!r}; OrderBridge cannot tell who ships it.",
            {"shipping_type": order.shipping_type, "fulfillment_type": order.fulfillment_type},
        )
        return False
    if kind is not OrderKind.SELLER_SHIPPED and (
        policy.tiktok_shipped_orders is TikTokShippedOrders.SKIP
    ):
        ctx.update(state=LinkState.SKIPPED)
        ctx.flag(
            ExceptionCode.TIKTOK_SHIPPED,
            "TikTok ships this order (TikTok Shipping or Fulfilled by TikTok), so it is not "
            "mirrored to Shopify. Set the policy to import_fulfilled to record it anyway.",
            {"kind": kind.value},
        )
        return False
    if kind is not OrderKind.SELLER_SHIPPED and not import_ready(ctx):
        return False
    if order.is_sample_order and policy.samples is SampleOrders.SKIP:
        ctx.update(state=LinkState.SKIPPED)
        ctx.note("Free sample order skipped by policy.")
        return False
    if _unsupported_destination(ctx):
        return False
    if policy.create_at is CreateAt.PAID and not is_at_least(order.status, TikTokStatus.ON_HOLD):
        ctx.note("Waiting for payment before creating the Shopify order (policy: paid).")
        return False
    if policy.create_at is CreateAt.RELEASED and kind is OrderKind.SELLER_SHIPPED:
        return _releasable_address(ctx)
    return None


def _unsupported_destination(ctx: Ctx) -> bool:
    r = ctx.order.recipient
    if r is None or r.masked:
        return False
    known = [t for t in (r.state, r.postal_code, r.region_code) if not is_masked(t)]
    if len(known) < 3:
        return False
    lines = [t for t in (r.address_line1, r.address_line2, r.city) if not is_masked(t)]
    kind = destination_kind(r.region_code, r.state, lines, r.postal_code)
    if kind in (Destination.DOMESTIC, Destination.UNKNOWN):
        return False
    ctx.flag(
        ExceptionCode.UNSUPPORTED_DESTINATION,
        f"The order ships to a {kind.value} address; TikTok Shop US ships to the 50 states "
        "and DC only. Cancel it on TikTok.",
        {"destination": kind.value, "state": r.state, "postal_code": r.postal_code},
        (IssueAction.CANCEL_ON_TIKTOK, IssueAction.DISMISS),
    )
    return True


def _releasable_address(ctx: Ctx) -> ShippingAddress | bool | None:
    """create_at=released: only when due, with the address (and all SKUs linked)."""
    due = ctx.release_due()
    if due is None:
        return False
    if ctx.now < due:
        ctx.due(due)
        return False
    address, _ = to_shipping_address(ctx.order.recipient)
    if address is None:
        address_problem(ctx)
        return False
    unlinked = (ctx.observed.skus.get(item.sku_id) for item in ctx.order.line_items)
    if any(s is None or s.state is not SkuState.MAPPED for s in unlinked):
        return None  # created under our hold: it stays held until the SKU is linked
    return address


def _create_action(ctx: Ctx, address: ShippingAddress | bool | None) -> CreateShopifyOrder:
    order, policy, plan = ctx.order, ctx.policy, ctx.plan
    kind = classify(order)
    imported = kind is not OrderKind.SELLER_SHIPPED
    number, company = import_tracking(ctx) if imported else ("", "")
    lines = []
    for planned in plan.lines:
        group = planned.group
        found = ctx.observed.skus.get(group.sku_id)
        variant = found.variant_id if found is not None and found.state is SkuState.MAPPED else None
        lines.append(
            CreateLine(
                tiktok_sku_id=group.sku_id,
                line_ids=group.line_ids,
                quantity=group.quantity,
                variant_id=variant,
                title=group.title,
                sku=group.seller_sku,
                unit_price=group.unit_price,
            )
        )
    tags = [*DEFAULT_TAGS, order_tag(order.id)]
    if order.is_sample_order:
        tags.append("tiktok-sample")
    if kind is OrderKind.FBT:
        tags.append("tiktok-fbt")
    marks, replaces = replacement_marks(order.is_replacement_order, order.replaced_order_id)
    tags.extend(marks)
    email = order.buyer_email.strip()
    if email.lower().endswith(_RELAY_DOMAINS):
        tags.append("tiktok-relay-email")
    tags.extend(t for t in policy.extra_tags if t not in tags)
    attributes = [("tiktok_order_id", order.id), *replaces]
    if policy.tiktok_shop_id:
        attributes.append(("tiktok_shop_id", policy.tiktok_shop_id))
    attributes += [
        ("tiktok_seller_discount", str(plan.seller_discount)),
        ("tiktok_platform_discount", str(plan.platform_discount)),
        ("tiktok_platform_funded", str(plan.platform_funded)),
    ]
    customer = DEFAULT_CUSTOMER_NAME
    r = order.recipient
    if policy.customer_name_mode is CustomerNameMode.RECIPIENT and r and r.name and not r.masked:
        customer = r.name.strip()
    title = (
        policy.shipping_titles.get(order.delivery_option_name)
        or policy.shipping_titles.get(order.delivery_option_id)
        or plan.shipping_lines[0].title
    )
    return CreateShopifyOrder(
        tiktok_order_id=order.id,
        lines=tuple(lines),
        money=plan,
        shipping_title=title,
        tags=tuple(tags),
        custom_attributes=tuple(attributes),
        source_identifier=order.id,
        source_name=policy.source_name,
        note=order.buyer_message,
        customer_name=customer,
        email=email,
        processed_at=order.create_time,
        financial_status=IMPORT_FINANCIAL_STATUS if imported else "PENDING",
        claim_inventory=kind is not OrderKind.FBT,  # TikTok Shipping: the seller's own stock
        fulfilled=imported,
        tracking_number=number, tracking_company=company,
        shipping_address=address if isinstance(address, ShippingAddress) else None,
    )


# --- always ---


def _totals(ctx: Ctx) -> None:
    if ctx.memory.state in (LinkState.SKIPPED, LinkState.GONE, LinkState.DONE):
        return
    if ctx.order.status is TikTokStatus.UNKNOWN:
        return
    # A swap of a custom line keeps the total (the edit carries its channel-liable tax and
    # is committed only when Shopify's staged total is unchanged): only the plan can differ.
    mismatch = ctx.plan.mismatch
    if mismatch is not None:
        ctx.flag(
            ExceptionCode.TOTALS_MISMATCH,
            mismatch.message,
            {
                "planned_total": str(mismatch.planned_total),
                "tiktok_total": str(mismatch.tiktok_total),
                "difference": str(mismatch.difference),
            },
        )


def _rejections(ctx: Ctx) -> None:
    for rejection in ctx.memory.rejections:
        code = (
            ExceptionCode.TIKTOK_REJECTED
            if rejection.target == "tiktok"
            else ExceptionCode.SHOPIFY_REJECTED
        )
        ctx.flag(
            code,
            f"{rejection.key} was refused: {rejection.message}",
            {rejection.key: rejection.message},
            (IssueAction.RETRY, IssueAction.DISMISS),
        )


def _next_due(ctx: Ctx) -> datetime | None:
    state, order, policy, now = ctx.memory.state, ctx.order, ctx.policy, ctx.now
    periodic: datetime | None = now + policy.open_recheck
    if ctx.finished or state in (LinkState.SKIPPED, LinkState.CANCELLED):
        periodic = None
    elif order.status in _POST_DELIVERY:
        end = (order.delivery_time or order.update_time or now) + AFTER_DELIVERY_WATCH
        if now >= end:
            ctx.update(state=LinkState.DONE)
            periodic = None
        else:
            periodic = min(now + policy.slow_recheck, end)
    times = [*ctx.dues, *([periodic] if periodic is not None else [])]
    if not times:
        return None
    return max(min(times), now)
