"""When the stored Shopify snapshot may stand in for a read of the order (issue 14).

A released order the merchant fulfils causes a train of webhooks: Shopify's
``fulfillments/create`` and ``orders/updated``, then, once the engine pushed the tracking,
TikTok's status change and package update; the engine also decides again at once after the
push. Each used to make a pass with a full read of the Shopify order (~170 points per
fulfilled order, more than the Standard plan restores under a real mix). Only Shopify can
tell the engine news about the Shopify order, so:

- the web intake counts every Shopify webhook that names the order (``shopify_hints``; it
  never touches the lease or the version);
- a pass that read the order (after its claim, which returned the count) and wrote nothing
  to Shopify saves the count its read covers (``shopify_seen_hints``) and until when the
  snapshot may stand in for a read: the decision's own timer (``shopify_fresh_until``);
- the next pass of a released order decides on the stored snapshot when no Shopify hint
  was counted since and that timer has not come: a TikTok-only change (or the re-decision
  after a TikTok-only action) costs no Shopify read. If that decision wants to act on
  anything but fetching TikTok's provider list, the pass reads the order first and decides
  again, so no write, and no push of tracking, rests on a snapshot read in an earlier pass.

A Shopify webhook that arrives during a pass is counted after the claim: the next pass
reads. A lost Shopify webhook is noticed at the decision's timer (the periodic re-check),
as before. Any Shopify write (or 3PL action) by the engine clears the marker.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from orderbridge.adapters.db.links import LinkRow
from orderbridge.adapters.shopify.models import OrderSnapshot
from orderbridge.adapters.shopify.translate import to_order_view
from orderbridge.domain.actions import Action, FetchShippingProviders, Target
from orderbridge.domain.link import LinkMemory, LinkState
from orderbridge.engine.observe import LinkTruth, cancel_job_pending

__all__ = ["STANDING_STATES", "decidable_on_snapshot", "fresh_marker", "snapshot_stands", "stored_view",
           "touches_shopify"]

# States in which a pass may decide on the stored snapshot: after the release the merchant
# ships, and the engine's part is TikTok's (tracking) unless a cancellation comes.
STANDING_STATES: Final = frozenset({LinkState.RELEASED})
# Actions a decision on the stored snapshot may run without reading the order first.
ON_SNAPSHOT: Final = (FetchShippingProviders,)
# The marker saved when the snapshot must not stand in for a read.
STALE: Final[dict[str, Any]] = {"shopify_seen_hints": None, "shopify_fresh_until": None}


def snapshot_stands(row: LinkRow, memory: LinkMemory, now: datetime) -> bool:
    """Whether this pass (``row`` as claimed) may decide on the stored snapshot."""
    return (
        memory.state in STANDING_STATES
        and row.shopify_snapshot is not None
        and row.shopify_seen_hints is not None
        and row.shopify_seen_hints == row.shopify_hints
        and row.shopify_fresh_until is not None
        and now < row.shopify_fresh_until
    )


def stored_view(truth: LinkTruth, snapshot: Mapping[str, Any], memory: LinkMemory, *,
                hold_handle: str, now: datetime) -> bool:
    """Put the stored snapshot's view into ``truth``; False if it cannot be understood
    (the pass then reads the order)."""
    try:
        truth.shopify = to_order_view(
            OrderSnapshot.from_raw(dict(snapshot)),
            our_app_holds_handle=hold_handle,
            cancel_job_pending=cancel_job_pending(memory, now),
        )
    except Exception:
        truth.shopify = None
        return False
    return True


def decidable_on_snapshot(actions: Sequence[Action]) -> bool:
    """Whether a decision made on the stored snapshot may be carried out as it is."""
    return all(isinstance(action, ON_SNAPSHOT) for action in actions)


def touches_shopify(actions: Sequence[Action]) -> bool:
    """Whether any of these actions may change the Shopify order (a 3PL's too)."""
    return any(action.target is not Target.TIKTOK for action in actions)


def fresh_marker(claimed: LinkRow, *, read: bool, actions: Sequence[Action],
                 decided_due: datetime | None) -> dict[str, Any]:
    """The marker to save after a pass that ``read`` the order (successfully) or not.

    ``claimed`` is the row as the claim returned it: its hint count is what a read made
    after the claim covers.
    """
    if not read or touches_shopify(actions) or decided_due is None:
        return dict(STALE)
    return {"shopify_seen_hints": claimed.shopify_hints, "shopify_fresh_until": decided_due}
