"""The JSON API for operators (OpenAPI at ``/docs``; every route is scoped by connection).

Reads: connections, orders (links) with their open exception codes, one order with its
memory, snapshots, exceptions and timeline, exceptions, SKU links. Writes: retry an order,
dismiss an exception, take an exception's action (an override in the link's memory, see
``overrides.py``), link a SKU. Every write makes the order due now: the worker does the rest.

Private (``security.py``): reads need a viewer's token, writes an operator's; each write
names its operator on the order's timeline. A viewer or operator sees and acts on only the
connections granted to them (``adapters/db/grants.py``; admins see all): anything of another
connection answers 404, as if it did not exist. Every input is bounded and shaped (ids are
digit strings or 64-bit integers, variants are Shopify gids) so that a bad one is a 4xx
problem, never a 500; a variant is looked up in Shopify before a SKU is linked to it.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from orderbridge.adapters.db import (
    Connection,
    ConnectionRow,
    EventKind,
    ExceptionStatus,
    LinkRow,
    Principal,
    Role,
    connections,
    events,
    links,
    orders,
    run_sync,
    sku_links,
    transaction,
)
from orderbridge.adapters.db.grants import Scope, in_scope, scope_of
from orderbridge.engine.ports import Clients
from orderbridge.engine.skus import VariantMissing, catalogue, link_sku_checked
from orderbridge.errors import ConfigurationError, OrderBridgeError
from orderbridge.web.overrides import LinkBusy, OverrideRefused, act_on_exception, apply_override
from orderbridge.web.security import Authenticator

__all__ = ["ActionBody", "SkuLinkBody", "router"]

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_DB_ID: Final = 2**63 - 1  # ids are 64-bit signed integers in the database
TIKTOK_ORDER_ID: Final = r"^[0-9]{1,32}$"
CODE: Final = r"^[A-Za-z_]{1,64}$"  # states, exception codes, statuses
NAME_MAX: Final = 200
VARIANT_GID: Final = r"^gid://shopify/ProductVariant/[1-9][0-9]{0,19}$"
# Printable text on one line: no control characters (they end up in logs and Shopify notes).
ONE_LINE: Final = r"^[^\x00-\x1f\x7f]*$"

OrderId = Annotated[str, Path(pattern=TIKTOK_ORDER_ID, description="the TikTok order id (digits)")]
ExceptionId = Annotated[int, Path(ge=1, le=MAX_DB_ID)]
ConnectionKey = Annotated[str | None, Query(min_length=1, max_length=NAME_MAX, pattern=ONE_LINE,
                                             description="connection name or id")]
Code = Annotated[str | None, Query(pattern=CODE)]


class ActionBody(BaseModel):
    """An operator's choice on an exception."""

    model_config = ConfigDict(extra="forbid")

    action: str = Field(max_length=32, pattern=CODE,
                        description="push_anyway | approve | cancel_on_tiktok | dismiss | retry")
    reason: str | None = Field(default=None, max_length=500, pattern=ONE_LINE,
                               description="for cancel_on_tiktok: the reason sent to TikTok")


class SkuLinkBody(BaseModel):
    """An explicit SKU link."""

    model_config = ConfigDict(extra="forbid")

    connection: str = Field(min_length=1, max_length=NAME_MAX, pattern=ONE_LINE,
                            description="connection name or id")
    tiktok_sku: str = Field(min_length=1, max_length=255, pattern=ONE_LINE,
                            description="TikTok SKU id, or a seller SKU (links every TikTok SKU with it)")
    variant_id: str = Field(pattern=VARIANT_GID, description="Shopify variant gid: gid://shopify/ProductVariant/<digits>")


def _connection_json(row: ConnectionRow) -> dict[str, Any]:
    return {
        "id": row.id, "name": row.name, "status": row.status,
        "tiktok_shop_id": row.tiktok_shop_id, "tiktok_shop_name": row.tiktok_shop_name,
        "tiktok_connected": bool(row.tiktok_access_token),
        "tiktok_access_token_expires_at": row.tiktok_access_token_expires_at,
        "tiktok_refresh_token_expires_at": row.tiktok_refresh_token_expires_at,
        "shopify_domain": row.shopify_domain, "shopify_connected": bool(row.shopify_token),
        "shopify_scopes": list(row.shopify_scopes), "shopify_location_id": row.shopify_location_id,
        "policy": row.policy, "created_at": row.created_at, "updated_at": row.updated_at,
    }


