"""One claimed link's turn in a pass: decide, act, save (see ``worker.py`` for the pass).

``LinkWork.link`` runs ``decide()`` on the link's fetched truth, saves the decision's
memory (so a create attempt is recorded *before* it is sent), its exceptions and timeline,
runs the actions in order through the ``ActionExecutor`` (saving ``apply_outcome`` after each and
stopping at the first non-success), then saves the next due time and gives the lease back.
Every save is its own short transaction and optimistic (``LeaseLost``: another worker has
the link, stop touching it). A bad order gets an exception on its own link and a back-off
with jitter; nothing one link does can stop the others.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Final, TypeVar

import structlog
from sqlalchemy import Connection

from orderbridge.adapters.calls import ApiCall
from orderbridge.adapters.db import (
    EventKind,
    LeaseLost,
    events,
    in_transaction,
    links,
    order_exceptions,
)
from orderbridge.adapters.db.connections import ConnectionRow
from orderbridge.adapters.db.links import LinkChanges, LinkRow
from orderbridge.adapters.shopify import ShopifyClient
from orderbridge.adapters.threepl_lookup import ThreePLHandle
from orderbridge.adapters.tiktok import TikTokClient
from orderbridge.bootstrap import Services
from orderbridge.domain.actions import Action, CreateShopifyOrder, PlaceHold
from orderbridge.domain.decide.core import decide
from orderbridge.domain.link import LinkMemory, LinkState
from orderbridge.domain.observed import Observed, ShippingProviders, SkuResolution
from orderbridge.domain.outcome import Outcome, OutcomeStatus, apply_outcome
from orderbridge.domain.policy import Policy
from orderbridge.engine import timeline
from orderbridge.engine.cancel_desk import (
    ThreePLLocator,
    ThreePLUnreadable,
    look_up_threepl,
    stored_view,
)
from orderbridge.engine.executor import ActionExecutor, ExecutionContext
from orderbridge.engine.freshness import decide_on_shopify, no_later_than
from orderbridge.engine.observe import LinkTruth, read_shopify
from orderbridge.engine.recording import CallBuffer, RoutingRecorder, recording_into
from orderbridge.engine.retention import snapshots_expired
from orderbridge.engine.threepl.lookup import (
    candidate_references,
    load_candidates,
    pick,
    uses_threepl,
)
from orderbridge.engine.timeline import EngineCode
from orderbridge.errors import AuthError
from orderbridge.logs import get_logger

__all__ = [
    "AUTH_RETRY",
    "BACKOFF_BASE",
    "BACKOFF_MAX",
    "ConnectionRuntime",
    "LinkJob",
    "LinkWork",
    "Pass",
    "backoff",
]

log = logging.getLogger(__name__)
slog = get_logger(__name__)

T = TypeVar("T")

# Retry back-off: BACKOFF_BASE * 2**attempts, capped, times a jitter in [1-J, 1+J].
BACKOFF_BASE: Final = timedelta(seconds=5)
BACKOFF_MAX: Final = timedelta(minutes=15)
BACKOFF_JITTER: Final = 0.2
# Links of a connection whose tokens are dead (or that is paused) are looked at this often.
AUTH_RETRY: Final = timedelta(minutes=15)
# Actions after whose success the decision's own timer is kept (no immediate re-decision).
SELF_TIMED_ACTIONS: Final = (CreateShopifyOrder, PlaceHold)
# After this many immediate re-decisions in a row a link waits ``policy.retry_soon``.
MAX_IMMEDIATE_ROUNDS: Final = 8
# Renew a link's lease when less than this fraction of it is left.
RENEW_FRACTION: Final = 0.5
# The engine's own exception codes: a decision that could be made clears them.
_ENGINE_CODES: Final = tuple(code.value for code in EngineCode)


def backoff(attempts: int, rng: random.Random) -> timedelta:
    """The retry delay after ``attempts`` failures, with jitter."""
    base = min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)
    jitter: float = rng.uniform(1 - BACKOFF_JITTER, 1 + BACKOFF_JITTER)
    delay: timedelta = base * jitter
    return delay


@dataclass
class ConnectionRuntime:
    """One connection's clients, policy and executor, shared by all worker tasks."""

    connection: ConnectionRow
    policy: Policy
    tiktok: TikTokClient
    shopify: ShopifyClient
    recorder: RoutingRecorder
    executor: ActionExecutor
    auth_error: AuthError | None = None


