"""The reconciler: workers that claim due order links and bring Shopify in line with TikTok.

One pass (``Reconciler.run_once``):

1. claim up to ``batch`` due links (a lease each: one worker per order at a time);
2. per connection, fetch the truth for all of them at once (``observe.fetch_batch``: TikTok
   details 50 per call, cancellations and returns, each Shopify order), resolve SKUs;
3. per link: ``decide()``; save the decision's memory (so a create attempt is recorded
   *before* it is sent), its exceptions and timeline; run the actions in order through the
   ``Executor``, saving ``apply_outcome`` after each and stopping at the first non-success;
   then save the next due time and release the lease, and write every API call made for
   the link to its timeline.

No database transaction is open during an HTTP call: each save is its own short transaction
(``run_sync``), and every save is optimistic (``LeaseLost`` if another worker took
the link meanwhile: we then stop touching it). A bad order gets an exception on its own
link and a back-off with jitter; an ``AuthError`` marks the connection AUTH_EXPIRED and
pushes its links back instead of hammering the API.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, TypeVar

from sqlalchemy import Connection

from orderbridge.adapters.calls import ApiCall
from orderbridge.adapters.db import (
    ConnectionStatus,
    EventKind,
    LeaseLost,
    connections,
    events,
    in_transaction,
    links,
    order_exceptions,
)
from orderbridge.adapters.db.connections import ConnectionRow
from orderbridge.adapters.db.links import LinkChanges, LinkRow
from orderbridge.adapters.shopify import ShopifyClient
from orderbridge.adapters.tiktok import TikTokClient
from orderbridge.bootstrap import Services
from orderbridge.domain.actions import Action, CreateShopifyOrder, PlaceHold
from orderbridge.domain.decide import decide
from orderbridge.domain.link import LinkMemory
from orderbridge.domain.observed import Observed, ShippingProviders, SkuResolution
from orderbridge.domain.outcome import Outcome, OutcomeStatus, apply_outcome
from orderbridge.domain.policy import Policy
from orderbridge.engine import timeline
from orderbridge.engine.executor import ExecutionContext, Executor
from orderbridge.engine.observe import BatchFailed, LinkTruth, fetch_batch
from orderbridge.engine.recording import CallBuffer, RoutingRecorder, recording_into
from orderbridge.engine.skus import resolve_skus
from orderbridge.engine.timeline import EngineCode
from orderbridge.errors import AuthError

__all__ = [
    "AUTH_RETRY",
    "BACKOFF_BASE",
    "BACKOFF_MAX",
    "Reconciler",
    "backoff",
    "default_owner",
]

log = logging.getLogger(__name__)

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
# Links processed concurrently within one batch of one worker.
LINK_CONCURRENCY: Final = 16
# Renew a link's lease when less than this fraction of it is left.
RENEW_FRACTION: Final = 0.5
# PostgreSQL scale-out: other processes mark links due, so the idle wait is at most this.
MULTI_PROCESS_POLL_SECONDS: Final = 1.0
# Single process: a safety net in case something outside this process marks a link due.
MAX_IDLE_SECONDS: Final = 5.0
# A failed pass waits this long before the next (a database outage must not spin).
ERROR_PAUSE_SECONDS: Final = 1.0
# The engine's own exception codes: a decision that could be made clears them.
_ENGINE_CODES: Final = tuple(code.value for code in EngineCode)


def default_owner(role: str = "worker") -> str:
    """A lease owner unique to this process: host:pid:role."""
    return f"{socket.gethostname()}:{os.getpid()}:{role}"


def backoff(attempts: int, rng: random.Random) -> timedelta:
    """The retry delay after ``attempts`` failures, with jitter."""
    base = min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)
    jitter: float = rng.uniform(1 - BACKOFF_JITTER, 1 + BACKOFF_JITTER)
    delay: timedelta = base * jitter
    return delay


@dataclass
class _Runtime:
    """One connection's clients, policy and executor, shared by all worker tasks."""

    connection: ConnectionRow
    policy: Policy
    tiktok: TikTokClient
    shopify: ShopifyClient
    recorder: RoutingRecorder
    executor: Executor
    auth_error: AuthError | None = None


