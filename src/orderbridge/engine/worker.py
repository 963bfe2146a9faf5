"""The reconciler: workers that claim due order links and bring Shopify in line with TikTok.

One pass (``Reconciler.run_once``):

1. claim up to ``batch`` due links (a lease each: one worker per order at a time);
2. per connection, fetch the truth for all of them at once (``observe.fetch_batch``: TikTok
   details 50 per call, cancellations and returns, each Shopify order), resolve SKUs;
3. per link (``link_work.LinkWork``): ``decide()``; save the decision's memory (so a create
   attempt is recorded *before* it is sent), its exceptions and timeline; run the actions in
   order through the ``ActionExecutor``, saving ``apply_outcome`` after each and stopping at the
   first non-success; then save the next due time and release the lease, and write every
   API call made for the link to its timeline.

No database transaction is open during an HTTP call: each save is its own short transaction
(``run_sync``), and every save is optimistic (``LeaseLost`` if another worker took
the link meanwhile: we then stop touching it). A bad order gets an exception on its own
link and a back-off with jitter; an ``AuthError`` marks the connection AUTH_EXPIRED and
pushes its links back instead of hammering the API.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, TypeVar

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
    wake,
)
from orderbridge.adapters.db.connections import ConnectionRow
from orderbridge.adapters.db.links import LinkRow
from orderbridge.adapters.tiktok import StaleTimestamp
from orderbridge.bootstrap import Services
from orderbridge.domain.link import LinkMemory
from orderbridge.domain.observed import SkuResolution
from orderbridge.domain.policy import Policy
from orderbridge.engine import timeline
from orderbridge.engine.cancel_desk import ThreePLLocator
from orderbridge.engine.claimer import ClaimLoop
from orderbridge.engine.executor.core import ActionExecutor
from orderbridge.engine.link_work import (
    AUTH_RETRY,
    BACKOFF_BASE,
    BACKOFF_MAX,
    RENEW_FRACTION,
    ConnectionRuntime,
    LinkJob,
    LinkWork,
    Pass,
    backoff,
)
from orderbridge.engine.observe import BatchFailed, LinkTruth, fetch_batch, urgency
from orderbridge.engine.recording import CallBuffer, RoutingRecorder, recording_into
from orderbridge.engine.skus import resolve_skus
from orderbridge.engine.threepl.locator import PolicyLocator
from orderbridge.engine.threepl.poll import threepl_store
from orderbridge.engine.threepl.route import ThreePLRouter
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

# Links processed concurrently within one batch of one worker.
LINK_CONCURRENCY: Final = 16
# PostgreSQL: other processes' hints arrive by LISTEN/NOTIFY; an idle process still looks
# this often, in case a notification was lost (listener reconnecting, a manual UPDATE).
SAFETY_POLL_SECONDS: Final = 30.0
# Single process: a safety net in case something outside this process marks a link due.
MAX_IDLE_SECONDS: Final = 5.0
# A failed pass waits this long before the next (a database outage must not spin).
ERROR_PAUSE_SECONDS: Final = 1.0
# A pass looks at least this often (real seconds) whether its leases need renewing.
LEASE_CHECK_SECONDS: Final = 1.0
# PostgreSQL: after a claim that did not fill a batch, the process's next claim waits this
# long, so the hints that trickle in meanwhile go into one batch (one TikTok read for many
# orders) instead of many processes each claiming one or two links per hint.
CLAIM_PACING_SECONDS: Final = 0.1


def default_owner(role: str = "worker") -> str:
    """A lease owner unique to this process: host:pid:role."""
    return f"{socket.gethostname()}:{os.getpid()}:{role}"


# A connection row as read with the claim: the row, None (deleted) or why it can't be read.
_Loaded = ConnectionRow | None | Exception


@dataclass(frozen=True, slots=True)
class _Claimed:
    """One claim: the links leased, and their connections read in the same transaction."""

    rows: list[LinkRow]
    loaded: dict[int, _Loaded]

    def __len__(self) -> int:
        return len(self.rows)


class Reconciler:
    """Claims due order links and reconciles them; see the module docstring.

    ``owner`` names this process's leases (unique per process; ``default_owner()``);
    ``batch`` is how many links one pass claims. ``notify()`` wakes the idle claimer at once
    (the web app and the poller call it when they mark links due); with ``listen`` (default:
    on PostgreSQL) notifications from other processes wake it too. ``pacing`` is the least
    time between a claim that did not fill a batch and the next (default
    ``CLAIM_PACING_SECONDS`` on PostgreSQL, none on SQLite).
    """

    def __init__(
        self,
        services: Services,
        owner: str,
        *,
        batch: int = 50,
        rng: random.Random | None = None,
        listen: bool | None = None,
        pacing: float | None = None,
        threepl: ThreePLLocator | None = None,
    ) -> None:
        self.services = services
        self.owner = owner
        self.batch = batch
        self.rng = rng or random.Random()
        self.listen = wake.listens(services.db) if listen is None else listen
        self.pacing = (CLAIM_PACING_SECONDS if self.listen else 0.0) if pacing is None else pacing
        self._runtimes: dict[int, ConnectionRuntime] = {}
        # Where an order's 3PL order is for the cancellation desk: by each connection's policy
        # unless a test hands one in.
        self._links = LinkWork(services, self.rng, threepl or PolicyLocator(services, self._policy_of))
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def _policy_of(self, connection_id: int) -> Policy | None:
        runtime = self._runtimes.get(connection_id)
        return None if runtime is None else runtime.policy

    # --- waking ---

    def notify(self) -> None:
        """Something was marked due: wake the idle claimer (call from the event loop)."""
        self._wake.set()

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

    async def run_forever(
        self, stop: asyncio.Event, *, workers: int | None = None,
        listening: asyncio.Event | None = None,
    ) -> None:
        """Run up to ``workers`` (default ``settings.workers``) passes at once until ``stop``
        is set; each pass in flight then finishes (releasing what it holds).

        One claimer per process (``claimer.ClaimLoop``): when a worker is free it claims up
        to ``batch`` due links and hands them to that worker as one pass, so the process's
        workers never race each other for the few links a hint made due. The idle claimer
        sleeps until the next link becomes due (``next_due_time``, on the engine's clock),
        or until ``notify()``, a clock jump or, with ``listen``, another process's ``NOTIFY``
        wakes it; it looks at the database at least every ``SAFETY_POLL_SECONDS``
        (PostgreSQL) or ``MAX_IDLE_SECONDS`` (SQLite). ``listening`` is set once the
        listener is in place (or at once without one).
        """
        self._loop = asyncio.get_running_loop()
        unsubscribe = self.services.clock.subscribe(self.notify_threadsafe)
        listener: asyncio.Task[None] | None = None
        if self.listen:
            listener = asyncio.create_task(
                wake.listen_for_due(self.services.db, self.notify, listening=listening),
                name="orderbridge due listener",
            )
        elif listening is not None:
            listening.set()
        lanes = workers or self.services.settings.workers
        loop: ClaimLoop[_Claimed] = ClaimLoop(
            owner=self.owner, lanes=lanes, batch=self.batch,
            claim=self._claim, work=self._work, idle_seconds=self._idle_seconds,
            wake=self._wake, pacing=self.pacing, error_pause=ERROR_PAUSE_SECONDS,
        )
        try:
            await loop.run(stop)
        finally:
            if listener is not None:
                listener.cancel()
                await asyncio.gather(listener, return_exceptions=True)
            unsubscribe()

    async def _idle_seconds(self) -> float:
        nxt = await self._db(lambda c: links.next_due_time(c), write=False)
        cap = SAFETY_POLL_SECONDS if self.listen else MAX_IDLE_SECONDS
        delay = cap if nxt is None else self.services.clock.real_seconds_until(nxt)
        return max(0.0, min(delay, cap))

    # --- one pass ---

    async def run_once(self) -> int:
        """Claim and process one batch of due links; returns how many were claimed."""
        claimed = await self._claim(self.owner, self.batch)
        if claimed:
            await self._work(self.owner, claimed)
        return len(claimed)

    async def _claim(self, owner: str, limit: int) -> _Claimed:
        """Lease up to ``limit`` due links to ``owner``, with their connections."""
        now = self._now()
        lease = self.services.settings.lease_seconds
        cipher = self.services.cipher

        def work(conn: Connection) -> _Claimed:
            rows = links.claim_due_links(conn, owner, now, limit=limit, lease_seconds=lease)
            # Their connections are read in the same transaction (one database round trip
            # fewer on the way to the first API call); a connection that cannot be read is
            # its own links' problem, never the others'.
            loaded: dict[int, _Loaded] = {}
            for cid in dict.fromkeys(row.connection_id for row in rows):
                try:
                    loaded[cid] = connections.get_connection(conn, cipher, cid)
                except Exception as exc:
                    loaded[cid] = exc
            return _Claimed(rows, loaded)

        return await self._db(work)

    async def _work(self, owner: str, batch: _Claimed, done: Callable[[], None] = lambda: None) -> None:
        """Work one claimed batch, per connection; ``done()`` after each link's turn (its
        slot is free); whatever is still held at the end (an interrupted pass) is released,
        due again at once."""
        claimed, loaded = batch.rows, batch.loaded
        current = Pass(owner, {row.id: row for row in claimed}, done)
        groups: dict[int, list[LinkRow]] = {}
        for row in claimed:
            groups.setdefault(row.connection_id, []).append(row)
        renewer = asyncio.create_task(self._keep_leases(current))
        started = time.perf_counter()
        try:
            await asyncio.gather(
                *(self._connection_batch(current, cid, rows, loaded[cid]) for cid, rows in groups.items())
            )
            self.services.metrics.observe_pass(time.perf_counter() - started, len(claimed))
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
            if current.held:
                await self._release_all(current, None)

    async def _keep_leases(self, current: Pass) -> None:
        """Renew the leases of the links a pass still holds before they run low.

        A link whose turn comes late in a long pass (a busy Shopify budget, slow APIs) must
        not lose its lease while it waits, or another worker takes it and both do the work
        again and again (a livelock). Saves renew too; this covers links not saved for a
        while. A link saved meanwhile (a new version) is skipped: its save renewed it.
        """
        lease = self.services.settings.lease_seconds
        clock = self.services.clock
        while current.held:
            now = self._now()
            low = now + timedelta(seconds=lease * RENEW_FRACTION)
            expiring = [row for row in current.held.values()
                        if row.lease_expires_at is not None and row.lease_expires_at <= low]
            if expiring:
                for row in await self._db(_renewer(expiring, current.owner, now, lease)):
                    held = current.held.get(row.id)
                    if held is not None and held.version == row.version:
                        current.held[row.id] = row
            soonest = min((row.lease_expires_at for row in current.held.values()
                           if row.lease_expires_at is not None), default=None)
            if soonest is None:
                return
            renew_at = soonest - timedelta(seconds=lease * RENEW_FRACTION)
            await asyncio.sleep(min(LEASE_CHECK_SECONDS, max(0.0, clock.real_seconds_until(renew_at))))

    async def _release_all(self, current: Pass, delay: timedelta | None) -> None:
        """Give back every link still held (interrupted pass: due again at once)."""
        rows = list(current.held.values())
        current.held.clear()
        at = self._now() + (delay or timedelta(0))

        def work(conn: Connection) -> None:
            for row in rows:
                links.release_lease(conn, row, current.owner, next_due_at=at)
            wake.announce_due(conn)  # another process may take them at once

        await asyncio.shield(self._db(work))

    # --- per connection ---

    async def _runtime(self, connection_id: int) -> ConnectionRuntime | None:
        """The connection's runtime, its row read now (a pass reads it with the claim)."""
        row = await self._db(
            lambda c: connections.get_connection(c, self.services.cipher, connection_id), write=False
        )
        return self._runtime_for(connection_id, row)

    def _runtime_for(self, connection_id: int, loaded: _Loaded) -> ConnectionRuntime | None:
        """The runtime for the connection row read (rebuilt when the row changed); raises
        the error that reading it met."""
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
        runtime = ConnectionRuntime(
            connection=row,
            policy=self.services.policy(row),
            tiktok=self.services.tiktok_client(row, recorder),
            shopify=self.services.shopify_client(row, recorder),
            recorder=recorder,
            executor=cached.executor if cached is not None else ActionExecutor(threepl=ThreePLRouter(
                self.services.amazon_mcf, self.services.shipbob, threepl_store(self.services.db, connection_id,
                                                                                self.services.clock.now))),
        )
        self._runtimes[connection_id] = runtime
        return runtime

    async def _connection_batch(
        self, current: Pass, connection_id: int, rows: list[LinkRow], loaded: _Loaded
    ) -> None:
        try:
            runtime = self._runtime_for(connection_id, loaded)
        except Exception as exc:  # bad config of one connection (e.g. no token)
            log.warning("connection %s cannot be used: %s", connection_id, exc)
            await self._links.push_back(current, rows, AUTH_RETRY, f"connection unusable: {exc}")
            return
        if runtime is None or runtime.connection.status != ConnectionStatus.ACTIVE:
            status = runtime.connection.status if runtime else "missing"
            await self._links.push_back(current, rows, AUTH_RETRY, f"connection is {status}")
            return
        memories: dict[int, LinkMemory] = {}
        for row in rows:
            try:
                memories[row.id] = LinkMemory.from_json(row.memory)
            except Exception as exc:  # a corrupt memory: that link only
                await self._links.fail_link(current, runtime, row, EngineCode.PROCESSING_ERROR,
                                            f"the link's stored memory cannot be read: {exc}", {})
        live = [row for row in rows if row.id in memories]
        if not live:
            return
        wanted = [
            (row.tiktok_order_id, memories[row.id].shopify_order_id or row.shopify_order_id)
            for row in live
        ]
        batch_buffer = CallBuffer()
        try:
            with recording_into(batch_buffer):
                truth = await fetch_batch(runtime.tiktok, wanted)
        except AuthError as exc:
            await self._auth_expired(current, runtime, live, exc, batch_buffer.take())
            return
        except BatchFailed as exc:
            await self._batch_failed(current, runtime, live, str(exc), batch_buffer.take(),
                                     clock_mismatch=isinstance(exc.cause, StaleTimestamp))
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
                job = LinkJob(row, memories[row.id], truth.links[row.tiktok_order_id], skus,
                              calls.get(row.id, []))
                try:
                    await self._links.link(current, runtime, job)
                finally:
                    current.done()

        # The most urgent links take the first turns (creates and holds before reads for
        # tracking): each link reads its Shopify order on its turn, at its own priority.
        live.sort(key=lambda row: urgency(memories[row.id]))
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

    async def _batch_failed(
        self, current: Pass, runtime: ConnectionRuntime, rows: Sequence[LinkRow], why: str,
        calls: list[ApiCall], *, clock_mismatch: bool = False,
    ) -> None:
        """Put a batch back with back-off. TikTok refusing the timestamps even after signing
        again means the engine's clock and TikTok's differ: that is raised on every order it
        holds up (CLOCK_MISMATCH), not only written as a last error nobody reads."""
        now = self._now()
        owner = current.owner
        cid = runtime.connection.id
        mismatch = (
            f"TikTok refused the requests' timestamps (engine clock {now.isoformat()}): this "
            "machine's clock differs from TikTok's by more than TikTok allows (about 5 minutes "
            "behind or 30 seconds ahead). Set the clock right (NTP), or against the sandboxes "
            "the engine's clock_source; the order is retried by itself."
        )
        if clock_mismatch:
            log.warning("connection %s: CLOCK_MISMATCH (%s)", cid, why)

        def work(conn: Connection) -> None:
            for row in rows:
                attempts = row.attempts + 1
                try:
                    saved = links.save_link(
                        conn, row, owner, now=now, release=True, attempts=attempts,
                        last_error=why[:2000], next_due_at=now + backoff(attempts, self.rng),
                    )
                except LeaseLost:
                    continue
                if clock_mismatch:
                    order_exceptions.raise_exception(
                        conn, saved.id, EngineCode.CLOCK_MISMATCH.value, "error", mismatch,
                        {"engine_clock": now.isoformat(), "error": why[:500]}, "retry", now=now)
            timeline.record_calls(conn, None, cid, calls)

        for row in rows:
            current.held.pop(row.id, None)
        await self._db(work)

    async def _auth_expired(
        self, current: Pass, runtime: ConnectionRuntime, rows: Sequence[LinkRow], exc: AuthError,
        calls: list[ApiCall],
    ) -> None:
        await self._links.push_back(current, rows, AUTH_RETRY, f"auth: {exc}")
        cid = runtime.connection.id
        await self._db(lambda c: timeline.record_calls(c, None, cid, calls))
        await self._mark_auth_expired(runtime, exc)

    async def _mark_auth_expired(self, runtime: ConnectionRuntime, exc: AuthError) -> None:
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


def _renewer(
    rows: Sequence[LinkRow], owner: str, now: datetime, lease: float
) -> Callable[[Connection], list[LinkRow]]:
    """The transaction that renews ``owner``'s leases on ``rows`` (skipping lost ones)."""
    def work(conn: Connection) -> list[LinkRow]:
        renewed = []
        for row in rows:
            try:
                renewed.append(links.renew_lease(conn, row, owner, now, lease_seconds=lease))
            except LeaseLost:
                continue
        return renewed

    return work


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