def _link_summary(link: LinkRow, codes: list[str]) -> dict[str, Any]:
    return {
        "id": link.id, "connection_id": link.connection_id, "tiktok_order_id": link.tiktok_order_id,
        "state": link.state, "tiktok_status": link.tiktok_status,
        "shopify_order_id": link.shopify_order_id, "shopify_order_name": link.shopify_order_name,
        "next_due_at": link.next_due_at, "attempts": link.attempts, "last_error": link.last_error,
        "first_seen_at": link.first_seen_at, "updated_at": link.updated_at,
        "open_exceptions": codes,
    }


def _resolve_connection(conn: Connection, services: Clients, key: str, scope: Scope = None) -> ConnectionRow:
    row = connections.find_connection(conn, services.cipher, name=key)
    if row is None and key.isdigit() and int(key) <= MAX_DB_ID:
        row = connections.get_connection(conn, services.cipher, int(key))
    if row is None or not in_scope(scope, row.id):
        raise HTTPException(404, f"no connection {key!r}")
    return row


def _find_order(conn: Connection, services: Clients, tiktok_order_id: str, connection: str | None,
                scope: Scope = None) -> LinkRow:
    cid = None if connection is None else _resolve_connection(conn, services, connection, scope).id
    ids = orders.ids_of_tiktok_order(conn, tiktok_order_id, connection_id=cid, limit=2, scope=scope)
    if not ids:
        raise HTTPException(404, f"no order {tiktok_order_id}")
    if len(ids) > 1:
        raise HTTPException(409, f"order {tiktok_order_id} exists on several connections: add ?connection=")
    link = links.get_link(conn, int(ids[0]))
    assert link is not None
    return link


