"""What the ``/metrics`` scrape reads from the database: a few cheap aggregate queries.

``read_gauges`` runs them on one connection and returns plain values; the engine's
``StateCollector`` turns them into Prometheus gauges. Labels stay bounded (connection id,
state, code, source, stream), never order ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select

from orderbridge.adapters.db.tables import cursors, inbox, order_exceptions, order_links

__all__ = ["GaugeReadings", "read_gauges"]


@dataclass(frozen=True, slots=True)
class GaugeReadings:
    """One scrape's readings (``None`` times: nothing to measure)."""

    links_by_state: list[tuple[int, str, int]]          # connection id, state, count
    open_exceptions: list[tuple[str, str, int]]         # code, severity, count
    inbox_pending: int
    inbox_oldest_pending: datetime | None
    inbox_newest_by_source: list[tuple[str, datetime | None]]
    links_due: int
    links_earliest_due: datetime | None                 # of the unleased links now due
    links_leased: int
    cursor_watermarks: list[tuple[int, str, datetime | None]]  # connection id, stream, watermark


def read_gauges(conn: Connection, *, now: datetime) -> GaugeReadings:
    """Every scrape-time reading, as of ``now`` (lease expiry and due times compare to it)."""
    t, x, i = order_links.c, order_exceptions.c, inbox.c
    free = (t.lease_owner.is_(None)) | (t.lease_expires_at <= now)
    by_state = [(cid, state, count) for cid, state, count in conn.execute(
        select(t.connection_id, t.state, func.count()).group_by(t.connection_id, t.state))]
    exceptions = [(code, severity, count) for code, severity, count in conn.execute(
        select(x.code, x.severity, func.count()).where(x.status == "open")
        .group_by(x.code, x.severity))]
    pending, oldest = conn.execute(
        select(func.count(), func.min(i.received_at)).where(i.processed_at.is_(None))).one()
    newest = [(source, received) for source, received in conn.execute(
        select(i.source, func.max(i.received_at)).group_by(i.source))]
    count_due, earliest = conn.execute(
        select(func.count(), func.min(t.next_due_at)).where(t.next_due_at <= now, free)).one()
    held = conn.execute(select(func.count()).where(
        t.lease_owner.is_not(None), t.lease_expires_at > now)).scalar_one()
    watermarks = [(cid, stream, watermark) for cid, stream, watermark in conn.execute(
        select(cursors.c.connection_id, cursors.c.stream, cursors.c.watermark))]
    return GaugeReadings(
        links_by_state=by_state, open_exceptions=exceptions, inbox_pending=pending,
        inbox_oldest_pending=oldest, inbox_newest_by_source=newest, links_due=count_due,
        links_earliest_due=earliest, links_leased=held, cursor_watermarks=watermarks,
    )
