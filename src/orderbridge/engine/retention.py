"""Retention: the engine deletes the buyer data it no longer needs (docs/security.md).

Buyer data (the TikTok relay email, the recipient's name, phone and address) lives in two
places: each link's TikTok and Shopify snapshots, and the raw webhook bodies in the inbox.
Once an order is closed — completed or cancelled on TikTok, or finished here (``DONE``,
``GONE``) — for longer than ``retention_days`` (default 30):

- its snapshots are cleared (a timeline note says why), and the worker stops writing them
  for that order on its remaining re-checks (``snapshots_expired``, used by
  ``link_work``: a completed order is still watched for returns until ``DONE``);
- inbox entries handled more than ``retention_days`` ago are deleted (the vendors stop
  redelivering within a day, so the duplicate check loses nothing).

``Retention.run_forever`` runs in every process that runs workers, one pass every
``RETENTION_INTERVAL_SECONDS``; a lease makes it one pass per interval across processes.
Each batch is its own short transaction with SQLite's ``secure_delete`` on, and the
write-ahead log is emptied afterwards (``adapters/db/scrub.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Final

from pydantic import ValidationError

from orderbridge.adapters.db import (
    Connection,
    EventKind,
    events,
    in_transaction,
    inbox,
    leases,
    run_sync,
)
from orderbridge.adapters.db import retention as link_retention
from orderbridge.adapters.db.scrub import flush_deleted, secure_delete
from orderbridge.adapters.tiktok import Order as TikTokOrder
from orderbridge.domain.link import LinkState
from orderbridge.domain.order import TikTokStatus
from orderbridge.engine.ports import Store

__all__ = [
    "RETENTION_INTERVAL_SECONDS",
    "Retention",
    "RetentionReport",
    "clear_snapshots",
    "purge_inbox",
    "snapshots_expired",
]

log = logging.getLogger(__name__)

# Real seconds between passes (retention is counted in days: an hour late changes nothing).
RETENTION_INTERVAL_SECONDS: Final = 3600.0
LEASE_NAME: Final = "retention"
# Rows per transaction: a SQLite writer holds the one write lock meanwhile.
BATCH: Final = 200
CLOSED_STATUSES: Final = frozenset({TikTokStatus.COMPLETED.value, TikTokStatus.CANCELLED.value})
FINISHED_STATES: Final = (LinkState.DONE.value, LinkState.GONE.value)


def snapshots_expired(tiktok_status: str | None, closed_at: datetime | None, now: datetime,
                      retention: timedelta) -> bool:
    """Whether an order closed on TikTok (completed or cancelled) at ``closed_at`` is past
    retention: then its buyer data is no longer kept."""
    return tiktok_status in CLOSED_STATUSES and closed_at is not None and closed_at <= now - retention


def _closed_at(snapshot: Any, fallback: datetime) -> datetime:
    """When TikTok last changed a closed order (its ``update_time``), else ``fallback``."""
    if isinstance(snapshot, dict):
        with contextlib.suppress(ValidationError):
            when = TikTokOrder.model_validate(snapshot).update_time
            if when is not None:
                return when
    return fallback


@dataclass(frozen=True, slots=True)
class RetentionReport:
    """What one pass deleted."""

    inbox_deleted: int
    snapshots_cleared: int

    @property
    def total(self) -> int:
        return self.inbox_deleted + self.snapshots_cleared


def _expired_links(conn: Connection, now: datetime, retention: timedelta, after_id: int) -> tuple[list[int], int]:
    """Links past retention among the next ``BATCH`` candidates after ``after_id``; and the
    last id looked at (-1 when the scan is over)."""
    cutoff = now - retention
    rows = link_retention.closed_candidates(
        conn, cutoff=cutoff, after_id=after_id, limit=BATCH,
        finished_states=FINISHED_STATES, closed_statuses=CLOSED_STATUSES)
    expired = [
        r.id for r in rows
        if (r.state in FINISHED_STATES and r.updated_at < cutoff)
        or snapshots_expired(r.tiktok_status, _closed_at(r.tiktok_snapshot, r.updated_at), now, retention)
    ]
    return expired, int(rows[-1].id) if len(rows) == BATCH else -1


def purge_inbox(conn: Connection, now: datetime, retention: timedelta) -> int:
    """Delete up to ``BATCH`` inbox entries handled before the cutoff (one transaction)."""
    secure_delete(conn)
    return inbox.purge_before(conn, now - retention, limit=BATCH)


def clear_snapshots(conn: Connection, now: datetime, retention: timedelta, after_id: int) -> tuple[int, int]:
    """Clear the snapshots of the links past retention among the next ``BATCH`` candidates
    after ``after_id`` (one transaction). Returns how many, and where to go on (-1: done)."""
    secure_delete(conn)
    expired, last = _expired_links(conn, now, retention, after_id)
    if expired:
        link_retention.clear_snapshots(conn, expired)
        days = retention / timedelta(days=1)
        for link_id in expired:
            events.append(conn, link_id, EventKind.NOTE,
                          f"Buyer data deleted: the order closed more than {days:g} days ago (retention)",
                          at=now)
    return len(expired), last


class Retention:
    """The periodic retention pass of one process (see module docstring)."""

    def __init__(self, services: Store, owner: str) -> None:
        self.services = services
        self.owner = owner

    async def run_once(self) -> RetentionReport | None:
        """One pass over everything past retention; None when another process holds the
        pass's lease (it did the pass within the interval)."""
        services = self.services
        now = services.clock.now()
        retention = timedelta(days=services.settings.retention_days)
        took = await in_transaction(services.db, lambda c: leases.acquire(
            c, LEASE_NAME, self.owner, now, seconds=RETENTION_INTERVAL_SECONDS))
        if not took:
            return None
        deleted = 0
        while True:  # a backlog is worked off in short transactions
            removed = await in_transaction(services.db, partial(purge_inbox, now=now, retention=retention))
            deleted += removed
            if removed < BATCH:
                break
        cleared, after = 0, 0
        while after >= 0:
            count, after = await in_transaction(services.db, partial(
                clear_snapshots, now=now, retention=retention, after_id=after))
            cleared += count
        report = RetentionReport(deleted, cleared)
        if report.total:
            await run_sync(services.db, partial(flush_deleted, services.db, vacuum=False))
            log.info("retention: %d inbox bodies deleted, snapshots of %d closed orders cleared "
                     "(older than %g days)", report.inbox_deleted, report.snapshots_cleared,
                     services.settings.retention_days)
        return report

    async def run_forever(self, stop: asyncio.Event) -> None:
        """A pass every ``RETENTION_INTERVAL_SECONDS`` until ``stop``."""
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception as exc:  # one line; the next pass tries again
                log.warning("retention pass failed (retrying in %.0f s): %s: %s",
                            RETENTION_INTERVAL_SECONDS, type(exc).__name__, exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=RETENTION_INTERVAL_SECONDS)
