"""``/api/returns``: the seller's return queue (the rows of ``orderbridge returns --json``)
and the answers: ``POST /api/returns/{return_id}/approve`` and ``.../reject`` with a reason
from TikTok's list (``GET /api/returns/{return_id}/reasons``).

Private like the rest of ``/api``: viewers read, operators answer (``security.py``). The
router takes what it needs as callables (wired in ``app.py``); TikTok's refusals come back
as one clear problem, never a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from orderbridge.adapters.db.operators import Principal, Role
from orderbridge.errors import ConfigurationError, NotFound, OrderBridgeError, PermanentError
from orderbridge.web.api import ConnectionKey
from orderbridge.web.security import Authenticator

__all__ = ["ReturnsRoutes", "router"]

log = logging.getLogger(__name__)
ReturnId = Annotated[str, Path(pattern=r"^[0-9A-Za-z_-]{1,64}$")]


class ReturnsRoutes(BaseModel):
    """What the routes call: the queue and windows, the reasons, and one answer."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    # Each takes the caller last: only the connections it may see are read or answered for.
    queue: Callable[[str | None, Principal | None], Awaitable[dict[str, Any]]]
    reasons: Callable[[str, str | None, Principal | None], Awaitable[list[dict[str, str]]]]
    answer: Callable[[str, str | None, bool, str, Principal], Awaitable[dict[str, Any]]]


class RejectBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=200)


async def _guard(work: Awaitable[Any], what: str) -> Any:
    try:
        return await work
    except ConfigurationError as exc:
        raise HTTPException(409, str(exc)) from None
    except LookupError as exc:  # no such connection among the caller's
        raise HTTPException(404, str(exc)) from None
    except NotFound as exc:  # TikTok has no such return for this shop
        raise HTTPException(404, f"TikTok: {exc}") from None
    except PermanentError as exc:  # TikTok refused: the request's state allows no such answer
        raise HTTPException(409, f"TikTok: {exc}") from None
    except OrderBridgeError as exc:  # TikTok unreachable or busy: try again later
        log.warning("returns api: %s failed: %s", what, exc)
        raise HTTPException(503, f"TikTok did not answer, try again: {exc}") from None


def _caller(request: Request) -> Principal | None:
    """Who is asking (the router's token check put it on the request)."""
    found: Principal | None = getattr(request.state, "principal", None)
    return found


def router(routes: ReturnsRoutes, auth: Authenticator) -> APIRouter:
    r = APIRouter(prefix="/api", tags=["api"], dependencies=[Depends(auth.require(Role.VIEWER))])
    operator = Depends(auth.require(Role.OPERATOR))

    @r.get("/returns")
    async def returns_queue(request: Request, connection: ConnectionKey = None) -> dict[str, Any]:
        """``needs_seller``: requests waiting for the seller, soonest deadline first (TikTok
        approves for the buyer at the deadline); ``return_windows``: delivered orders inside
        their 30-day return window, with the date it closes."""
        result: dict[str, Any] = await _guard(routes.queue(connection, _caller(request)), "queue")
        return result

    @r.get("/returns/{return_id}/reasons")
    async def reject_reasons(request: Request, return_id: ReturnId,
                             connection: ConnectionKey = None) -> list[dict[str, str]]:
        """TikTok's reject reasons for this request (``name`` goes in the reject body)."""
        result: list[dict[str, str]] = await _guard(routes.reasons(return_id, connection, _caller(request)), "reasons")
        return result

    @r.post("/returns/{return_id}/approve")
    async def approve_return(return_id: ReturnId, who: Principal = operator,
                             connection: ConnectionKey = None) -> dict[str, Any]:
        """Approve with the decision the request's state calls for."""
        result: dict[str, Any] = await _guard(routes.answer(return_id, connection, True, "", who), "approve")
        return result

    @r.post("/returns/{return_id}/reject")
    async def reject_return(return_id: ReturnId, body: RejectBody, who: Principal = operator,
                            connection: ConnectionKey = None) -> dict[str, Any]:
        """Reject with one of TikTok's reasons for it (409 naming them otherwise)."""
        result: dict[str, Any] = await _guard(
            routes.answer(return_id, connection, False, body.reason, who), "reject")
        return result

    return r
