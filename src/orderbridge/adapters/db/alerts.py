"""SLA alerts already sent: once per link and threshold, even across processes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, select

from orderbridge.adapters.db._sql import insert_for
from orderbridge.adapters.db.tables import alerts as t

__all__ = ["record_alert", "sent_thresholds", "thresholds_sent"]


def record_alert(conn: Connection, link_id: int, threshold: str, *, sent_at: datetime) -> bool:
    """Claim the right to send alert ``threshold`` for a link; False if already sent.

    Call it in the same transaction as deciding to send, before sending: the unique key
    makes two racing senders agree on one.
    """
    stmt = (
        insert_for(conn, t)
        .values(link_id=link_id, threshold=str(threshold), sent_at=sent_at)
        .on_conflict_do_nothing(index_elements=[t.c.link_id, t.c.threshold])
        .returning(t.c.link_id)
    )
    return conn.execute(stmt).first() is not None


def sent_thresholds(conn: Connection, link_id: int) -> set[str]:
    """Thresholds already alerted for a link."""
    return set(conn.execute(select(t.c.threshold).where(t.c.link_id == link_id)).scalars())


def thresholds_sent(conn: Connection, link_ids: Sequence[int]) -> list[tuple[int, str]]:
    """``(link id, threshold)`` of every alert sent for these links, oldest first (send a
    few hundred ids at a time)."""
    stmt = select(t.c.link_id, t.c.threshold).where(t.c.link_id.in_(list(link_ids))).order_by(t.c.sent_at)
    return [(int(link_id), str(threshold)) for link_id, threshold in conn.execute(stmt)]