def router(services: Clients, auth: Authenticator) -> APIRouter:
    """The ``/api`` routes: reads for viewers, writes for operators (and admins)."""
    r = APIRouter(prefix="/api", tags=["api"], dependencies=[Depends(auth.require(Role.VIEWER))])
    operator = Depends(auth.require(Role.OPERATOR))

    async def visible(request: Request) -> Scope:
        """The connections the caller may see (the router's token check ran first)."""
        principal: Principal | None = getattr(request.state, "principal", None)
        if principal is None:
            return frozenset()

        def read() -> Scope:
            with transaction(services.db, write=False) as conn:
                return scope_of(conn, principal)

        return await run_sync(services.db, read)

    seen = Depends(visible)

    @r.get("/connections")
    def list_connections(scope: Scope = seen) -> list[dict[str, Any]]:
        """Every connection the caller may see (no tokens): shops, status, scopes, token expiry, policy."""
        with transaction(services.db, write=False) as conn:
            return [_connection_json(c) for c in connections.list_connections(conn, services.cipher)
                    if in_scope(scope, c.id)]

    @r.get("/orders")
    def list_orders(
        connection: ConnectionKey = None, state: Code = None,
        exception: Annotated[str | None, Query(pattern=CODE,
                                               description="only orders with this open exception code")] = None,
        limit: int = Query(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT), scope: Scope = seen,
    ) -> list[dict[str, Any]]:
        """Order links, newest first: state, TikTok status, Shopify name, next due, open exceptions."""
        with transaction(services.db, write=False) as conn:
            cid = None if connection is None else _resolve_connection(conn, services, connection, scope).id
            ids = orders.order_ids(conn, limit=limit, connection_id=cid, state=state, open_code=exception,
                                   scope=scope)
            codes = orders.open_codes(conn, ids)
            rows = [links.get_link(conn, i) for i in ids]
            return [_link_summary(link, codes[link.id]) for link in rows if link is not None]

    @r.get("/orders/{tiktok_order_id}")
    def get_order(tiktok_order_id: OrderId, connection: ConnectionKey = None, scope: Scope = seen) -> dict[str, Any]:
        """One order: the link, its memory, snapshots, every exception and the full timeline."""
        with transaction(services.db, write=False) as conn:
            link = _find_order(conn, services, tiktok_order_id, connection, scope)
            exc_rows = orders.exceptions_of(conn, [link.id])
            return {
                **_link_summary(link, orders.open_codes(conn, [link.id])[link.id]),
                "memory": link.memory, "tiktok_snapshot": link.tiktok_snapshot,
                "shopify_snapshot": link.shopify_snapshot, "lease_owner": link.lease_owner,
                "lease_expires_at": link.lease_expires_at, "version": link.version,
                "exceptions": [asdict(e) for e in exc_rows],
                "timeline": [asdict(e) for e in events.timeline(conn, link.id)],
            }

    @r.get("/exceptions")
    def list_exceptions(
        status: Annotated[str, Query(pattern=CODE)] = ExceptionStatus.OPEN.value,
        connection: ConnectionKey = None, code: Code = None,
        limit: int = Query(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT), scope: Scope = seen,
    ) -> list[dict[str, Any]]:
        """Exceptions (open by default), oldest first, with their order."""
        with transaction(services.db, write=False) as conn:
            cid = None if connection is None else _resolve_connection(conn, services, connection, scope).id
            return orders.exceptions_with_orders(conn, status=status, limit=limit, connection_id=cid, code=code,
                                                 scope=scope)

    @r.post("/orders/{tiktok_order_id}/retry")
    def retry_order(tiktok_order_id: OrderId, who: Principal = operator, connection: ConnectionKey = None,
                    scope: Scope = seen) -> dict[str, Any]:
        """Make the order due now; refused actions are tried again (memory ``retry``) unless a
        worker holds it right now (then it is only made due)."""
        now = services.clock.now()
        with transaction(services.db) as conn:
            link = _find_order(conn, services, tiktok_order_id, connection, scope)
            try:
                apply_override(conn, link, action="retry", code="", change=lambda m: m.retry(), now=now,
                               by=who.name)
            except LinkBusy:
                links.count_shopify_hints(conn, [link.id])  # a person's retry looks afresh
                links.mark_due(conn, now, ids=[link.id])
                events.append(conn, link.id, EventKind.EVENT, f"operator: retry (order due now; by {who.name})",
                              {"by": who.name}, at=now, connection_id=link.connection_id)
            fresh = links.get_link(conn, link.id)
            assert fresh is not None
            return _link_summary(fresh, orders.open_codes(conn, [link.id])[link.id])

    def _act(exception_id: int, action: str, reason: str | None, who: Principal, scope: Scope) -> dict[str, Any]:
        now = services.clock.now()
        with transaction(services.db) as conn:
            try:
                exc, link = act_on_exception(conn, exception_id, action, reason, now=now, by=who.name, within=scope)
            except LookupError as err:
                raise HTTPException(404, str(err)) from None
            except OverrideRefused as err:
                raise HTTPException(400, str(err)) from None
            except LinkBusy as err:
                raise HTTPException(409, str(err)) from None
            return {"exception": asdict(exc), "order": link.tiktok_order_id, "action": action, "due_at": now}

    @r.post("/exceptions/{exception_id}/dismiss")
    def dismiss_exception(exception_id: ExceptionId, who: Principal = operator, scope: Scope = seen
                          ) -> dict[str, Any]:
        """Dismiss an exception: it is closed, and ``decide()`` stops raising its code on the order."""
        return _act(exception_id, "dismiss", None, who, scope)

    @r.post("/exceptions/{exception_id}/action")
    def exception_action(exception_id: ExceptionId, body: ActionBody, who: Principal = operator,
                         scope: Scope = seen) -> dict[str, Any]:
        """Take an exception's action (push_anyway, approve, cancel_on_tiktok, dismiss, retry):
        recorded in the link's memory (read by ``decide()``) and on its timeline; order due now."""
        return _act(exception_id, body.action, body.reason, who, scope)

    @r.get("/sku-links")
    def list_sku_links(
        connection: Annotated[str, Query(min_length=1, max_length=NAME_MAX, pattern=ONE_LINE)],
        scope: Scope = seen,
    ) -> dict[str, Any]:
        """A connection's SKU links and every imported TikTok SKU with how it resolves now."""
        with transaction(services.db, write=False) as conn:
            row = _resolve_connection(conn, services, connection, scope)
            return {
                "links": [asdict(x) for x in sku_links.list_sku_links(conn, row.id)],
                "tiktok_skus": [{"sku_id": s.sku_id, "seller_sku": s.seller_sku, "title": s.title,
                                 "state": s.resolution.state.value, "variant_id": s.resolution.variant_id,
                                 "candidates": list(s.resolution.candidates)}
                                for s in catalogue(conn, row.id)],
            }

    @r.post("/sku-links")
    async def create_sku_link(body: SkuLinkBody, who: Principal = operator, scope: Scope = seen) -> dict[str, Any]:
        """Link a TikTok SKU to a variant explicitly, once Shopify confirms the variant exists;
        orders waiting on it resume by themselves."""

        def resolve() -> ConnectionRow:
            with transaction(services.db, write=False) as conn:
                return _resolve_connection(conn, services, body.connection, scope)

        row = await run_sync(services.db, resolve)
        try:
            report = await link_sku_checked(services, row, body.tiktok_sku, body.variant_id, by=who.name)
        except VariantMissing as err:
            raise HTTPException(422, str(err)) from None
        except ConfigurationError as err:  # an unknown TikTok SKU, a connection without a token
            raise HTTPException(400, str(err)) from None
        except OrderBridgeError as err:
            raise HTTPException(502, f"could not ask Shopify whether the variant exists: {err}") from None
        return asdict(report)

    return r
