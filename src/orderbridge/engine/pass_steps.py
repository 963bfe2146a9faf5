"""Steps of a pass that ``worker.Reconciler`` delegates: a batch that could not be fetched,
a connection whose tokens died, lease renewal, the SKUs a batch needs, whose API call is whose.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from orderbridge.adapters.calls import ApiCall
from orderbridge.adapters.db import (
    ConnectionStatus,
    EventKind,
    LeaseLost,
    TokenCipher,
    connections,
    events,
    in_transaction,
    link_leases,
    order_exceptions,
)
from orderbridge.adapters.db.connections import ConnectionRow
from orderbridge.adapters.db.engine import Tx
from orderbridge.adapters.db.links import LinkRow
from orderbridge.domain.link import LinkMemory
from orderbridge.domain.observed import SkuResolution
from orderbridge.engine import timeline
from orderbridge.engine.observe import LinkTruth
from orderbridge.engine.passes import (
    RENEW_FRACTION,
    ConnectionRuntime,
    EngineServices,
    Pass,
    backoff,
)
from orderbridge.engine.skus import resolve_skus
from orderbridge.engine.timeline import EngineCode
from orderbridge.errors import AuthError

__all__ = [
    "Claimed",
    "Loaded",
    "batch_failed",
    "by_link",
    "claimer",
    "keep_leases",
    "mark_auth_expired",
    "renewer",
    "skus_of",
]

log = logging.getLogger(__name__)

# A pass looks at least this often (real seconds) whether its leases need renewing.
LEASE_CHECK_SECONDS: Final = 1.0

# A connection row as read with the claim: the row, None (deleted) or why it can't be read.
Loaded = ConnectionRow | None | Exception


@dataclass(frozen=True, slots=True)
class Claimed:
    """One claim: the links leased, their connections read in the same transaction, and
    which of the links have an open exception."""

    rows: list[LinkRow]
    loaded: dict[int, Loaded]
    open_exceptions: frozenset[int] = frozenset()

    def __len__(self) -> int:
        return len(self.rows)


def claimer(owner: str, now: datetime, limit: int, lease: float, cipher: TokenCipher) -> Callable[[Tx], Claimed]:
    """The claim's transaction: lease up to ``limit`` due links to ``owner``, read their
    connections (one round trip fewer on the way to the first API call; a connection that
    cannot be read is its own links' problem, never the others') and their open exceptions."""
    def work(conn: Tx) -> Claimed:
        rows = link_leases.claim_due_links(conn, owner, now, limit=limit, lease_seconds=lease)
        loaded: dict[int, Loaded] = {}
        for cid in dict.fromkeys(row.connection_id for row in rows):
            try:
                loaded[cid] = connections.get_connection(conn, cipher, cid)
            except Exception as exc:
                loaded[cid] = exc
        ids = [row.id for row in rows]
        return Claimed(rows, loaded, link_leases.with_open_exceptions(conn, ids) if ids else frozenset())

    return work


async def keep_leases(services: EngineServices, current: Pass) -> None:
    """Renew the leases of the links a pass still holds before they run low.

    A link whose turn comes late in a long pass (a busy Shopify budget, slow APIs) must
    not lose its lease while it waits, or another worker takes it and both do the work
    again and again (a livelock). Saves renew too; this covers links not saved for a
    while. A link saved meanwhile (a new version) is skipped: its save renewed it.
    """
    lease = services.settings.lease_seconds
    clock = services.clock
    while current.held:
        now = clock.now()
        low = now + timedelta(seconds=lease * RENEW_FRACTION)
        expiring = [row for row in current.held.values()
                    if row.lease_expires_at is not None and row.lease_expires_at <= low]
        if expiring:
            for row in await in_transaction(services.db, renewer(expiring, current.owner, now, lease)):
                held = current.held.get(row.id)
                if held is not None and held.version == row.version:
                    current.held[row.id] = row
        soonest = min((row.lease_expires_at for row in current.held.values()
                       if row.lease_expires_at is not None), default=None)
        if soonest is None:
            return
        renew_at = soonest - timedelta(seconds=lease * RENEW_FRACTION)
        await asyncio.sleep(min(LEASE_CHECK_SECONDS, max(0.0, clock.real_seconds_until(renew_at))))


async def batch_failed(
    services: EngineServices, rng: random.Random, current: Pass, runtime: ConnectionRuntime,
    rows: Sequence[LinkRow], why: str, calls: list[ApiCall], *, clock_mismatch: bool = False,
) -> None:
    """Put a batch back with back-off. TikTok refusing the timestamps even after signing
    again means the engine's clock and TikTok's differ: that is raised on every order it
    holds up (CLOCK_MISMATCH), not only written as a last error nobody reads."""
    now = services.clock.now()
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

    def work(conn: Tx) -> None:
        for row in rows:
            attempts = row.attempts + 1
            try:
                saved = link_leases.save_link(
                    conn, row, owner, now=now, release=True, attempts=attempts,
                    last_error=why[:2000], next_due_at=now + backoff(attempts, rng),
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
    await in_transaction(services.db, work)


async def mark_auth_expired(services: EngineServices, runtime: ConnectionRuntime, exc: AuthError) -> None:
    """Mark the connection AUTH_EXPIRED, with a warning on its timeline."""
    now = services.clock.now()
    cid = runtime.connection.id
    detail = exc.describe()
    cipher = services.cipher

    def work(conn: Tx) -> None:
        connections.update_connection(conn, cipher, cid, now=now, status=ConnectionStatus.AUTH_EXPIRED)
        events.append(
            conn, None, EventKind.WARNING,
            f"AUTH_EXPIRED: {exc}. Re-authorise the connection (orderbridge connect).",
            detail, at=now, connection_id=cid, remote_request_id=exc.request_id,
        )

    await in_transaction(services.db, work)
    log.warning("connection %s: AUTH_EXPIRED (%s); its links wait", cid, exc)


def renewer(rows: Sequence[LinkRow], owner: str, now: datetime, lease: float) -> Callable[[Tx], list[LinkRow]]:
    """The transaction that renews ``owner``'s leases on ``rows`` (skipping lost ones)."""
    def work(conn: Tx) -> list[LinkRow]:
        renewed = []
        for row in rows:
            try:
                renewed.append(link_leases.renew_lease(conn, row, owner, now, lease_seconds=lease))
            except LeaseLost:
                continue
        return renewed

    return work


async def skus_of(
    services: EngineServices, connection_id: int, truths: Sequence[LinkTruth], calls: Sequence[ApiCall] = (),
) -> Mapping[str, SkuResolution]:
    """How the batch's TikTok SKUs map to Shopify (one read for the whole batch); the
    batch's ``calls`` that concern no one order go to the connection's timeline in the same
    transaction."""
    seller: dict[str, str] = {}
    bundles: set[str] = set()
    for truth in truths:
        assert truth.order is not None
        for item in truth.order.line_items:
            seller.setdefault(item.sku_id, item.seller_sku)
            if item.combined_listing_skus:
                bundles.add(item.sku_id)
    if not seller and not calls:
        return {}

    def work(conn: Tx) -> Mapping[str, SkuResolution]:
        if calls:
            timeline.record_calls(conn, None, connection_id, calls)
        return resolve_skus(conn, connection_id, list(seller), seller, bundles=bundles) if seller else {}

    return await in_transaction(services.db, work)


def by_link(
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