# A connection row as read with the claim: the row, None (deleted) or why it can't be read.
_Loaded = ConnectionRow | None | Exception


class _Unread:
    """Marks a connection the caller has not read yet."""


_UNREAD: Final = _Unread()


@dataclass
class _Pass:
    """The links one worker task holds during one pass (released if it is interrupted)."""

    owner: str
    held: dict[int, LinkRow] = field(default_factory=dict)


class Reconciler:
    """Claims due order links and reconciles them; see the module docstring.

    ``owner`` names this process's leases (unique per process; ``default_owner()``);
    ``batch`` is how many links one pass claims. ``notify()`` wakes idle workers at once
    (the web app and the poller call it when they mark links due).
    """

    def __init__(
        self,
        services: Services,
        owner: str,
        *,
        batch: int = 50,
        rng: random.Random | None = None,
        multi_process: bool | None = None,
    ) -> None:
        self.services = services
        self.owner = owner
        self.batch = batch
        self.rng = rng or random.Random()
        self.multi_process = (
            not services.settings.is_sqlite if multi_process is None else multi_process
        )
        self._runtimes: dict[int, _Runtime] = {}
        self._streaks: dict[int, int] = {}
        self._wakers: set[asyncio.Event] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    # --- waking ---

    def notify(self) -> None:
        """Something was marked due: wake the idle workers (call from the event loop)."""
        for event in list(self._wakers):
            event.set()

    def notify_threadsafe(self) -> None:
        """``notify`` from any thread (clock listeners, sandbox threads)."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.notify)

    # --- the database, off the event loop ---

    async def _db(self, work: Callable[[Connection], T], *, write: bool = True) -> T:
        return await in_transaction(self.services.db, work, write=write)

    def _now(self) -> datetime:
        return self.services.clock.now()

    # --- the loop ---

    async def run_forever(self, stop: asyncio.Event, *, workers: int | None = None) -> None:
        """Run ``workers`` (default ``settings.workers``) concurrent worker tasks until
        ``stop`` is set; each finishes its current pass (releasing what it holds) and exits.

        An idle task sleeps exactly until the next link becomes due (``next_due_time``, on
        the engine's clock), or until ``notify()`` or a clock jump wakes it; with several
        processes on PostgreSQL it looks again every second, since another process may
        have marked something due.
        """
        self._loop = asyncio.get_running_loop()
        unsubscribe = self.services.clock.subscribe(self.notify_threadsafe)
        count = workers or self.services.settings.workers
        try:
            await asyncio.gather(
                *(self._worker(f"{self.owner}/{i}", stop) for i in range(count))
            )
        finally:
            unsubscribe()

    async def _worker(self, owner: str, stop: asyncio.Event) -> None:
        wake = asyncio.Event()
        self._wakers.add(wake)
        try:
            while not stop.is_set():
                wake.clear()
                try:
                    claimed = await self._run_once(owner)
                except Exception:  # e.g. the database is down: pause, go on
                    log.exception("worker %s: a pass failed", owner)
                    claimed = 0
                    await _wait_any(stop, wake, ERROR_PAUSE_SECONDS)
                    continue
                if claimed:
                    continue
                await _wait_any(stop, wake, await self._idle_seconds())
        finally:
            self._wakers.discard(wake)

    async def _idle_seconds(self) -> float:
        nxt = await self._db(lambda c: links.next_due_time(c), write=False)
        delay = MAX_IDLE_SECONDS if nxt is None else self.services.clock.real_seconds_until(nxt)
        cap = MULTI_PROCESS_POLL_SECONDS if self.multi_process else MAX_IDLE_SECONDS
        return max(0.0, min(delay, cap))

    # --- one pass ---

    async def run_once(self) -> int:
        """Claim and process one batch of due links; returns how many were claimed."""
        return await self._run_once(self.owner)

    async def _run_once(self, owner: str) -> int:
        now = self._now()
        lease = self.services.settings.lease_seconds
        cipher = self.services.cipher

        def work(conn: Connection) -> tuple[list[LinkRow], dict[int, _Loaded]]:
            rows = links.claim_due_links(conn, owner, now, limit=self.batch, lease_seconds=lease)
            # Their connections are read in the same transaction (one database round trip
            # fewer on the way to the first API call); a connection that cannot be read is
            # its own links' problem, never the others'.
            loaded: dict[int, _Loaded] = {}
            for cid in dict.fromkeys(row.connection_id for row in rows):
                try:
                    loaded[cid] = connections.get_connection(conn, cipher, cid)
                except Exception as exc:
                    loaded[cid] = exc
            return rows, loaded

        claimed, loaded = await self._db(work)
        if not claimed:
            return 0
        current = _Pass(owner, {row.id: row for row in claimed})
        groups: dict[int, list[LinkRow]] = {}
        for row in claimed:
            groups.setdefault(row.connection_id, []).append(row)
        try:
            await asyncio.gather(
                *(self._connection_batch(current, cid, rows, loaded[cid]) for cid, rows in groups.items())
            )
        finally:
            if current.held:
                await self._release_all(current, None)
        return len(claimed)

    async def _release_all(self, current: _Pass, delay: timedelta | None) -> None:
        """Give back every link still held (interrupted pass: due again at once)."""
        rows = list(current.held.values())
        current.held.clear()
        at = self._now() + (delay or timedelta(0))

        def work(conn: Connection) -> None:
            for row in rows:
                links.release_lease(conn, row, current.owner, next_due_at=at)

        await asyncio.shield(self._db(work))

    # --- per connection ---

    async def _runtime(self, connection_id: int, loaded: _Loaded | _Unread = _UNREAD) -> _Runtime | None:
        """The connection's runtime, rebuilt when its row changed; ``loaded``: the row (or
        the error reading it) if the caller already read it."""
        if isinstance(loaded, _Unread):
            loaded = await self._db(
                lambda c: connections.get_connection(c, self.services.cipher, connection_id), write=False
            )
        if isinstance(loaded, Exception):
            raise loaded
        row = loaded
        if row is None:
            self._runtimes.pop(connection_id, None)
            return None
        cached = self._runtimes.get(connection_id)
        if cached is not None and cached.connection.updated_at == row.updated_at:
            cached.connection = row
            return cached
        recorder = RoutingRecorder()
        runtime = _Runtime(
            connection=row,
            policy=self.services.policy(row),
            tiktok=self.services.tiktok_client(row, recorder),
            shopify=self.services.shopify_client(row, recorder),
            recorder=recorder,
            executor=cached.executor if cached is not None else Executor(),
        )
        self._runtimes[connection_id] = runtime
        return runtime

    async def _connection_batch(
        self, current: _Pass, connection_id: int, rows: list[LinkRow], loaded: _Loaded | _Unread = _UNREAD
    ) -> None:
        try:
            runtime = await self._runtime(connection_id, loaded)
        except Exception as exc:  # bad config of one connection (e.g. no token)
            log.warning("connection %s cannot be used: %s", connection_id, exc)
            await self._push_back(current, rows, AUTH_RETRY, f"connection unusable: {exc}")
            return
        if runtime is None or runtime.connection.status != ConnectionStatus.ACTIVE:
            status = runtime.connection.status if runtime else "missing"
            await self._push_back(current, rows, AUTH_RETRY, f"connection is {status}")
            return
        memories: dict[int, LinkMemory] = {}
        for row in rows:
            try:
                memories[row.id] = LinkMemory.from_json(row.memory)
            except Exception as exc:  # a corrupt memory: that link only
                await self._fail_link(current, runtime, row, EngineCode.PROCESSING_ERROR,
                                      f"the link's stored memory cannot be read: {exc}", {})
        live = [row for row in rows if row.id in memories]
        if not live:
            return
        wanted = [
            (row.tiktok_order_id, memories[row.id].shopify_order_id or row.shopify_order_id,
             memories[row.id])
            for row in live
        ]
        batch_buffer = CallBuffer()
        try:
            with recording_into(batch_buffer):
                truth = await fetch_batch(
                    runtime.tiktok, runtime.shopify, wanted,
                    hold_handle=runtime.policy.hold_handle, now=self._now(),
                )
        except AuthError as exc:
            await self._auth_expired(current, runtime, live, exc, batch_buffer.take())
            return
        except BatchFailed as exc:
            await self._batch_failed(current, runtime, live, str(exc), batch_buffer.take())
            return
        except Exception as exc:  # keep the loop alive; the batch retries
            log.exception("fetching a batch of connection %s failed", connection_id)
            await self._batch_failed(current, runtime, live, f"{type(exc).__name__}: {exc}",
                                     batch_buffer.take())
            return
        calls = _by_link(batch_buffer.take(), live, memories)
        skus = await self._skus(connection_id, [t for t in truth.links.values() if t.order])
        gate = asyncio.Semaphore(LINK_CONCURRENCY)

        async def one(row: LinkRow) -> None:
            async with gate:
                await self._link(current, runtime, row, memories[row.id],
                                 truth.links[row.tiktok_order_id], skus, calls.get(row.id, []))

        await asyncio.gather(*(one(row) for row in live))
        if calls.get(None):
            unattributed = calls[None]
            await self._db(lambda c: timeline.record_calls(c, None, connection_id, unattributed))
        if runtime.auth_error is not None:
            await self._mark_auth_expired(runtime, runtime.auth_error)

    async def _skus(self, connection_id: int, truths: Sequence[LinkTruth]) -> Mapping[str, SkuResolution]:
        seller: dict[str, str] = {}
        bundles: set[str] = set()
        for truth in truths:
            assert truth.order is not None
            for item in truth.order.line_items:
                seller.setdefault(item.sku_id, item.seller_sku)
                if item.combined_listing_skus:
                    bundles.add(item.sku_id)
        if not seller:
            return {}
        return await self._db(
            lambda c: resolve_skus(c, connection_id, list(seller), seller, bundles=bundles)
        )

    async def _push_back(self, current: _Pass, rows: Sequence[LinkRow], delay: timedelta, why: str) -> None:
        at = self._now() + delay
        owner = current.owner

        def work(conn: Connection) -> None:
            for row in rows:
                links.release_lease(conn, row, owner, next_due_at=at)

        for row in rows:
            current.held.pop(row.id, None)
        await self._db(work)
        log.info("%d link(s) pushed back to %s: %s", len(rows), at.isoformat(), why)

    async def _batch_failed(
        self, current: _Pass, runtime: _Runtime, rows: Sequence[LinkRow], why: str, calls: list[ApiCall]
    ) -> None:
        now = self._now()
        owner = current.owner
        cid = runtime.connection.id

        def work(conn: Connection) -> None:
            for row in rows:
                attempts = row.attempts + 1
                try:
                    links.save_link(
                        conn, row, owner, now=now, release=True, attempts=attempts,
                        last_error=why[:2000], next_due_at=now + backoff(attempts, self.rng),
                    )
                except LeaseLost:
                    continue
            timeline.record_calls(conn, None, cid, calls)

        for row in rows:
            current.held.pop(row.id, None)
        await self._db(work)

    async def _auth_expired(
        self, current: _Pass, runtime: _Runtime, rows: Sequence[LinkRow], exc: AuthError,
        calls: list[ApiCall],
    ) -> None:
        await self._push_back(current, rows, AUTH_RETRY, f"auth: {exc}")
        cid = runtime.connection.id
        await self._db(lambda c: timeline.record_calls(c, None, cid, calls))
        await self._mark_auth_expired(runtime, exc)

    async def _mark_auth_expired(self, runtime: _Runtime, exc: AuthError) -> None:
        now = self._now()
        cid = runtime.connection.id
        detail = exc.describe()

        def work(conn: Connection) -> None:
            connections.update_connection(
                conn, self.services.cipher, cid, now=now, status=ConnectionStatus.AUTH_EXPIRED
            )
            events.append(
                conn, None, EventKind.WARNING,
                f"AUTH_EXPIRED: {exc}. Re-authorise the connection (orderbridge connect).",
                detail, at=now, connection_id=cid, remote_request_id=exc.request_id,
            )

        await self._db(work)
        self._runtimes.pop(cid, None)
        log.warning("connection %s: AUTH_EXPIRED (%s); its links wait", cid, exc)

    # --- per link ---

    async def _link(
        self,
        current: _Pass,
        runtime: _Runtime,
        row: LinkRow,
        memory: LinkMemory,
        truth: LinkTruth,
        skus: Mapping[str, SkuResolution],
        calls: list[ApiCall],
    ) -> None:
        buffer = CallBuffer(list(calls))
        cid = runtime.connection.id
        try:
            with recording_into(buffer):
                await self._reconcile(current, runtime, row, memory, truth, skus)
        except LeaseLost as lost:
            log.info("link %s: lease lost (%s); another worker has it", row.id, lost)
            current.held.pop(row.id, None)
        except AuthError as exc:
            runtime.auth_error = exc
            held = current.held.get(row.id)
            if held is not None:
                await self._push_back(current, [held], AUTH_RETRY, f"auth: {exc}")
        except Exception as exc:  # one order never stops the loop
            log.exception("link %s (%s) failed", row.id, row.tiktok_order_id)
            held = current.held.get(row.id)
            if held is not None:
                await self._fail_link(current, runtime, held, EngineCode.PROCESSING_ERROR,
                                      f"unexpected error: {type(exc).__name__}: {exc}",
                                      {"error": type(exc).__name__})
        finally:
            recorded = buffer.take()
            if recorded:
                await asyncio.shield(
                    self._db(lambda c: timeline.record_calls(c, row.id, cid, recorded))
                )

    async def _save(self, current: _Pass, row: LinkRow, *, release: bool = False,
                    after: Callable[[Connection, LinkRow], None] | None = None,
                    **changes: Any) -> LinkRow:
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

    async def _fail_link(
        self, current: _Pass, runtime: _Runtime, row: LinkRow, code: EngineCode, message: str,
        data: dict[str, Any], snapshot: dict[str, Any] | None = None,
    ) -> None:
        """Raise ``code`` on the link and retry it later with back-off (jitter)."""
        now = self._now()
        attempts = row.attempts + 1
        cid = runtime.connection.id

        def after(conn: Connection, saved: LinkRow) -> None:
            order_exceptions.raise_exception(
                conn, saved.id, code.value, "error", message, data, "retry", now=now
            )
            events.append(conn, saved.id, EventKind.WARNING, f"{code.value}: {message}",
                          data or None, at=now, connection_id=cid)

        extra: dict[str, Any] = {} if snapshot is None else {"tiktok_snapshot": snapshot}
        try:
            await self._save(
                current, row, release=True, after=after, attempts=attempts,
                last_error=message[:2000], next_due_at=now + backoff(attempts, self.rng), **extra,
            )
        except LeaseLost:
            current.held.pop(row.id, None)

    async def _reconcile(
        self,
        current: _Pass,
        runtime: _Runtime,
        row: LinkRow,
        memory: LinkMemory,
        truth: LinkTruth,
        skus: Mapping[str, SkuResolution],
    ) -> None:
        raw = truth.vendor_order.raw if truth.vendor_order is not None else None
        if truth.order is None or truth.error is not None:
            await self._fail_link(current, runtime, row, EngineCode.ORDER_UNREADABLE,
                                  truth.error or "no order", truth.error_data, raw)
            return
        order = truth.order
        now = self._now()
        observed = Observed(
            tiktok=order,
            cancellations=truth.cancellations,
            returns=truth.returns,
            shopify=truth.shopify,
            skus={item.sku_id: skus[item.sku_id] for item in order.line_items if item.sku_id in skus},
            providers=self._providers(runtime),
        )
        decision = decide(memory, observed, runtime.policy, now)
        cid = runtime.connection.id
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
            "shopify_snapshot": truth.shopify_raw,
        }
        if truth.shopify is not None and truth.shopify.name:
            first["shopify_order_name"] = truth.shopify.name
        row = await self._save(current, row, after=record, **first)
        failed: Outcome | None = None
        for action in decision.actions:
            outcome = await self._execute(runtime, action, order, truth, memory)
            memory = apply_outcome(memory, action, outcome)
            row = await self._save(
                current, row, after=_action_recorder(cid, action, outcome),
                **_memory_changes(memory),
            )
            if outcome.status is not OutcomeStatus.SUCCESS:
                failed = outcome
                break
        await self._finish(current, runtime, row, decision.actions, decision.next_due_at, failed,
                           truth.warning)

    async def _execute(
        self, runtime: _Runtime, action: Action, order: Any, truth: LinkTruth, memory: LinkMemory
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
        )
        try:
            return await runtime.executor.execute(action, ctx)
        except AuthError:
            raise
        except Exception as exc:  # unknown outcome: the next decision checks
            log.exception("action %s failed unexpectedly", action.kind.value)
            return Outcome(status=OutcomeStatus.UNKNOWN, at=self._now(),
                           message=f"unexpected {type(exc).__name__}: {exc}")

    def _providers(self, runtime: _Runtime) -> ShippingProviders:
        cache = getattr(runtime.executor, "providers", None)
        if cache is None:
            return {}
        snapshot: ShippingProviders = dict(cache)
        return snapshot

    async def _finish(
        self,
        current: _Pass,
        runtime: _Runtime,
        row: LinkRow,
        actions: Sequence[Action],
        decided_due: datetime | None,
        failed: Outcome | None,
        warning: str | None,
    ) -> None:
        now = self._now()
        attempts = 0
        error: str | None = warning
        due = decided_due
        if failed is not None and failed.status is OutcomeStatus.UNKNOWN:
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
        await self._save(current, row, release=True, next_due_at=due, attempts=attempts,
                         last_error=None if error is None else error[:2000])


async def _wait_any(stop: asyncio.Event, wake: asyncio.Event, seconds: float) -> None:
    """Sleep ``seconds`` or until ``stop`` or ``wake`` is set."""
    if seconds <= 0:
        await asyncio.sleep(0)
        return
    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


def _action_recorder(
    connection_id: int, action: Action, outcome: Outcome
) -> Callable[[Connection, LinkRow], None]:
    def after(conn: Connection, saved: LinkRow) -> None:
        timeline.record_action(conn, saved.id, connection_id, action, outcome)

    return after


def _memory_changes(memory: LinkMemory) -> dict[str, Any]:
    changes: dict[str, Any] = {"memory": memory.to_json(), "state": memory.state.value}
    if memory.shopify_order_id:
        changes["shopify_order_id"] = memory.shopify_order_id
    return changes


def _by_link(
    calls: list[ApiCall], rows: Sequence[LinkRow], memories: Mapping[int, LinkMemory]
) -> dict[int | None, list[ApiCall]]:
    """Batch calls that name one order go to its link; the rest to the connection."""
    refs: dict[str, int] = {}
    for row in rows:
        refs[row.tiktok_order_id] = row.id
        sid = memories[row.id].shopify_order_id or row.shopify_order_id
        if sid:
            refs[sid] = row.id
    out: dict[int | None, list[ApiCall]] = {}
    for call in calls:
        out.setdefault(refs.get(call.order_ref or ""), []).append(call)
    return out
