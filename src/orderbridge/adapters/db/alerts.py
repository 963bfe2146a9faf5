"""SLA alerts already sent: once per link and threshold, even across processes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from orderbridge.adapters.db._sql import insert_for
from orderbridge.adapters.db.tables import alerts as t

__all__ = ["record_alert", "sent_thresholds"]


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
