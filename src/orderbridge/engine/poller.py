"""The poller: the backstop that finds what a lost webhook hid, and the backfill.

Per connection, one poller at a time (a singleton lease ``poller:<connection id>``, so any
number of processes may run pollers). Every ``settings.poll_interval_seconds`` it searches
TikTok orders, cancellations and returns by update time from the stored watermark minus
``settings.poll_overlap_seconds``, makes each named order's link due (creating it if new),
and moves the watermark to the newest update time seen. Like a webhook, a poll only says
"look at this order"; the worker fetches the truth.

``backfill`` imports a date range by create time, first linking orders another connector
already made in Shopify (same source identifier, our ``tiktok-<id>`` tag, or SKU IQ's
``skuiq``/``tiktokpos`` tags with the TikTok id): such an order is linked, never re-created.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Final, TypeVar

from orderbridge.adapters.db import (
    Connection,
    ConnectionStatus,
    EventKind,
    connections,
    cursors,
    events,
    in_transaction,
    leases,
    link_overrides,
    links,
)
from orderbridge.adapters.db.connections import ConnectionRow
from orderbridge.adapters.shopify import ShopifyClient
from orderbridge.adapters.tiktok import CancellationFilter, OrderFilter, ReturnFilter
from orderbridge.domain.existing import adoption_state
from orderbridge.domain.link import LinkMemory, LinkState
from orderbridge.domain.order import parse_status
from orderbridge.domain.policy import ThreePL
from orderbridge.engine.existing import find_existing
from orderbridge.engine.poll_health import Parked, describe_failure, retry_delay
from orderbridge.engine.ports import Clients
from orderbridge.engine.threepl.lookup import threepls_used
from orderbridge.engine.threepl.poll import ThreePLPoller
from orderbridge.engine.threepl.ports import ThreePLAccounts
from orderbridge.errors import AuthError

__all__ = [
    "BackfillReport",
    "PollReport",
    "Poller",
    "backfill",
    "poll_connection",
]

log = logging.getLogger(__name__)

# Watermark streams (the ``cursors`` table's ``stream`` column).
STREAM_ORDERS: Final = "orders"
STREAM_CANCELLATIONS: Final = "cancellations"
STREAM_RETURNS: Final = "returns"
# A connection that was never polled is searched from its creation minus this.
FIRST_POLL_LOOKBACK: Final = timedelta(hours=1)
# Links are made due in groups of this many ids (one transaction each).
DUE_CHUNK: Final = 100
# A backfilled link is kept from the workers this long while Shopify is searched.
BACKFILL_SEARCH_HOLD: Final = timedelta(minutes=10)
# How often the poller supervisor re-reads the list of connections.
CONNECTIONS_REFRESH_SECONDS: Final = 30.0


def lease_name(connection_id: int) -> str:
    """The singleton lease of a connection's poller."""
    return f"poller:{connection_id}"


@dataclass
class PollReport:
    """What one poll of one connection saw."""

    orders: int = 0
    cancellations: int = 0
    returns: int = 0
    created: int = 0
    skipped: bool = False  # another process holds the poller lease
    threepl: int = 0  # 3PL orders that changed (their links made due)


T = TypeVar("T")


async def _db(services: Clients, work: Callable[[Connection], T]) -> T:
    return await in_transaction(services.db, work)


async def _stream(
    services: Clients,
    connection: ConnectionRow,
    stream: str,
    items: Callable[[datetime], AsyncIterator[tuple[str, datetime | None]]],
) -> tuple[int, int]:
    """Poll one stream: make its orders due, advance its watermark. (seen, created)."""
    cid = connection.id
    overlap = timedelta(seconds=services.settings.poll_overlap_seconds)
    mark = await _db(services, lambda c: cursors.get_cursor(c, cid, stream))
    since = (mark - overlap) if mark is not None else connection.created_at - FIRST_POLL_LOOKBACK
    newest = mark
    pending: list[str] = []
    seen = created = 0

    async def flush() -> None:
        nonlocal created
        ids, pending[:] = list(pending), []
        now = services.clock.now()
        made = await _db(services, lambda c: links.ensure_due(
            c, cid, ids, now, now, priority=links.CREATE_PRIORITY))
        created += len(made)

    async for order_id, updated in items(since):
        if not order_id:
            continue
        seen += 1
        pending.append(order_id)
        if updated is not None and (newest is None or updated > newest):
            newest = updated
        if len(pending) >= DUE_CHUNK:
            await flush()
    if pending:
        await flush()
    if newest is not None and newest != mark:
        # Never past now: an order updated "in the future" by clock skew is not lost.
        watermark = min(newest, services.clock.now())
        now = services.clock.now()
        await _db(services, lambda c: cursors.set_cursor(c, cid, stream, watermark, now=now))
    return seen, created


