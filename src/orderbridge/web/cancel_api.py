"""``/api/cancellations``: the cancellation desk as JSON, and a person's approval.

- ``GET /api/cancellations`` (viewers): every pending buyer cancellation request, nearest
  TikTok deadline first (the same rows as ``orderbridge cancellations --json``).
- ``POST /api/cancellations/{tiktok_order_id}/approve`` (operators), body
  ``{"cancel_downstream": bool}``: the approval is written into the order's memory (a
  timeline entry names the operator) and the order made due; the engine then stops the goods
  (3PL, Shopify) and approves on TikTok, in that order. 404 when the order has no pending
  request, 409 when the approval does not apply (``engine/cancel_desk.check_approval``: the
  goods cannot be stopped, or stopping them needs ``cancel_downstream``) or a worker holds
  the order right now. Errors are problem details like every ``/api`` route.

``approve_request`` is shared with the command (``orderbridge cancellations approve``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from orderbridge.adapters.db import links, run_sync, transaction
from orderbridge.adapters.db.cancel_desk import DbConnection, DbEngine
from orderbridge.adapters.db.grants import in_scope, scope_of
from orderbridge.adapters.db.operators import Principal, Role
from orderbridge.domain.exceptions import IssueAction
from orderbridge.engine.cancel_desk import (
    ApprovalRefused,
    DeskItem,
    check_approval,
    desk_json,
    read_cancel_desk,
)
from orderbridge.web.api import DEFAULT_LIMIT, MAX_LIMIT, ConnectionKey, OrderId
from orderbridge.web.overrides import LinkBusy, apply_override
from orderbridge.web.security import Authenticator

__all__ = ["ApproveBody", "approve_request", "router"]

# (connection, key) -> the connection's id; raises HTTPException(404) for an unknown one.
ConnectionResolver = Callable[[DbConnection, str], int]


class ApproveBody(BaseModel):
    """A person's approval of a buyer's cancellation request."""

    model_config = ConfigDict(extra="forbid")

    cancel_downstream: bool = Field(
        default=False, description="let OrderBridge cancel at the 3PL (and ask a fulfilment service through "
                                   "Shopify) before approving; required when the order is at one")


def approve_request(conn: DbConnection, tiktok_order_id: str, *, connection_id: int | None,
                    cancel_downstream: bool, now: datetime, by: str) -> DeskItem:
    """Record a person's approval of the order's pending request (see the module docstring).

    Raises ``LookupError`` (no pending request), ``ApprovalRefused`` and ``LinkBusy``."""
    items = read_cancel_desk(conn, connection_id=connection_id, tiktok_order_id=tiktok_order_id)
    if not items:
        raise LookupError(f"order {tiktok_order_id} has no pending buyer cancellation request")
    if len({i.record.connection_id for i in items}) > 1:
        raise ApprovalRefused(f"order {tiktok_order_id} exists on several connections: name the connection")
    [item] = items[:1]
    check_approval(item, cancel_downstream=cancel_downstream)
    link = links.get_link(conn, item.record.link_id)
    if link is None:  # pragma: no cover - the join just found it
        raise LookupError(f"order {tiktok_order_id} is gone")
    cancel_id = item.cancel_id
    how = "approve (cancel downstream first)" if cancel_downstream else "approve"
    apply_override(conn, link, action=IssueAction.APPROVE.value, code=item.record.code,
                   change=lambda m: m.approve_cancellation(cancel_id), now=now, by=f"{by}: {how}")
    return item


def router(db: DbEngine, clock: Callable[[], datetime], auth: Authenticator,
           connection_id_of: ConnectionResolver) -> APIRouter:
    """The desk's routes: the list for viewers, the approval for operators."""
    r = APIRouter(prefix="/api", tags=["api"], dependencies=[Depends(auth.require(Role.VIEWER))])
    operator = Depends(auth.require(Role.OPERATOR))

    @r.get("/cancellations")
    async def cancellation_desk(
        request: Request, connection: ConnectionKey = None,
        limit: int = Query(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    ) -> list[dict[str, Any]]:
        """Pending buyer cancellation requests, nearest TikTok deadline first: the order, TikTok's
        deadline to answer, desk state (awaiting_person, stopping, blocked), whether the goods can
        still be stopped and why not, the steps stopping takes, the 3PL order and its status."""

        def read() -> list[dict[str, Any]]:
            with transaction(db, write=False) as conn:
                principal = getattr(request.state, "principal", None)
                scope = frozenset() if principal is None else scope_of(conn, principal)
                cid = None if connection is None else connection_id_of(conn, connection)
                items = [i for i in read_cancel_desk(conn, connection_id=cid)
                         if in_scope(scope, i.record.connection_id)]  # only the connections the caller may see
            now = clock()
            return [desk_json(item, now) for item in items[:limit]]

        return await run_sync(db, read)

    @r.post("/cancellations/{tiktok_order_id}/approve")
    async def approve_cancellation(
        tiktok_order_id: OrderId, body: ApproveBody | None = None, who: Principal = operator,
        connection: ConnectionKey = None,
    ) -> dict[str, Any]:
        """Approve the buyer's request: OrderBridge stops the goods (3PL with ``cancel_downstream``,
        then Shopify, restocked) and approves on TikTok; never approves first. TikTok's Reject is
        retired for US sellers: to refuse, ship the order (its tracking rejects the request)."""
        choice = body or ApproveBody()

        def write() -> dict[str, Any]:
            now = clock()
            with transaction(db) as conn:
                cid = None if connection is None else connection_id_of(conn, connection)
                scope = scope_of(conn, who)
                visible = [i for i in read_cancel_desk(conn, connection_id=cid, tiktok_order_id=tiktok_order_id)
                           if in_scope(scope, i.record.connection_id)]
                if not visible:  # outside the caller's connections: 404, as if it did not exist
                    raise HTTPException(404, f"no pending cancellation request for order {tiktok_order_id}")
                cid = visible[0].record.connection_id
                try:
                    item = approve_request(conn, tiktok_order_id, connection_id=cid,
                                           cancel_downstream=choice.cancel_downstream, now=now, by=who.name)
                except LookupError as err:
                    raise HTTPException(404, str(err)) from None
                except (ApprovalRefused, LinkBusy) as err:
                    raise HTTPException(409, str(err)) from None
            return {**desk_json(item, now), "approved_by": who.name, "due_at": now.isoformat()}

        return await run_sync(db, write)

    return r
