"""The SLA desk as read from the database: every order still to be scanned, by time left.

The engine stores each link's TikTok order as TikTok sent it (``tiktok_snapshot``) and its
status (``tiktok_status``); the desk reads the links whose status puts them on the desk,
turns each snapshot into the domain order (at the adapter edge, as the worker does) and
asks the domain for its deadlines (``domain/sla_desk.py``) on the injected calendar.
Used by ``orderbridge sla``, ``GET /api/sla`` and the alerter (``sla_alerts.py``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, TypeVar

from pydantic import ValidationError

from orderbridge.adapters.db import Connection, alerts, sla_desk
from orderbridge.adapters.tiktok.models import Order
from orderbridge.adapters.tiktok.translate import TranslationError, to_domain_order
from orderbridge.domain.order import TikTokOrder
from orderbridge.domain.sla import BusinessCalendar, Deadline
from orderbridge.domain.sla_desk import DESK_STATUSES, DeskEntry, desk_entry
from orderbridge.domain.threepl import select as select_threepl
from orderbridge.engine.threepl.lookup import candidate_references, load_candidates
from orderbridge.logs import get_logger

__all__ = ["THREEPL_UNKNOWN", "DeskRow", "OrderCache", "desk_entries", "desk_json", "read_desk"]

slog = get_logger(__name__)
_T = TypeVar("_T")

# The 3PL status column of an order no 3PL order is known for.
THREEPL_UNKNOWN: Final = "-"
_DESK_STATUS_TEXT: Final = tuple(status.value for status in DESK_STATUSES)
# IN lists are sent in chunks of this size (well under SQLite's variable limit).
_CHUNK: Final = 500


@dataclass(frozen=True, slots=True)
class DeskRow:
    """One order on the desk: its link, its connection and the domain's view of it."""

    link_id: int
    connection_id: int
    connection: str
    tiktok_order_id: str
    shopify_order_name: str | None
    link_state: str
    entry: DeskEntry
    alerts_sent: tuple[str, ...]
    threepl_status: str = THREEPL_UNKNOWN

    @property
    def label(self) -> str:
        """How alerts name the order: the TikTok id, and the Shopify name when known."""
        name = f" (Shopify {self.shopify_order_name})" if self.shopify_order_name else ""
        return f"{self.tiktok_order_id}{name}"


def _domain_order(snapshot: Any) -> TikTokOrder:
    return to_domain_order(Order.model_validate(snapshot))


def _sort_key(row: DeskRow) -> tuple[bool, timedelta, int]:
    # Least business time left first (breached ones most overdue first); no deadline last.
    left = row.entry.business_left
    return (left is None, left if left is not None else timedelta(0), row.link_id)


# A link's TikTok order as last parsed, with the link's ``updated_at`` it was parsed at
# (``None``: its snapshot did not translate). Lets the alerter, which reads the desk every
# minute, parse only the snapshots that changed since its last pass.
OrderCache = dict[int, tuple[datetime, TikTokOrder | None]]


def read_desk(
    conn: Connection, calendar: BusinessCalendar, now: datetime, *, connection_id: int | None = None,
    cache: OrderCache | None = None,
) -> list[DeskRow]:
    """The orders on the desk at ``now``, least time left first.

    A snapshot that does not translate is left out with a log line naming the order (the
    worker raises ORDER_UNREADABLE on that order itself). ``cache`` (kept by the caller
    between calls) saves parsing snapshots that have not changed.
    """
    found = sla_desk.desk_links(conn, _DESK_STATUS_TEXT, connection_id=connection_id)
    known: OrderCache = {} if cache is None else cache
    stale = [int(r.id) for r in found if known.get(int(r.id), (None, None))[0] != r.updated_at]
    for chunk in _chunks(stale):
        for snap in sla_desk.desk_snapshots(conn, chunk):
            known[int(snap.id)] = (snap.updated_at,
                                   _parsed(snap.tiktok_snapshot, snap.tiktok_order_id, snap.connection_id))
    if cache is not None:  # forget links that left the desk
        for gone in set(cache) - {int(r.id) for r in found}:
            del cache[gone]
    sent = _alerts_sent(conn, [int(r.id) for r in found])
    statuses = _threepl_statuses(conn, found)
    desk: list[DeskRow] = []
    for r in found:
        order = known.get(int(r.id), (None, None))[1]
        entry = None if order is None else desk_entry(order, calendar, now)
        if entry is None:
            continue
        desk.append(DeskRow(
            link_id=int(r.id), connection_id=int(r.connection_id), connection=str(r.name),
            tiktok_order_id=str(r.tiktok_order_id), shopify_order_name=r.shopify_order_name,
            link_state=str(r.state), entry=entry, alerts_sent=sent.get(int(r.id), ()),
            threepl_status=statuses.get(int(r.id), THREEPL_UNKNOWN),
        ))
    desk.sort(key=_sort_key)
    return desk


