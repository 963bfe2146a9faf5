"""The executor: one domain ``Action`` -> client calls -> an ``Outcome`` for ``apply_outcome``.

Every action first looks at remote state where that is cheap (the Shopify view and TikTok
order the worker fetched for this decision, or one small read), so a repeat after a lost
answer is a SUCCESS without a second mutation. Then it calls the client and maps the result:

- success, or Shopify ``UserErrors.already_done`` -> ``SUCCESS`` with the ids
  ``apply_outcome`` reads (``shopify_order_id`` for a create or a search that found the
  order; ``package_id`` for a push) plus informative ones (``job_id``, ``hold_ids``, ...);
- ``Rejected`` / ``UserErrors`` / ``NotFound`` / other permanent errors, and local refusals
  (an order with no lines) -> ``REJECTED`` with the vendor's code and message;
- ``RetryableError`` (``RemoteTimeout``, 5xx, throttling) and anything unexpected ->
  ``UNKNOWN`` (the next decision reconciles against remote state);
- ``AuthError`` is raised: the worker marks the whole connection AUTH_EXPIRED.

The worker keeps one ``ActionExecutor`` per process (or per connection) because of its cache
``providers_cache`` (TikTok delivery option id -> providers, which the worker passes as
``Observed.providers``). Whether an ``orderCancel`` job may still run is read from the
link's durable memory (``LinkMemory.cancel_job_pending``), never from process memory, so a
restart cannot send a second cancel.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from orderbridge.adapters.shopify import ShopifyClient, UserErrors
from orderbridge.adapters.shopify.builders import (
    build_order_create_variables,
)
from orderbridge.adapters.shopify.throttle import Priority
from orderbridge.adapters.shopify.translate import to_order_view
from orderbridge.adapters.threepl_lookup import (
    ThreePLHandle,
    cancel_threepl_order,
    find_threepl_order,
)
from orderbridge.adapters.tiktok import TikTokClient
from orderbridge.domain import actions
from orderbridge.domain.link import LinkMemory
from orderbridge.domain.observed import ShopifyOrderView
from orderbridge.domain.order import TikTokOrder
from orderbridge.domain.outcome import Outcome, OutcomeStatus
from orderbridge.domain.policy import Policy
from orderbridge.engine.executor import edits, refunds, tiktok
from orderbridge.engine.executor.tiktok import Providers, Refused, succeed
from orderbridge.engine.existing import find_ours
from orderbridge.engine.specs import address_spec, order_spec
from orderbridge.engine.threepl.fulfil import fulfil_from_threepl
from orderbridge.errors import (
    AuthError,
    PermanentError,
    RemoteError,
    RetryableError,
)

if TYPE_CHECKING:
    from orderbridge.engine.threepl.route import ThreePLRouter

__all__ = ["NO_THREEPL_MESSAGE", "ActionExecutor", "ExecutionContext", "Providers"]

NO_THREEPL_MESSAGE = "no 3PL configured: cannot cancel the 3PL order"
# Shopify's words when an order is already (being) cancelled: the cancel is done.
_CANCEL_DONE_PHRASES = ("already been cancelled", "already being cancelled", "already cancelled")
_PAID_STATUSES = frozenset({"PAID", "PARTIALLY_REFUNDED", "REFUNDED"})


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionContext:
    """What one action runs with: the connection's clients and policy, and this decision's
    truth (the TikTok order, the Shopify view or ``None``, the link memory) and clock."""

    tiktok: TikTokClient
    shopify: ShopifyClient
    policy: Policy
    location_id: str | None
    order: TikTokOrder
    view: ShopifyOrderView | None
    memory: LinkMemory
    now: Callable[[], datetime]
    # Told the raw order ``orderCreate`` answered (the worker keeps it as the snapshot).
    on_created: Callable[[dict[str, Any]], None] | None = None
    # The order's 3PL order (client and reference) when the cancellation desk looked it up.
    threepl: ThreePLHandle | None = None


async def _no_threepl(action: actions.CreateThreePLOrder | actions.FindThreePLOrder, ctx: ExecutionContext) -> Outcome:
    raise Refused(f"no 3PL account configured: cannot reach {action.threepl}")


def _describe(exc: RemoteError) -> str:
    code = f"[{exc.code}] " if exc.code not in (None, "") else ""
    where = f"{exc.api} {exc.operation}: " if exc.api or exc.operation else ""
    request = f" (request {exc.request_id})" if exc.request_id else ""
    return f"{where}{code}{exc}{request}"


class ActionExecutor:
    """Runs actions idempotently: one handler per ``ActionKind`` (the TikTok ones live in
    ``executor_tiktok``); see the module docstring for the outcome mapping."""

    def __init__(self, threepl: ThreePLRouter | None = None) -> None:
        """``threepl`` creates (policy ``route_to``) and finds 3PL orders (``engine/threepl/route.py``)."""
        self.providers_cache: dict[str, Providers] = {}
        self._handlers: dict[actions.ActionKind, Callable[[Any, ExecutionContext], Awaitable[Outcome]]]
        k = actions.ActionKind
        self._handlers = {
            k.CREATE_SHOPIFY_ORDER: self._create,
            k.SEARCH_EXISTING_SHOPIFY_ORDER: self._search,
            k.PLACE_HOLD: self._place_hold,
            k.UPDATE_SHOPIFY_ADDRESS: self._update_address,
            k.RECORD_PAYMENT: self._record_payment,
            k.RELEASE_HOLD: self._release_hold,
            k.CANCEL_SHOPIFY_ORDER: self._cancel_shopify,
            k.REQUEST_FULFILLMENT_SERVICE_CANCEL: edits.fs_cancel,
            k.CANCEL_THREEPL_ORDER: self._cancel_threepl,
            k.FULFIL_FROM_THREEPL: fulfil_from_threepl,
            k.CREATE_THREEPL_ORDER: threepl.create if threepl is not None else _no_threepl,
            k.FIND_THREEPL_ORDER: threepl.find if threepl is not None else _no_threepl,
            k.REMOVE_UNITS: self._remove_units,
            k.SWAP_CUSTOM_LINE: edits.swap_line,
            k.RESTORE_TAX: edits.restore_tax,
            k.FETCH_SHIPPING_PROVIDERS: self._fetch_providers,
            k.PUSH_TRACKING: tiktok.push_tracking,
            k.UPDATE_TRACKING: tiktok.update_tracking,
            k.APPROVE_CANCELLATION: tiktok.approve_cancellation,
            k.APPROVE_RETURN: tiktok.approve_return,
            k.CANCEL_ON_TIKTOK: tiktok.cancel_on_tiktok,
            k.REFUND_SHOPIFY: refunds.refund,
            k.ADD_TAGS: self._add_tags,
            k.RECORD_NOTE: self._record_note,
        }

    @property
    def providers(self) -> Mapping[str, Providers]:
        """A read-only view of ``providers_cache`` for ``Observed.providers``."""
        return MappingProxyType(self.providers_cache)

    async def execute(self, action: actions.Action, ctx: ExecutionContext) -> Outcome:
        """Run ``action``; never raises except ``AuthError`` (see the module docstring)."""
        try:
            return await self._handlers[action.kind](action, ctx)
        except AuthError:
            raise
        except UserErrors as exc:
            if exc.already_done:
                return succeed(ctx, message=f"already done: {exc}")
            return self._outcome(ctx, OutcomeStatus.REJECTED, _describe(exc))
        except (PermanentError, Refused) as exc:
            text = _describe(exc) if isinstance(exc, RemoteError) else str(exc)
            return self._outcome(ctx, OutcomeStatus.REJECTED, text)
        except RetryableError as exc:
            return self._outcome(ctx, OutcomeStatus.UNKNOWN, _describe(exc))
        except Exception as exc:  # never crash the worker: the next decision reconciles
            return self._outcome(ctx, OutcomeStatus.UNKNOWN, f"{type(exc).__name__}: {exc}")

    # --- outcomes ---

    @staticmethod
    def _outcome(ctx: ExecutionContext, status: OutcomeStatus, message: str) -> Outcome:
        return Outcome(status=status, at=ctx.now(), message=message)

    async def _view(self, ctx: ExecutionContext, order_id: str) -> ShopifyOrderView:
        """The view this decision fetched, or a fresh one when it is missing or another order's."""
        if ctx.view is not None and ctx.view.id == order_id:
            return ctx.view
        snapshot = await ctx.shopify.get_order(order_id)
        return to_order_view(snapshot, our_app_holds_handle=ctx.policy.hold_handle)

    # --- Shopify: create, search ---

    async def _create(self, action: actions.CreateShopifyOrder, ctx: ExecutionContext) -> Outcome:
        known = ctx.memory.shopify_order_id or (ctx.view.id if ctx.view is not None else None)
        if known:
            return succeed(ctx, "the Shopify order already exists", shopify_order_id=known)
        try:
            spec = order_spec(action, location_id=ctx.location_id, now=ctx.now())
            build_order_create_variables(spec)  # the builder's own checks, before any call
        except ValueError as exc:
            raise Refused(f"cannot build the Shopify order: {exc}") from exc
        created = await ctx.shopify.create_order(spec, order_ref=action.tiktok_order_id, priority=action.priority)
        if ctx.on_created is not None and created.raw:
            ctx.on_created(created.raw)
        total = created.total_price_set.shop_money.amount if created.total_price_set else None
        note = f"created {created.name}" + (f", total {total}" if total is not None else "")
        return succeed(ctx, note, shopify_order_id=created.id, shopify_order_name=created.name)

    async def _search(self, action: actions.SearchExistingShopifyOrder, ctx: ExecutionContext) -> Outcome:
        found = await find_ours(ctx.shopify, action.source_identifier, action.tag)
        if not found:
            return succeed(ctx, "nothing found by source identifier or tag")
        message = "found" if len(found) == 1 else f"found {len(found)} orders (duplicates!)"
        return succeed(
            ctx,
            message,
            shopify_order_id=found[0].id,
            shopify_order_ids=",".join(o.id for o in found),
        )

    # --- Shopify: hold, address, payment, release ---

    async def _place_hold(self, action: actions.PlaceHold, ctx: ExecutionContext) -> Outcome:
        fos = {fo.id: fo for fo in (ctx.view.fulfillment_orders if ctx.view else ())}
        hold_ids: list[str] = []
        placed = 0
        for fo_id in action.fulfillment_order_ids:
            fo = fos.get(fo_id)
            existing = fo.holds_with(action.handle) if fo is not None else ()
            if existing:
                hold_ids.append(existing[0].id)
                continue
            try:
                result = await ctx.shopify.hold_fulfillment_order(
                    fo_id,
                    handle=action.handle,
                    reason=action.reason.value,
                    reason_notes=action.notes or None,
                    priority=action.priority,
                )
            except UserErrors as exc:
                if not exc.already_done:
                    raise
                continue  # our handle is already there: the hold exists
            placed += 1
            if result.fulfillment_hold is not None:
                hold_ids.append(result.fulfillment_hold.id)
        message = f"placed {placed} hold(s)" if placed else "already held"
        return succeed(ctx, message, hold_ids=",".join(hold_ids))

    async def _update_address(
        self, action: actions.UpdateShopifyAddress, ctx: ExecutionContext
    ) -> Outcome:
        if ctx.memory.address_fingerprint == action.fingerprint:
            return succeed(ctx, "address already written")
        await ctx.shopify.update_order(
            action.shopify_order_id, shipping_address=address_spec(action.address),
            priority=action.priority,
        )
        return succeed(ctx, "address written", shopify_order_id=action.shopify_order_id)

    async def _record_payment(self, action: actions.RecordPayment, ctx: ExecutionContext) -> Outcome:
        view = await self._view(ctx, action.shopify_order_id)
        if view.financial_status.upper() in _PAID_STATUSES or view.total_outstanding <= 0:
            return succeed(ctx, "nothing outstanding")
        if action.amount <= 0:
            return succeed(ctx, "a $0 payment: nothing to record")
        # Read afresh before paying: an address written in this decision makes Shopify
        # recalculate the order's taxes (since 2026-08-31), so the decision's view may be stale.
        snapshot = await ctx.shopify.get_order(
            action.shopify_order_id, line_items_first=1, fulfillment_orders_first=1,
            fulfillment_order_line_items_first=1, fulfillments_first=1, fulfillment_line_items_first=1,
            priority=action.priority,
        )
        view = to_order_view(snapshot, our_app_holds_handle=ctx.policy.hold_handle)
        if view.financial_status.upper() in _PAID_STATUSES or view.total_outstanding <= 0:
            return succeed(ctx, "nothing outstanding")
        if action.amount <= 0:
            return succeed(ctx, "a $0 payment: nothing to record")
        if view.total_outstanding != action.amount:
            # Never pay another amount than decided (TikTok's total): the next decision
            # compares the totals (domain/totals.py) and adds the tax back or raises.
            return Outcome(
                status=OutcomeStatus.UNKNOWN, at=ctx.now(), ids={"stale": "true"},
                message=f"not paid: Shopify now asks {view.total_outstanding}, not the "
                f"{action.amount} decided (its total changed, e.g. taxes recalculated for the "
                "address); deciding again",
            )
        # Without an amount Shopify pays the outstanding balance (a partial amount needs
        # Shopify Plus); the action asked for the outstanding amount anyway.
        result = await ctx.shopify.create_manual_payment(
            action.shopify_order_id, payment_method_name=action.method, priority=action.priority
        )
        note = f"recorded {view.total_outstanding} as {action.method}"
        return succeed(ctx, note, financial_status=result.display_financial_status or "")

    async def _release_hold(self, action: actions.ReleaseHold, ctx: ExecutionContext) -> Outcome:
        fos = ctx.view.fulfillment_orders if ctx.view is not None else ()
        fo = next((f for f in fos if f.id == action.fulfillment_order_id), None)
        still = action.hold_ids
        if fo is not None:
            present = {h.id for h in fo.holds}
            still = tuple(h for h in action.hold_ids if h in present)
        if not still:
            return succeed(ctx, "our hold is already gone")
        result = await ctx.shopify.release_fulfillment_holds(
            action.fulfillment_order_id, still, priority=action.priority
        )
        return succeed(ctx, "released", fulfillment_order_status=result.status or "")

    # --- Shopify: cancellations and edits ---

    async def _cancel_shopify(self, action: actions.CancelShopifyOrder, ctx: ExecutionContext) -> Outcome:
        view = ctx.view if ctx.view is not None and ctx.view.id == action.shopify_order_id else None
        if view is not None and view.cancelled_at is not None:
            return succeed(ctx, "already cancelled")
        if (view is not None and view.cancel_job_pending) or ctx.memory.cancel_job_pending(ctx.now()):
            return succeed(ctx, "the cancel job is still running", job_id=ctx.memory.cancel_job_id)
        try:
            result = await ctx.shopify.cancel_order(
                action.shopify_order_id,
                reason=action.reason.value,
                restock=action.restock,
                notify_customer=action.notify_customer,
                staff_note=action.staff_note or None,
                refund_to_original_payment=action.refund,
                priority=action.priority,
            )
        except UserErrors as exc:
            if any(p in str(exc).lower() for p in _CANCEL_DONE_PHRASES):
                return succeed(ctx, f"already cancelled: {exc}")
            raise
        job = result.job
        return succeed(
            ctx,
            "cancel job started",
            job_id=job.id if job else "",
            job_done="true" if job is not None and job.done else "",
        )

    async def _cancel_threepl(self, action: actions.CancelThreePLOrder, ctx: ExecutionContext) -> Outcome:
        """Cancel at the 3PL unless its order already is; the next decision reads it again and
        goes on to Shopify only once the 3PL shows it cancelled. A 3PL's AuthError is this
        order's refusal, not the TikTok/Shopify connection's."""
        if ctx.threepl is None:
            raise Refused(f"{NO_THREEPL_MESSAGE} (order {action.threepl_order_id})")
        client = ctx.threepl.client
        try:
            seen = await find_threepl_order(client, ctx.threepl.reference)
            if seen is not None and seen.cancelled:
                return succeed(ctx, f"3PL order {action.threepl_order_id} already cancelled")
            await cancel_threepl_order(client, action.threepl_order_id)
        except AuthError as exc:
            raise Refused(f"the 3PL refused our credentials: {_describe(exc)}") from exc
        return succeed(ctx, f"3PL order {action.threepl_order_id} cancel sent")

    async def _remove_units(self, action: actions.RemoveUnits, ctx: ExecutionContext) -> Outcome:
        if set(action.tiktok_line_ids) <= set(ctx.memory.removed_line_ids):
            return succeed(ctx, "units already removed")
        view = await self._view(ctx, action.shopify_order_id)
        line = next((li for li in view.line_items if li.id == action.line_item_id), None)
        if line is not None and line.current_quantity <= 0:
            return succeed(ctx, "the line has no units left")
        note = f"TikTok cancelled units {', '.join(action.tiktok_line_ids)}"
        await ctx.shopify.remove_units(
            action.shopify_order_id,
            action.line_item_id,
            action.quantity,
            restock=action.restock,
            staff_note=note,
            priority=action.priority,
        )
        return succeed(ctx, f"removed {action.quantity} unit(s)")

    async def _add_tags(self, action: actions.AddTags, ctx: ExecutionContext) -> Outcome:
        view = await self._view(ctx, action.shopify_order_id)
        have = {t.lower() for t in view.tags}
        missing = [t for t in action.tags if t.lower() not in have]
        if not missing:
            return succeed(ctx, "tags already there")
        # orderUpdate replaces the tags: send the ones just read plus ours.
        await ctx.shopify.update_order(
            action.shopify_order_id, tags=[*view.tags, *missing], priority=Priority.COSMETIC
        )
        return succeed(ctx, "tagged " + ", ".join(missing))

    async def _record_note(self, action: actions.RecordNote, ctx: ExecutionContext) -> Outcome:
        if action.note_id in ctx.memory.notes_written:
            return succeed(ctx, "note already written")
        # The Admin API has no timeline comment: the line goes on the order note (read first,
        # since orderUpdate replaces it).
        snapshot = await ctx.shopify.get_order(action.shopify_order_id)
        current = snapshot.note or ""
        if action.text in current:
            return succeed(ctx, "note already on the order")
        text = f"{current}\n{action.text}" if current else action.text
        await ctx.shopify.update_order(
            action.shopify_order_id, note=text, priority=Priority.COSMETIC
        )
        return succeed(ctx, "note written")

    async def _fetch_providers(
        self, action: actions.FetchShippingProviders, ctx: ExecutionContext
    ) -> Outcome:
        return await tiktok.fetch_providers(action, ctx, self.providers_cache)