async def poll_connection(services: Clients, connection: ConnectionRow, owner: str) -> PollReport:
    """One poll of one connection (orders, cancellations, returns), under its lease."""
    now = services.clock.now()
    hold = services.settings.poll_interval_seconds * 2 + 60
    got = await _db(
        services, lambda c: leases.acquire(c, lease_name(connection.id), owner, now, seconds=hold)
    )
    if not got:
        return PollReport(skipped=True)
    tiktok = services.tiktok_client(connection)

    async def orders(since: datetime) -> AsyncIterator[tuple[str, datetime | None]]:
        async for order in tiktok.iter_orders(OrderFilter(update_time_ge=since)):
            yield order.id, order.update_time

    async def cancels(since: datetime) -> AsyncIterator[tuple[str, datetime | None]]:
        async for record in tiktok.iter_cancellations(CancellationFilter(update_time_ge=since)):
            yield record.order_id, record.update_time

    async def returns(since: datetime) -> AsyncIterator[tuple[str, datetime | None]]:
        async for record in tiktok.iter_returns(ReturnFilter(update_time_ge=since)):
            yield record.order_id, record.update_time

    report = PollReport()
    report.orders, made = await _stream(services, connection, STREAM_ORDERS, orders)
    report.created += made
    report.cancellations, made = await _stream(services, connection, STREAM_CANCELLATIONS, cancels)
    report.created += made
    report.returns, made = await _stream(services, connection, STREAM_RETURNS, returns)
    report.created += made
    report.threepl = await _poll_threepl(services, connection)
    return report


async def _poll_threepl(services: Clients, connection: ConnectionRow) -> int:
    """The connection's 3PL orders (``engine/threepl/poll.py``), when its policy maps
    locations to 3PLs (and the process has their accounts); a 3PL that fails is logged and
    tried at the next poll, the TikTok polls are not held back by it."""
    if not isinstance(services, ThreePLAccounts):
        return 0
    used = threepls_used(services.policy(connection))
    amazon = services.amazon_mcf if ThreePL.AMAZON_MCF in used else None
    shipbob = services.shipbob if ThreePL.SHIPBOB in used else None
    if amazon is None and shipbob is None:
        return 0
    poller = ThreePLPoller(services.db, connection.id, services.clock.now, amazon=amazon, shipbob=shipbob)
    try:
        return await poller.poll_once()
    except Exception as exc:  # the 3PL's (auth too): one line, the next poll tries again
        log.warning("3PL poll of connection %s failed: %s", connection.id, describe_failure(exc))
        return 0