def desk_entries(conn: Connection, calendar: BusinessCalendar, now: datetime,
                 link_ids: list[int]) -> dict[int, DeskEntry]:
    """The desk entries of those of ``link_ids`` that are on the desk (a page of the order
    list: its time left to dispatch), by link id."""
    out: dict[int, DeskEntry] = {}
    for chunk in _chunks(link_ids):
        for r in sla_desk.desk_snapshots(conn, chunk, _DESK_STATUS_TEXT):
            order = _parsed(r.tiktok_snapshot, r.tiktok_order_id, r.connection_id)
            entry = None if order is None else desk_entry(order, calendar, now)
            if entry is not None:
                out[int(r.id)] = entry
    return out


def _threepl_statuses(conn: Connection, found: Sequence[Any]) -> dict[int, str]:
    """Each link's 3PL order as the 3PL last said (``amazon_mcf Planning``), by link id:
    the one under its earliest reference, whichever 3PL (engine/threepl)."""
    refs = {int(r.id): candidate_references(str(r.tiktok_order_id), r.shopify_order_id, r.shopify_order_name)
            for r in found}
    by_connection: dict[int, list[str]] = {}
    for r in found:
        by_connection.setdefault(int(r.connection_id), []).extend(refs[int(r.id)])
    out: dict[int, str] = {}
    for cid, wanted in by_connection.items():
        views = [v for chunk in _chunks(wanted) for v in load_candidates(conn, cid, chunk)]
        if not views:
            continue
        for r in found:
            if int(r.connection_id) != cid:
                continue
            picked = select_threepl(views, None, refs[int(r.id)])
            if picked is not None and picked.provider:
                out[int(r.id)] = f"{picked.provider} {picked.status or '?'}"
    return out


def _parsed(snapshot: Any, tiktok_order_id: str, connection_id: int) -> TikTokOrder | None:
    try:
        return _domain_order(snapshot)
    except (ValidationError, TranslationError, ValueError) as exc:
        slog.warning("sla_desk_unreadable", tiktok_order_id=tiktok_order_id,
                     connection_id=connection_id, error=str(exc)[:300])
        return None


def _chunks(ids: list[_T]) -> Iterator[list[_T]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start:start + _CHUNK]


def _alerts_sent(conn: Connection, link_ids: list[int]) -> dict[int, tuple[str, ...]]:
    found: dict[int, list[str]] = {}
    for chunk in _chunks(link_ids):
        for link_id, threshold in alerts.thresholds_sent(conn, chunk):
            found.setdefault(int(link_id), []).append(str(threshold))
    return {k: tuple(v) for k, v in found.items()}


def _deadline_json(deadline: Deadline | None) -> dict[str, Any] | None:
    if deadline is None:
        return None
    return {"at": deadline.at, "source": deadline.source.value}


def _seconds(value: timedelta | None) -> int | None:
    return None if value is None else int(value.total_seconds())


def desk_json(row: DeskRow) -> dict[str, Any]:
    """One desk row as JSON (``orderbridge sla --json`` and ``GET /api/sla``)."""
    e = row.entry
    return {
        "tiktok_order_id": row.tiktok_order_id,
        "connection": row.connection,
        "shopify_order_name": row.shopify_order_name,
        "tiktok_status": e.status.value,
        "desk_state": e.state.value,
        "link_state": row.link_state,
        "threepl_status": row.threepl_status,
        "business_seconds_left": _seconds(e.business_left),
        "seconds_left": _seconds(e.left),
        "breached": e.breached,
        "dispatch_deadline": _deadline_json(e.deadlines.dispatch),
        "carrier_scan_deadline": _deadline_json(e.deadlines.carrier_scan),
        "delivery_deadline": _deadline_json(e.deadlines.delivery),
        "delivery_option": None if e.delivery_option is None else e.delivery_option.value,
        "auto_cancel_deadline": _deadline_json(e.deadlines.auto_cancel),
        "alerts_sent": list(row.alerts_sent),
    }
