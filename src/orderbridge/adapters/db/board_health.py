"""The overview's health figures per connection: webhooks, polls, cancellation requests.

The same figures ``/metrics`` exports (``engine/metrics.py``: ``orderbridge_webhook_*``,
``orderbridge_inbox_depth``, ``orderbridge_poll_cursor_age_seconds``), split by connection
and limited to a user's ``Scope``: when each source last sent a webhook, how many stored
deliveries wait and since when (the lag), each poll stream's watermark and when it last
moved, and the buyers' cancellation requests waiting for a person.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Connection, false, func, select

from orderbridge.adapters.db.grants import Scope
from orderbridge.adapters.db.tables import cursors, inbox, order_exceptions, order_links

__all__ = ["CANCEL_REQUEST_CODES", "ConnectionHealth", "PollStream", "connection_health"]

# The exceptions that stand for a buyer's cancellation request waiting for a person.
# A buyer's request on the cancellation desk: awaiting a person, being stopped, or blocked.
CANCEL_REQUEST_CODES: Final = ("CANCEL_REQUEST_PENDING", "CANCEL_REQUEST_STOPPING", "CANCEL_REQUEST_BLOCKED")


@dataclass(frozen=True, slots=True)
class PollStream:
    """One poll cursor: how far it has read and when it last moved."""

    stream: str
    watermark: datetime
    updated_at: datetime


@dataclass(slots=True)
class ConnectionHealth:
    """One connection's webhook, poll and cancellation-request figures."""

    last_webhook: dict[str, datetime] = field(default_factory=dict)  # by source
    inbox_waiting: int = 0
    oldest_waiting: datetime | None = None
    polls: list[PollStream] = field(default_factory=list)
    cancel_requests: int = 0

    def lag_seconds(self, now: datetime) -> float:
        """Age of the oldest unprocessed delivery (0 when none waits), as ``/metrics``."""
        return 0.0 if self.oldest_waiting is None else max(0.0, (now - self.oldest_waiting).total_seconds())


def _only(stmt: Any, column: Any, scope: Scope) -> Any:
    if scope is None:
        return stmt
    return stmt.where(column.in_(sorted(scope))) if scope else stmt.where(false())


def connection_health(conn: Connection, scope: Scope = None) -> dict[int, ConnectionHealth]:
    """Health figures of every connection in ``scope`` that has any, by connection id."""
    out: dict[int, ConnectionHealth] = defaultdict(ConnectionHealth)
    i, c, e, t = inbox.c, cursors.c, order_exceptions.c, order_links.c
    for cid, source, newest in conn.execute(_only(
            select(i.connection_id, i.source, func.max(i.received_at)).where(i.connection_id.is_not(None)),
            i.connection_id, scope).group_by(i.connection_id, i.source)):
        out[int(cid)].last_webhook[str(source)] = newest
    for cid, waiting, oldest in conn.execute(_only(
            select(i.connection_id, func.count(), func.min(i.received_at))
            .where(i.processed_at.is_(None), i.connection_id.is_not(None)),
            i.connection_id, scope).group_by(i.connection_id)):
        health = out[int(cid)]
        health.inbox_waiting, health.oldest_waiting = int(waiting), oldest
    for cid, stream, watermark, updated in conn.execute(_only(
            select(c.connection_id, c.stream, c.watermark, c.updated_at), c.connection_id, scope)
            .order_by(c.connection_id, c.stream)):
        out[int(cid)].polls.append(PollStream(stream=str(stream), watermark=watermark, updated_at=updated))
    for cid, n in conn.execute(_only(
            select(t.connection_id, func.count()).join(order_exceptions, e.link_id == t.id)
            .where(e.status == "open", e.code.in_(CANCEL_REQUEST_CODES)), t.connection_id, scope)
            .group_by(t.connection_id)):
        out[int(cid)].cancel_requests = int(n)
    return dict(out)