class Poller:
    """Polls every active connection every ``poll_interval_seconds`` (engine clock).

    ``on_due`` is called after a poll marked links due (the reconciler's ``notify``). A
    connection whose poll fails is parked with back-off (``poll_health``) while the others
    are polled as usual; ``parked`` says which and why. ``rand`` is the jitter's source.
    """

    def __init__(
        self,
        services: Clients,
        owner: str,
        on_due: Callable[[], None] | None = None,
        *,
        rand: Callable[[], float] | None = None,
    ) -> None:
        self.services = services
        self.owner = owner
        self.on_due = on_due or (lambda: None)
        self.rand = rand or random.random
        self._next: dict[int, datetime] = {}
        self.parked: dict[int, Parked] = {}
        # time.monotonic() at the end of the last pass: the worker heartbeat /readyz reads.
        self.last_pass_monotonic: float | None = None

    async def poll_due(self) -> dict[int, PollReport]:
        """Poll each active connection whose interval (or back-off) has passed."""
        services = self.services
        ids = await _db(services, lambda c: connections.list_connection_ids(c, status=ConnectionStatus.ACTIVE))
        reports: dict[int, PollReport] = {}
        interval = timedelta(seconds=services.settings.poll_interval_seconds)
        for cid in ids:
            now = services.clock.now()
            if now < self._next.get(cid, now):
                continue
            self._next[cid] = now + interval
            try:
                # Read (and decrypt) each connection on its own: one bad token parks one.
                row = await _db(services, partial(_read_connection, services=services, cid=cid))
                if row is None:
                    continue
                reports[cid] = report = await poll_connection(services, row, self.owner)
            except Exception as exc:  # contained: only this connection waits
                await self._failed(cid, exc)
                continue
            await self._recovered(cid)
            if report.orders or report.cancellations or report.returns or report.threepl:
                self.on_due()
        for gone in set(self.parked) - set(ids):  # paused or removed: nothing to retry
            del self.parked[gone]
        self.last_pass_monotonic = time.monotonic()
        return reports

    async def _failed(self, cid: int, exc: Exception) -> None:
        now = self.services.clock.now()
        text = describe_failure(exc)
        was = self.parked.get(cid)
        failures = (was.failures if was else 0) + 1
        retry_at = now + retry_delay(failures, self.rand)
        self._next[cid] = retry_at
        self.parked[cid] = Parked(failures=failures, since=was.since if was else now,
                                  last_error=text, next_attempt_at=retry_at)
        # One line per failure, no traceback: a loop of tracebacks hides everything else.
        log.warning("poll of connection %s failed (%d in a row; retry at %s): %s",
                    cid, failures, retry_at.isoformat(timespec="seconds"), text)
        if was is None or was.last_error != text:
            data: dict[str, Any] = {"failures": failures, "retry_at": retry_at.isoformat()}
            if isinstance(exc, AuthError):
                data.update(exc.describe())
            await _db(self.services, partial(
                _connection_warning, connection_id=cid, at=now,
                text=f"poller parked: {text} (retrying with back-off)", data=data))

    async def _recovered(self, cid: int) -> None:
        was = self.parked.pop(cid, None)
        if was is None:
            return
        now = self.services.clock.now()
        log.info("poll of connection %s works again after %d failures", cid, was.failures)
        await _db(self.services, partial(
            _connection_warning, connection_id=cid, at=now, kind=EventKind.EVENT,
            text=f"poller resumed after {was.failures} failed attempts", data={"failures": was.failures}))

    def seconds_until_next(self) -> float:
        """Real seconds until the next connection is due to be polled."""
        clock = self.services.clock
        if not self._next:
            return 0.0
        return max(0.0, clock.real_seconds_until(min(self._next.values())))

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Poll until ``stop``; releases the poller leases on the way out."""
        try:
            while not stop.is_set():
                try:
                    await self.poll_due()
                except Exception:  # keep polling: the database may come back
                    log.exception("poller pass failed")
                wait = min(self.seconds_until_next(), CONNECTIONS_REFRESH_SECONDS)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=max(wait, 0.05))
        finally:
            ids = list(self._next)

            def release(conn: Connection) -> None:
                for connection_id in ids:
                    leases.release(conn, lease_name(connection_id), self.owner)

            await _db(self.services, release)


# --- backfill ----------------------------------------------------------------------


@dataclass
class BackfillReport:
    """What a backfill did."""

    seen: int = 0
    created_links: int = 0
    linked_existing: int = 0


def _connection_warning(
    conn: Connection, *, connection_id: int, at: datetime, text: str, data: dict[str, Any],
    kind: EventKind = EventKind.WARNING,
) -> None:
    events.append(conn, None, kind, text, data, at=at, connection_id=connection_id)


def _read_connection(conn: Connection, *, services: Clients, cid: int) -> ConnectionRow | None:
    row = connections.get_connection(conn, services.cipher, cid)
    return row if row is not None and row.status == ConnectionStatus.ACTIVE else None


async def _backfill_one(
    services: Clients, shopify: ShopifyClient, cid: int, order_id: str, status: str
) -> tuple[bool, bool]:
    """Queue one order; (link created, linked to an order already in Shopify)."""
    now = services.clock.now()

    def create(conn: Connection) -> tuple[links.LinkRow, bool]:
        return links.get_or_create_link(conn, cid, order_id, now, due_at=now + BACKFILL_SEARCH_HOLD)

    row, created = await _db(services, create)
    existing = await find_existing(shopify, order_id) if created else None
    later = services.clock.now()

    def finish(conn: Connection) -> bool:
        adopted = False
        if existing is not None:
            state = adoption_state(parse_status(status))
            memory = LinkMemory(state=state, shopify_order_id=existing.id,
                                released_at=later if state is LinkState.RELEASED else None)
            adopted = link_overrides.adopt_existing(conn, row.id, existing.id, existing.name,
                                                    memory.to_json(), state=state.value, now=later)
            if adopted:
                events.append(
                    conn, row.id, EventKind.EVENT,
                    f"backfill: linked the existing Shopify order {existing.name} (not re-created)",
                    {"shopify_order_id": existing.id, "tags": list(existing.tags)},
                    at=later, connection_id=cid,
                )
        links.mark_due(conn, later, ids=[row.id])
        return adopted

    return created, await _db(services, finish)


async def backfill(
    services: Clients,
    connection: ConnectionRow,
    since: datetime,
    until: datetime | None,
    progress: Callable[[int, int], Awaitable[None] | None] | None = None,
) -> BackfillReport:
    """Import the TikTok orders created in [since, until): link or queue each one.

    ``progress(done, total)`` is called as orders are handled (the CLI's progress bar).
    """
    tiktok = services.tiktok_client(connection)
    shopify = services.shopify_client(connection)
    cid = connection.id
    found: list[tuple[str, str]] = []
    async for order in tiktok.iter_orders(OrderFilter(create_time_ge=since, create_time_lt=until)):
        found.append((order.id, order.status))
    report = BackfillReport(seen=len(found))
    for done, (order_id, status) in enumerate(found, start=1):
        created, adopted = await _backfill_one(services, shopify, cid, order_id, status)
        report.created_links += created
        report.linked_existing += adopted
        if progress is not None:
            maybe = progress(done, len(found))
            if maybe is not None:
                await maybe
    return report

