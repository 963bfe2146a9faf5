"""Poll cursors: per connection and stream, the watermark up to which polls have seen."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from orderbridge.adapters.db._sql import insert_for
from orderbridge.adapters.db.tables import cursors as t

__all__ = ["get_cursor", "set_cursor"]


def get_cursor(conn: Connection, connection_id: int, stream: str) -> datetime | None:
    """The watermark of ``stream`` (``None``: never polled)."""
    value: datetime | None = conn.execute(
        select(t.c.watermark).where(t.c.connection_id == connection_id, t.c.stream == str(stream))
    ).scalar()
    return value


def set_cursor(
    conn: Connection, connection_id: int, stream: str, watermark: datetime, *, now: datetime
) -> None:
    """Store the watermark of ``stream`` (upsert; it may move back, e.g. for a backfill)."""
    ins = insert_for(conn, t)
    conn.execute(
        ins.values(connection_id=connection_id, stream=str(stream), watermark=watermark, updated_at=now)
        .on_conflict_do_update(
            index_elements=[t.c.connection_id, t.c.stream],
            set_={"watermark": ins.excluded.watermark, "updated_at": ins.excluded.updated_at},
        )
    )
