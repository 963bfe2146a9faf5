"""Per-request context handed to every resolver, and the GraphQL errors Shopify gives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo

from orderbridge.sandbox.shopify.order_records import Fulfillment, Order, Refund
from orderbridge.sandbox.shopify.state import App, Shop, Token, World

__all__ = ["Ctx", "Runtime", "ctx_of", "require_scope"]

ACCESS_SCOPES_DOC = "https://shopify.dev/api/usage/access-scopes"


class Runtime:
    """What resolvers may do besides changing the world: schedule work and send webhooks."""

    def now(self) -> datetime:
        raise NotImplementedError

    def schedule(self, delay: timedelta, callback: Callable[[], None], name: str) -> None:
        raise NotImplementedError

    def emit(self, shop: str, topic: str, body: dict[str, Any], event_id: str | None = None) -> None:
        raise NotImplementedError

    def order_event(self, order: Order, topic: str) -> None:
        raise NotImplementedError

    def fulfillment_event(self, order: Order, fulfillment: Fulfillment, topic: str) -> None:
        raise NotImplementedError

    def refund_event(self, order: Order, refund: Refund) -> None:
        raise NotImplementedError


@dataclass
class Ctx:
    world: World
    shop: Shop
    token: Token
    app: App
    now: datetime
    runtime: Runtime
    request_id: str
    idempotency_key: str | None = None
    notes: list[str] = field(default_factory=list)

    def has(self, *scopes: str) -> bool:
        """Whether the token holds any of ``scopes``."""
        return any(s in self.token.scopes for s in scopes)


def ctx_of(info: GraphQLResolveInfo[Any]) -> Ctx:
    ctx = info.context
    assert isinstance(ctx, Ctx)
    return ctx


def require_scope(info: GraphQLResolveInfo[Any], *scopes: str) -> Ctx:
    """Raise Shopify's ACCESS_DENIED unless the token holds one of ``scopes``."""
    ctx = ctx_of(info)
    if not ctx.has(*scopes):
        wanted = " or ".join(f"`{s}` access scope" for s in scopes)
        raise GraphQLError(
            f"Access denied for {info.field_name} field. Required access: {wanted}.",
            extensions={"code": "ACCESS_DENIED", "documentation": ACCESS_SCOPES_DOC,
                        "requiredAccess": f"{wanted}."},
        )
    return ctx
