"""What one link's turn hands to ``decide()`` and to the executor (see ``link_work.py``).

``observed_for`` builds the ``Observed`` of a link from its fetched truth, its SKU
resolutions, the connection's shipping providers and its 3PL order; ``execute_action`` runs
one action through the connection's ``ActionExecutor``, turning an unexpected failure into
an ``UNKNOWN`` outcome (the next decision checks what happened) and letting ``AuthError``
through to the connection.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from orderbridge.adapters.threepl_lookup import ThreePLHandle
from orderbridge.domain.actions import Action
from orderbridge.domain.link import LinkMemory
from orderbridge.domain.observed import Observed, ShippingProviders, SkuResolution
from orderbridge.domain.outcome import Outcome, OutcomeStatus
from orderbridge.engine.executor.core import ExecutionContext
from orderbridge.engine.observe import LinkTruth
from orderbridge.engine.passes import ConnectionRuntime
from orderbridge.engine.threepl.lookup import pick
from orderbridge.errors import AuthError

__all__ = ["execute_action", "observed_for", "shipping_providers"]

log = logging.getLogger(__name__)


def observed_for(runtime: ConnectionRuntime, truth: LinkTruth,
                 skus: Mapping[str, SkuResolution]) -> Observed:
    """The ``Observed`` of a link whose TikTok order was read (``truth.order`` is set)."""
    order = truth.order
    assert order is not None
    return Observed(
        tiktok=order,
        cancellations=truth.cancellations,
        returns=truth.returns,
        shopify=truth.shopify,
        skus={item.sku_id: skus[item.sku_id] for item in order.line_items if item.sku_id in skus},
        providers=shipping_providers(runtime),
        threepl=pick(runtime.policy, order.id, truth.shopify, truth.threepl_candidates),
    )


def shipping_providers(runtime: ConnectionRuntime) -> ShippingProviders:
    """A copy of the shipping providers the connection's executor has cached (none yet: {})."""
    cache = getattr(runtime.executor, "providers", None)
    if cache is None:
        return {}
    snapshot: ShippingProviders = dict(cache)
    return snapshot


async def execute_action(
    runtime: ConnectionRuntime, action: Action, order: Any, truth: LinkTruth, memory: LinkMemory,
    *, now: Callable[[], datetime], on_created: Callable[[dict[str, Any]], None],
    threepl: ThreePLHandle | None = None,
) -> Outcome:
    """Run ``action`` for one link; an unexpected failure is an ``UNKNOWN`` outcome."""
    ctx = ExecutionContext(
        tiktok=runtime.tiktok,
        shopify=runtime.shopify,
        policy=runtime.policy,
        location_id=runtime.connection.shopify_location_id,
        order=order,
        view=truth.shopify,
        memory=memory,
        now=now,
        on_created=on_created,
        threepl=threepl,
    )
    try:
        return await runtime.executor.execute(action, ctx)
    except AuthError:
        raise
    except Exception as exc:  # unknown outcome: the next decision checks
        log.exception("action %s failed unexpectedly", action.kind.value)
        return Outcome(status=OutcomeStatus.UNKNOWN, at=now(),
                       message=f"unexpected {type(exc).__name__}: {exc}")