@dataclass
class Pass:
    """The links one worker task holds during one pass (released if it is interrupted);
    ``done()`` tells the claimer a link's turn is over (its slot is free)."""

    owner: str
    held: dict[int, LinkRow] = field(default_factory=dict)
    done: Callable[[], None] = lambda: None


@dataclass(frozen=True)
class LinkJob:
    """One claimed link with what the pass fetched for it."""

    row: LinkRow
    memory: LinkMemory
    truth: LinkTruth
    skus: Mapping[str, SkuResolution]
    calls: list[ApiCall]  # the batch's API calls that concern this order


class LinkWork:
    """Reconciles one claimed link at a time; shared by a ``Reconciler``'s worker tasks.

    ``rng`` jitters the back-offs; the streaks of immediate re-decisions live here.
    """

    def __init__(self, services: Services, rng: random.Random, threepl: ThreePLLocator | None = None) -> None:
        self.services = services
        self.rng = rng
        self.threepl = threepl  # where an order's 3PL order is (the cancellation desk reads it)
        self._streaks: dict[int, int] = {}

    async def _db(self, work: Callable[[Connection], T]) -> T:
        return await in_transaction(self.services.db, work)

    def _now(self) -> datetime:
        return self.services.clock.now()

    async def push_back(self, current: Pass, rows: Sequence[LinkRow], delay: timedelta, why: str) -> None:
        """Give these links back, due again after ``delay`` (nothing else changes)."""
        at = self._now() + delay
        owner = current.owner

        def work(conn: Connection) -> None:
            for row in rows:
                links.release_lease(conn, row, owner, next_due_at=at)

        for row in rows:
            current.held.pop(row.id, None)
        await self._db(work)
        log.info("%d link(s) pushed back to %s: %s", len(rows), at.isoformat(), why)

    async def link(self, current: Pass, runtime: ConnectionRuntime, job: LinkJob) -> None:
        """Reconcile one claimed link on its fetched truth; the batch's API calls that
        concern it go to its timeline with the ones made here."""
        buffer = CallBuffer(list(job.calls))
        row = job.row
        cid = runtime.connection.id
        try:
            # Every log event about this order carries its ids (structlog context).
            with recording_into(buffer), structlog.contextvars.bound_contextvars(
                    tiktok_order_id=row.tiktok_order_id, connection_id=cid):
                await self._reconcile(current, runtime, job, buffer)
        except LeaseLost as lost:
            log.info("link %s: lease lost (%s); another worker has it", row.id, lost)
            current.held.pop(row.id, None)
        except AuthError as exc:
            runtime.auth_error = exc
            held = current.held.get(row.id)
            if held is not None:
                await self.push_back(current, [held], AUTH_RETRY, f"auth: {exc}")
        except Exception as exc:  # one order never stops the loop
            log.exception("link %s (%s) failed", row.id, row.tiktok_order_id)
            held = current.held.get(row.id)
            if held is not None:
                await self.fail_link(current, runtime, held, EngineCode.PROCESSING_ERROR,
                                     f"unexpected error: {type(exc).__name__}: {exc}",
                                     {"error": type(exc).__name__})
        finally:
            recorded = buffer.take()
            if recorded:
                await asyncio.shield(
                    self._db(lambda c: timeline.record_calls(c, row.id, cid, recorded))
                )

    async def save(self, current: Pass, row: LinkRow, *, release: bool = False,
                   after: Callable[[Connection, LinkRow], None] | None = None,
                   **changes: Any) -> LinkRow:
        """Save ``changes`` to a held link (renewing a lease running low), run ``after``
        in the same transaction; ``release=True`` also gives the lease back."""
        now = self._now()
        owner = current.owner
        renew = self._needs_renewal(row, now)
        lease = self.services.settings.lease_seconds

        def work(conn: Connection) -> LinkRow:
            fields: LinkChanges = changes  # type: ignore[assignment]
            saved = links.save_link(conn, row, owner, now=now, release=release, **fields)
            if renew and not release:
                saved = links.renew_lease(conn, saved, owner, now, lease_seconds=lease)
            if after is not None:
                after(conn, saved)
            return saved

        saved = await self._db(work)
        if release:
            current.held.pop(row.id, None)
        else:
            current.held[row.id] = saved
        return saved

    def _needs_renewal(self, row: LinkRow, now: datetime) -> bool:
        if row.lease_expires_at is None:
            return False
        left = (row.lease_expires_at - now).total_seconds()
        return left < self.services.settings.lease_seconds * RENEW_FRACTION

    async def fail_link(
        self, current: Pass, runtime: ConnectionRuntime, row: LinkRow, code: EngineCode, message: str,
        data: dict[str, Any], snapshot: dict[str, Any] | None = None,
    ) -> None:
        """Raise ``code`` on the link and retry it later with back-off (jitter)."""
        now = self._now()
        attempts = row.attempts + 1
        cid = runtime.connection.id

        def after(conn: Connection, saved: LinkRow) -> None:
            _, opened = order_exceptions.raise_exception(
                conn, saved.id, code.value, "error", message, data, "retry", now=now
            )
            if opened:
                slog.warning("order_exception_raised", tiktok_order_id=saved.tiktok_order_id,
                             connection_id=cid, code=code.value, severity="error",
                             error=message[:300], attempts=attempts)
            events.append(conn, saved.id, EventKind.WARNING, f"{code.value}: {message}",
                          data or None, at=now, connection_id=cid)

        extra: dict[str, Any] = {} if snapshot is None else {"tiktok_snapshot": snapshot}
        try:
            await self.save(
                current, row, release=True, after=after, attempts=attempts,
                last_error=message[:2000], next_due_at=now + backoff(attempts, self.rng), **extra,
            )
        except LeaseLost:
            current.held.pop(row.id, None)

    async def _reconcile(
        self, current: Pass, runtime: ConnectionRuntime, job: LinkJob, buffer: CallBuffer
    ) -> None:
        row, memory, truth, skus = job.row, job.memory, job.truth, job.skus
        raw = truth.vendor_order.raw if truth.vendor_order is not None else None
        if truth.order is None or truth.error is not None:
            await self.fail_link(current, runtime, row, EngineCode.ORDER_UNREADABLE,
                                 truth.error or "no order", truth.error_data, raw)
            return
        order = truth.order
        shopify_id = memory.shopify_order_id or row.shopify_order_id
        if uses_threepl(runtime.policy):  # the stored 3PL orders this one may have
            refs = candidate_references(row.tiktok_order_id, shopify_id, row.shopify_order_name)
            cid_ = runtime.connection.id
            truth.threepl_candidates = await self._db(lambda c: load_candidates(c, cid_, refs))
        # An order with no Shopify news since its last read may decide on the stored
        # snapshot (``freshness``); a decision that wants to act reads the order first.

        async def read(after_own_holds: bool) -> None:
            assert shopify_id is not None
            await read_shopify(runtime.shopify, truth, shopify_id, memory, row.shopify_snapshot,
                               hold_handle=runtime.policy.hold_handle, now=self._now(),
                               after_own_holds=after_own_holds)

        decided = await decide_on_shopify(
            row, memory, truth, shopify_id, hold_handle=runtime.policy.hold_handle, clock=self._now,
            read=read, decide_now=lambda at: decide(memory, self._observed(runtime, truth, skus),
                                                    runtime.policy, at),
            stands_for=runtime.policy.open_recheck)
        decision, now, marker, fresh_until = decided.decision, decided.now, decided.marker, decided.fresh_until
        cid = runtime.connection.id
        try:  # a pending buyer request: decide again knowing the 3PL order (cancel_desk.py)
            handle, threepl = await look_up_threepl(
                self.threepl, cid, order, truth.shopify or stored_view(shopify_id, row.shopify_order_name),
                truth.cancellations, memory.cancels_approved)
        except ThreePLUnreadable as exc:
            await self.fail_link(current, runtime, row, EngineCode.ORDER_UNREADABLE, str(exc), {"api": "3pl"}, raw)
            return
        if threepl is not None:
            decision = decide(memory, replace(self._observed(runtime, truth, skus), threepl=threepl),
                              runtime.policy, now)
        previous = row.state

        def record(conn: Connection, saved: LinkRow) -> None:
            timeline.record_decision(conn, saved.id, cid, decision, previous, now=now)
            timeline.record_issues(conn, saved.id, cid, decision.issues,
                                   resolve_others=bool(decision.resolved), now=now)
            order_exceptions.resolve_codes(conn, saved.id, _ENGINE_CODES, now=now)

        memory = decision.memory
        first: dict[str, Any] = {
            **_memory_changes(memory),
            "tiktok_status": order.raw_status or order.status.value,
            "tiktok_snapshot": raw,
            **marker,  # cleared before any Shopify write is sent
        }
        if truth.shopify_raw is not None:  # a failed read keeps the last snapshot
            first["shopify_snapshot"] = truth.shopify_raw
        retention = timedelta(days=self.services.settings.retention_days)
        if snapshots_expired(order.status.value, order.update_time, now, retention):
            # Closed past retention but still watched (returns): its buyer data is not kept.
            first.update(tiktok_snapshot=None, shopify_snapshot=None)
        if truth.shopify is not None and truth.shopify.name:
            first["shopify_order_name"] = truth.shopify.name
        actions = decision.actions
        if not actions:
            # Nothing to do: the decision, the next due time and the lease's release are one
            # transaction (with the link's API calls).
            finish = self._finish(runtime, row, actions, decision.next_due_at, None, truth.warning)
            await self._last_save(current, row, buffer, record, {**first, **no_later_than(finish, fresh_until)})
            return
        row = await self.save(current, row, after=record, **first)
        for index, action in enumerate(actions):
            created: list[dict[str, Any]] = []
            outcome = await self._execute(runtime, action, order, truth, memory, created.append, handle)
            memory = apply_outcome(memory, action, outcome)
            # What orderCreate answered is the order as far as we know it: the next pass
            # then only has to find its fulfilment orders (``observe.lean_hold_read``).
            seen: dict[str, Any] = {"shopify_snapshot": created[-1]} if created else {}
            changes = {**_memory_changes(memory), **seen}
            recorder = _action_recorder(cid, action, outcome)
            failed = outcome if outcome.status is not OutcomeStatus.SUCCESS else None
            if failed is None and index < len(actions) - 1:
                row = await self.save(current, row, after=recorder, **changes)
                continue
            # The last action (or the first that did not succeed) is saved together with the
            # next due time, the lease's release and the link's API calls: one transaction.
            finish = self._finish(runtime, row, actions, decision.next_due_at, failed, truth.warning)
            await self._last_save(current, row, buffer, recorder, {**changes, **no_later_than(finish, fresh_until)})
            return

    async def _last_save(
        self, current: Pass, row: LinkRow, buffer: CallBuffer,
        record: Callable[[Connection, LinkRow], None], changes: dict[str, Any],
    ) -> None:
        """Save ``changes`` and release the lease, recording ``record`` and the API calls
        buffered for the link in the same transaction (kept for ``link()`` if it fails)."""
        calls = buffer.take()
        cid = row.connection_id

        def after(conn: Connection, saved: LinkRow) -> None:
            record(conn, saved)
            if calls:
                timeline.record_calls(conn, saved.id, cid, calls)

        try:
            await self.save(current, row, release=True, after=after, **changes)
        except BaseException:
            buffer.calls[:0] = calls  # not written: link() records them
            raise

    async def _execute(
        self, runtime: ConnectionRuntime, action: Action, order: Any, truth: LinkTruth,
        memory: LinkMemory, on_created: Callable[[dict[str, Any]], None],
        threepl: ThreePLHandle | None = None,
    ) -> Outcome:
        ctx = ExecutionContext(
            tiktok=runtime.tiktok,
            shopify=runtime.shopify,
            policy=runtime.policy,
            location_id=runtime.connection.shopify_location_id,
            order=order,
            view=truth.shopify,
            memory=memory,
            now=self._now,
            on_created=on_created,
            threepl=threepl,
        )
        try:
            return await runtime.executor.execute(action, ctx)
        except AuthError:
            raise
        except Exception as exc:  # unknown outcome: the next decision checks
            log.exception("action %s failed unexpectedly", action.kind.value)
            return Outcome(status=OutcomeStatus.UNKNOWN, at=self._now(),
                           message=f"unexpected {type(exc).__name__}: {exc}")

    def _observed(self, runtime: ConnectionRuntime, truth: LinkTruth,
                  skus: Mapping[str, SkuResolution]) -> Observed:
        order = truth.order
        assert order is not None
        return Observed(
            tiktok=order,
            cancellations=truth.cancellations,
            returns=truth.returns,
            shopify=truth.shopify,
            skus={item.sku_id: skus[item.sku_id] for item in order.line_items if item.sku_id in skus},
            providers=self._providers(runtime),
            threepl=pick(runtime.policy, order.id, truth.shopify, truth.threepl_candidates),
        )

    def _providers(self, runtime: ConnectionRuntime) -> ShippingProviders:
        cache = getattr(runtime.executor, "providers", None)
        if cache is None:
            return {}
        snapshot: ShippingProviders = dict(cache)
        return snapshot

    def _finish(
        self,
        runtime: ConnectionRuntime,
        row: LinkRow,
        actions: Sequence[Action],
        decided_due: datetime | None,
        failed: Outcome | None,
        warning: str | None,
    ) -> dict[str, Any]:
        """The next due time, attempts and error to save with the lease's release."""
        now = self._now()
        attempts = 0
        error: str | None = warning
        due = decided_due
        # An action that found the decision's view stale ("stale" in its ids: the payment
        # after an address write made Shopify recalculate the tax) sent nothing: decide
        # again at once on fresh truth, as after a success, without a back-off.
        stale = failed is not None and failed.ids.get("stale") == "true"
        if failed is not None and failed.status is OutcomeStatus.UNKNOWN and not stale:
            attempts = row.attempts + 1
            error = failed.message or "the outcome of an action is unknown"
            due = now + backoff(attempts, self.rng)
            self._streaks.pop(row.id, None)
        elif failed is None and decided_due is not None and all(
            isinstance(action, SELF_TIMED_ACTIONS) for action in actions
        ) and actions:
            # A create or a hold that succeeded: the decision already says when to look
            # next (fulfilment orders ~2 s after a create; the release or the periodic
            # re-check after a hold). Looking at once would spend a Shopify read for nothing.
            self._streaks.pop(row.id, None)
            due = decided_due
        elif actions:
            # Something was done (or refused): decide again at once on fresh truth.
            streak = self._streaks.get(row.id, 0) + 1
            self._streaks[row.id] = streak
            due = now if streak <= MAX_IMMEDIATE_ROUNDS else now + runtime.policy.retry_soon
            if failed is not None:
                error = failed.message
        else:
            self._streaks.pop(row.id, None)
        if warning is not None:
            attempts = row.attempts + 1
        return {"next_due_at": due, "attempts": attempts,
                "last_error": None if error is None else error[:2000]}


def _action_recorder(
    connection_id: int, action: Action, outcome: Outcome
) -> Callable[[Connection, LinkRow], None]:
    def after(conn: Connection, saved: LinkRow) -> None:
        timeline.record_action(conn, saved.id, connection_id, action, outcome)

    return after


def _memory_changes(memory: LinkMemory) -> dict[str, Any]:
    creating = memory.shopify_order_id is None and memory.state in (LinkState.NEW, LinkState.CREATING)
    changes: dict[str, Any] = {"memory": memory.to_json(), "state": memory.state.value,
                               "priority": links.CREATE_PRIORITY if creating else links.DEFAULT_PRIORITY}
    if memory.shopify_order_id:
        changes["shopify_order_id"] = memory.shopify_order_id
    return changes
