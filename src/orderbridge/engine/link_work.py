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
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Final, TypeVar

import structlog

from orderbridge.adapters.db import (
    EventKind,
    LeaseLost,
    events,
    in_transaction,
    link_leases,
    order_exceptions,
)
from orderbridge.adapters.db.engine import Tx
from orderbridge.adapters.db.links import LinkChanges, LinkRow
from orderbridge.domain.actions import Action
from orderbridge.domain.decide.core import decide
from orderbridge.domain.outcome import Outcome, OutcomeStatus, apply_outcome
from orderbridge.engine import timeline
from orderbridge.engine.cancel_desk import (
    ThreePLLocator,
    ThreePLUnreadable,
    look_up_threepl,
    stored_view,
)
from orderbridge.engine.freshness import decide_on_shopify, no_later_than
from orderbridge.engine.link_inputs import execute_action, observed_for
from orderbridge.engine.passes import (
    AUTH_RETRY,
    BACKOFF_BASE,
    BACKOFF_MAX,
    RENEW_FRACTION,
    ConnectionRuntime,
    EngineServices,
    LinkJob,
    Pass,
    Streaks,
    backoff,
    memory_changes,
)
from orderbridge.engine.recording import CallBuffer, recording_into
from orderbridge.engine.retention import snapshots_expired
from orderbridge.engine.shopify_read import read_shopify
from orderbridge.engine.threepl.lookup import (
    candidate_references,
    load_candidates,
    uses_threepl,
)
from orderbridge.engine.timeline import EngineCode
from orderbridge.errors import AuthError
from orderbridge.logs import get_logger

__all__ = [
    "AUTH_RETRY",
    "BACKOFF_BASE",
    "BACKOFF_MAX",
    "RENEW_FRACTION",
    "ConnectionRuntime",
    "LinkJob",
    "LinkWork",
    "Pass",
    "backoff",
]

log = logging.getLogger(__name__)
slog = get_logger(__name__)

T = TypeVar("T")

# The engine's own exception codes: a decision that could be made clears them.
_ENGINE_CODES: Final = tuple(code.value for code in EngineCode)


class LinkWork:
    """Reconciles one claimed link at a time; shared by a ``Reconciler``'s worker tasks.

    ``rng`` jitters the back-offs; the streaks of immediate re-decisions live here.
    """

    def __init__(self, services: EngineServices, rng: random.Random, threepl: ThreePLLocator | None = None) -> None:
        self.services = services
        self.rng = rng
        self.threepl = threepl  # where an order's 3PL order is (the cancellation desk reads it)
        self._streaks = Streaks(rng)

    async def _db(self, work: Callable[[Tx], T]) -> T:
        return await in_transaction(self.services.db, work)

    def _now(self) -> datetime:
        return self.services.clock.now()

    async def push_back(self, current: Pass, rows: Sequence[LinkRow], delay: timedelta, why: str) -> None:
        """Give these links back, due again after ``delay`` (nothing else changes)."""
        at = self._now() + delay
        owner = current.owner

        def work(conn: Tx) -> None:
            for row in rows:
                link_leases.release_lease(conn, row, owner, next_due_at=at)

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
                   after: Callable[[Tx, LinkRow], None] | None = None,
                   **changes: Any) -> LinkRow:
        """Save ``changes`` to a held link (renewing a lease running low), run ``after``
        in the same transaction; ``release=True`` also gives the lease back."""
        now = self._now()
        owner = current.owner
        renew = self._needs_renewal(row, now)
        lease = self.services.settings.lease_seconds

        def work(conn: Tx) -> LinkRow:
            fields: LinkChanges = changes  # type: ignore[assignment]
            with timeline.batched(conn):  # the entries of ``after``: one statement
                saved = link_leases.save_link(conn, row, owner, now=now, release=release, **fields)
                if renew and not release:
                    saved = link_leases.renew_lease(conn, saved, owner, now, lease_seconds=lease)
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

        def after(conn: Tx, saved: LinkRow) -> None:
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
            read=read, decide_now=lambda at: decide(memory, observed_for(runtime, truth, skus),
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
            decision = decide(memory, replace(observed_for(runtime, truth, skus), threepl=threepl),
                              runtime.policy, now)
        previous = row.state

        # Only the lease holder opens the exceptions a decision resolves: a link the claim
        # found without any has nothing to resolve (two no-op statements fewer).
        resolve = job.open_exceptions

        def record(conn: Tx, saved: LinkRow) -> None:
            timeline.record_decision(conn, saved.id, cid, decision, previous, now=now)
            timeline.record_issues(conn, saved.id, cid, decision.issues,
                                   resolve_others=resolve and bool(decision.resolved), now=now)
            if resolve:
                order_exceptions.resolve_codes(conn, saved.id, _ENGINE_CODES, now=now)

        memory = decision.memory
        first: dict[str, Any] = {
            **memory_changes(memory),
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
            outcome = await execute_action(runtime, action, order, truth, memory, now=self._now,
                                           on_created=created.append, threepl=handle)
            memory = apply_outcome(memory, action, outcome)
            # What orderCreate answered is the order as far as we know it: the next pass
            # then only has to find its fulfilment orders (``shopify_read.lean_hold_read``).
            seen: dict[str, Any] = {"shopify_snapshot": created[-1]} if created else {}
            changes = {**memory_changes(memory), **seen}
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
        record: Callable[[Tx, LinkRow], None], changes: dict[str, Any],
    ) -> None:
        """Save ``changes`` and release the lease, recording ``record`` and the API calls
        buffered for the link in the same transaction (kept for ``link()`` if it fails)."""
        calls = buffer.take()
        cid = row.connection_id

        def after(conn: Tx, saved: LinkRow) -> None:
            record(conn, saved)
            if calls:
                timeline.record_calls(conn, saved.id, cid, calls)

        try:
            await self.save(current, row, release=True, after=after, **changes)
        except BaseException:
            buffer.calls[:0] = calls  # not written: link() records them
            raise

    def _finish(
        self, runtime: ConnectionRuntime, row: LinkRow, actions: Sequence[Action],
        decided_due: datetime | None, failed: Outcome | None, warning: str | None,
    ) -> dict[str, Any]:
        """The next due time, attempts and error to save with the lease's release."""
        return self._streaks.finish(row, actions, decided_due, failed, warning, now=self._now(),
                                    retry_soon=runtime.policy.retry_soon)


def _action_recorder(
    connection_id: int, action: Action, outcome: Outcome
) -> Callable[[Tx, LinkRow], None]:
    def after(conn: Tx, saved: LinkRow) -> None:
        timeline.record_action(conn, saved.id, connection_id, action, outcome)

    return after
