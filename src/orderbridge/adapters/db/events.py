"""The timeline: every event, decision, action and API call, per order link."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields, is_dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from orderbridge.adapters import jsontext
from orderbridge.adapters.calls import ApiCall
from orderbridge.adapters.db._sql import row_dict
from orderbridge.adapters.db.tables import events as t
from orderbridge.adapters.db.types import EventKind

__all__ = ["EventRow", "api_call_entries", "append", "append_api_calls", "append_many", "entry", "recent", "timeline"]


@dataclass(frozen=True, slots=True)
class EventRow:
    """One timeline entry."""

    id: int
    link_id: int | None
    connection_id: int | None
    at: datetime
    kind: str
    summary: str
    data: dict[str, Any] | None
    remote_request_id: str | None
    duration_ms: int | None


def append(
    conn: Connection,
    link_id: int | None,
    kind: str,
    summary: str,
    data: dict[str, Any] | None = None,
    *,
    at: datetime,
    connection_id: int | None = None,
    remote_request_id: str | None = None,
    duration_ms: float | None = None,
) -> int:
    """Add an entry to a link's timeline (or a connection's, with ``link_id=None``)."""
    params = entry(link_id, kind, summary, data, at=at, connection_id=connection_id,
                   remote_request_id=remote_request_id, duration_ms=duration_ms)
    # One statement, values as parameters: compiled once and cached, not rebuilt per entry
    # (the timeline takes ~10 entries per order).
    pk = conn.execute(_INSERT, params).inserted_primary_key
    return int(pk[0]) if pk is not None else 0


def entry(
    link_id: int | None,
    kind: str,
    summary: str,
    data: dict[str, Any] | None = None,
    *,
    at: datetime,
    connection_id: int | None = None,
    remote_request_id: str | None = None,
    duration_ms: float | None = None,
) -> dict[str, Any]:
    """The row ``append`` would insert, for ``append_many``."""
    return {
        "link_id": link_id,
        "connection_id": connection_id,
        "at": at,
        "kind": str(kind),
        "summary": summary,
        "data": data,
        "remote_request_id": remote_request_id,
        "duration_ms": None if duration_ms is None else round(duration_ms),
    }


def append_many(conn: Connection, entries: Sequence[dict[str, Any]]) -> None:
    """Insert several timeline rows (``entry``, ``api_call_entries``) in one batched
    statement, in this order."""
    if entries:
        conn.execute(_INSERT, list(entries))


def api_call_entries(
    calls: Sequence[ApiCall], *, link_id: int | None, connection_id: int | None
) -> list[dict[str, Any]]:
    """The rows ``append_api_calls`` would insert, for ``append_many``."""
    return [_api_call_params(call, link_id, connection_id) for call in calls]


_INSERT = insert(t)


def append_api_calls(
    conn: Connection, calls: Sequence[ApiCall], *, link_id: int | None, connection_id: int | None
) -> None:
    """Record several ``ApiCall``s on the timeline in one batched statement."""
    if calls:
        conn.execute(_INSERT, [_api_call_params(call, link_id, connection_id) for call in calls])


def _api_call_params(call: ApiCall, link_id: int | None, connection_id: int | None) -> dict[str, Any]:
    outcome = "ok" if call.ok else f"failed ({call.code or call.status or 'no response'})"
    # Round-trip through JSON text: details may hold values JSON columns cannot take (as
    # text, like ``str()``). The call's fields are taken as they are, not deep-copied by
    # ``asdict`` first: a dataclass inside still becomes a dict (``_as_text``).
    data = jsontext.loads(jsontext.dumps_bytes({f: getattr(call, f) for f in _CALL_FIELDS}, default=_as_text))
    return {
        "link_id": link_id,
        "connection_id": connection_id,
        "at": call.started_at,
        "kind": str(EventKind.API_CALL),
        "summary": f"{call.api} {call.operation}: {outcome}",
        "data": data,
        "remote_request_id": call.request_id,
        "duration_ms": round(call.duration_ms),
    }


_CALL_FIELDS = tuple(f.name for f in fields(ApiCall))


def _as_text(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    return str(value)


def timeline(conn: Connection, link_id: int, *, limit: int | None = None) -> list[EventRow]:
    """A link's timeline, oldest first."""
    stmt = select(t).where(t.c.link_id == link_id).order_by(t.c.at, t.c.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [EventRow(**row_dict(r)) for r in conn.execute(stmt)]


def recent(
    conn: Connection, *, connection_id: int | None = None, limit: int = 100
) -> list[EventRow]:
    """The newest entries (all links, or one connection's), newest first."""
    stmt = select(t).order_by(t.c.at.desc(), t.c.id.desc()).limit(limit)
    if connection_id is not None:
        stmt = stmt.where(t.c.connection_id == connection_id)
    return [EventRow(**row_dict(r)) for r in conn.execute(stmt)]
