"""The cancellation desk's ``ThreePLLocator`` from each connection's policy.

``engine/cancel_desk.py`` asks, for an order with a pending buyer request, which 3PL holds it
and under which reference: here the same answer the tracking path uses (``domain/threepl``:
``route_to``, else the Shopify location in ``threepl_locations``; the reference of policy
``threepl_reference``, or the TikTok order id for orders ``route_to`` sent), with the
process's 3PL client for that 3PL. A connection whose policy names no 3PL, or a 3PL without
an account, gets ``None`` (the desk then treats the order as Shopify's only).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from orderbridge.adapters.threepl_lookup import ThreePLHandle
from orderbridge.domain.observed import ShopifyOrderView
from orderbridge.domain.order import TikTokOrder
from orderbridge.domain.policy import Policy, RouteTo, ThreePL
from orderbridge.domain.threepl import holder, references
from orderbridge.engine.threepl.ports import ThreePLAccounts

__all__ = ["PolicyLocator"]


@dataclass(frozen=True, slots=True)
class PolicyLocator:
    """``ThreePLLocator`` by policy; ``policy_of`` gives a connection's policy (None: unknown)."""

    accounts: ThreePLAccounts
    policy_of: Callable[[int], Policy | None]

    def __call__(self, connection_id: int, order: TikTokOrder,
                 shopify: ShopifyOrderView | None) -> ThreePLHandle | None:
        policy = self.policy_of(connection_id)
        if policy is None:
            return None
        held_by = holder(policy, shopify)
        if held_by is None:
            return None
        client = self.accounts.amazon_mcf if held_by == ThreePL.AMAZON_MCF else self.accounts.shipbob
        if client is None:
            return None
        if policy.route_to is not RouteTo.NONE:
            return ThreePLHandle(client, order.id)
        refs = references(policy.threepl_reference, order.id, shopify)
        return ThreePLHandle(client, refs[0], tuple(refs[1:])) if refs else None
