"""``GET /api/sla``: the SLA desk as JSON (the same rows as ``orderbridge sla --json``).

Private like the rest of ``/api``: a viewer's token (``security.py``), and only the orders of
the connections the token's user may see.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from orderbridge.adapters.db import run_sync, transaction
from orderbridge.adapters.db.grants import in_scope, scope_of
from orderbridge.adapters.db.operators import Role
from orderbridge.engine.ports import Process
from orderbridge.engine.sla_desk import desk_json, read_desk
from orderbridge.web.api import DEFAULT_LIMIT, MAX_LIMIT, ConnectionKey
from orderbridge.web.api import _resolve_connection as resolve_connection  # one lookup, one 404
from orderbridge.web.security import Authenticator

__all__ = ["router"]


def router(services: Process, auth: Authenticator) -> APIRouter:
    """The ``/api/sla`` route (viewers and up)."""
    r = APIRouter(prefix="/api", tags=["api"], dependencies=[Depends(auth.require(Role.VIEWER))])

    @r.get("/sla")
    async def sla_desk(
        request: Request, connection: ConnectionKey = None,
        limit: int = Query(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    ) -> list[dict[str, Any]]:
        """Orders to ship not yet scanned by the carrier, least business time left first: TikTok
        status, desk state, dispatch / carrier-scan / delivery / auto-cancel deadlines (TikTok's or
        computed in US business days), time left, 3PL status and the alerts already sent."""

        def read() -> list[dict[str, Any]]:
            with transaction(services.db, write=False) as conn:
                principal = getattr(request.state, "principal", None)
                scope = frozenset() if principal is None else scope_of(conn, principal)
                cid = None if connection is None else resolve_connection(conn, services, connection, scope).id
                rows = [row for row in read_desk(conn, services.sla_calendar, services.clock.now(), connection_id=cid)
                        if in_scope(scope, row.connection_id)]
            return [desk_json(row) for row in rows[:limit]]

        return await run_sync(services.db, read)

    return r
