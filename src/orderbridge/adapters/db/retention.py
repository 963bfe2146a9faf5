"""Retention's reads and writes on links (``engine/retention.py`` decides what is expired).

``closed_candidates`` pages through the links that may be past retention (closed here or on
TikTok, first seen before the cutoff, still holding a snapshot); ``clear_snapshots`` forgets
the snapshots of the links the engine found expired.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, or_, select, update

from orderbridge.adapters.db.tables import order_links as t

__all__ = ["RetentionCandidate", "clear_snapshots", "closed_candidates"]


@dataclass(frozen=True, slots=True)
class RetentionCandidate:
    """What retention needs of one link to decide whether its buyer data is past keeping."""

    id: int
    state: str
    tiktok_status: str | None
    tiktok_snapshot: Any
    updated_at: datetime


def closed_candidates(
    conn: Connection, *, cutoff: datetime, after_id: int, limit: int,
    finished_states: Collection[str], closed_statuses: Collection[str],
) -> list[RetentionCandidate]:
    """Up to ``limit`` links after ``after_id`` (by id) first seen before ``cutoff`` (seen
    later, one cannot have closed before it), with a snapshot left, in a finished state or
    with a closed TikTok status."""
    rows = conn.execute(
        select(t.c.id, t.c.state, t.c.tiktok_status, t.c.tiktok_snapshot, t.c.updated_at)
        .where(t.c.id > after_id,
               t.c.first_seen_at < cutoff,
               or_(t.c.tiktok_snapshot.is_not(None), t.c.shopify_snapshot.is_not(None)),
               or_(t.c.state.in_(list(finished_states)), t.c.tiktok_status.in_(list(closed_statuses))))
        .order_by(t.c.id).limit(limit)).all()
    return [RetentionCandidate(id=int(r.id), state=r.state, tiktok_status=r.tiktok_status,
                               tiktok_snapshot=r.tiktok_snapshot, updated_at=r.updated_at)
            for r in rows]


def clear_snapshots(conn: Connection, link_ids: Sequence[int]) -> None:
    """Forget the TikTok and Shopify snapshots of these links (``updated_at`` untouched)."""
    conn.execute(update(t).where(t.c.id.in_(list(link_ids)))
                 .values(tiktok_snapshot=None, shopify_snapshot=None))
