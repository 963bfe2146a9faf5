"""When the stored Shopify snapshot may stand in for a read of the order (issue 14).

A released order the merchant fulfils causes a train of webhooks: Shopify's
``fulfillments/create`` and ``orders/updated``, then, once the engine pushed the tracking,
TikTok's status change and package update; the engine also decides again at once after the
push. Each used to make a pass with a full read of the Shopify order (~120 points per
fulfilled order, more than the Standard plan restores under a real mix). Only Shopify can
tell the engine news about the Shopify order, so:

- the web intake counts every Shopify webhook that names the order (``shopify_hints``; it
  never touches the lease or the version; a person's retry or override counts too);
- a pass that read the order (after its claim, which returned the count) and wrote nothing
  to Shopify saves the count its read covers (``shopify_seen_hints``) and until when the
  snapshot may stand in for a read (``shopify_fresh_until``: the periodic re-check);
- the next pass of a released order, or of a held one whose hold is on record, decides on
  the stored snapshot when no Shopify hint was counted since and that time has not come: a
  TikTok-only change, a poll or a timer costs no Shopify read. If that decision wants to
  act on anything but fetching TikTok's provider list, the pass reads the order first and
  decides again, so no write, and no push of tracking, rests on an earlier pass's read;
- after the engine's own holds (and no hint), the next read asks for the fulfilment orders
  only (``shopify_read.lean_hold_read``); after any other Shopify (or 3PL) write, the whole order.

A Shopify webhook that arrives during a pass is counted after the claim: the next pass
reads. A lost Shopify webhook is noticed at the periodic re-check, as before.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from orderbridge.adapters.db.links import LinkRow
from orderbridge.adapters.shopify.models import OrderSnapshot
from orderbridge.adapters.shopify.translate import to_order_view
from orderbridge.domain.actions import Action, FetchShippingProviders, PlaceHold, Target
from orderbridge.domain.decide.core import Decision
from orderbridge.domain.link import LinkMemory, LinkState
from orderbridge.engine.observe import LinkTruth

__all__ = [
    "STANDING_STATES",
    "Decided",
    "after_own_holds",
    "decidable_on_snapshot",
    "decide_on_shopify",
    "fresh_marker",
    "no_later_than",
    "snapshot_stands",
    "stored_view",
    "touches_shopify",
]

# States in which a pass may decide on the stored snapshot: after the release the merchant
# ships, and the engine's part is TikTok's (tracking) unless a cancellation comes. A held
# order also may, once its hold is on record (before, Shopify builds the fulfilment orders
# without a webhook: ``snapshot_stands``).
STANDING_STATES: Final = frozenset({LinkState.RELEASED})
# Actions a decision on the stored snapshot may run without reading the order first.
ON_SNAPSHOT: Final = (FetchShippingProviders,)
# The marker saved when the snapshot must not stand in for a read.
STALE: Final[dict[str, Any]] = {"shopify_seen_hints": None, "shopify_fresh_until": None}


def snapshot_stands(row: LinkRow, memory: LinkMemory, now: datetime) -> bool:
    """Whether this pass (``row`` as claimed) may decide on the stored snapshot."""
    state = memory.state
    return (
        (state in STANDING_STATES
         or (state is LinkState.CREATED_HELD and bool(memory.held_fulfillment_order_ids)))
        and row.shopify_snapshot is not None
        and row.shopify_seen_hints is not None
        and row.shopify_seen_hints == row.shopify_hints
        and row.shopify_fresh_until is not None
        and now < row.shopify_fresh_until
    )


def after_own_holds(row: LinkRow) -> bool:
    """Whether the stored snapshot was read whole, no Shopify webhook was counted since, and
    the engine's only Shopify writes since were holds: the fulfilment orders are all that a
    read has to learn (``shopify_read.lean_hold_read``)."""
    return (row.shopify_seen_hints is not None and row.shopify_seen_hints == row.shopify_hints
            and row.shopify_fresh_until is None)


def stored_view(truth: LinkTruth, snapshot: Mapping[str, Any], memory: LinkMemory, *,
                hold_handle: str, now: datetime) -> bool:
    """Put the stored snapshot's view into ``truth``; False if it cannot be understood
    (the pass then reads the order)."""
    try:
        truth.shopify = to_order_view(
            OrderSnapshot.from_raw(dict(snapshot)),
            our_app_holds_handle=hold_handle,
            cancel_job_pending=memory.cancel_job_pending(now),
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
                 fresh_until: datetime) -> dict[str, Any]:
    """The marker to save after a pass that ``read`` the order (successfully) or not.

    ``claimed`` is the row as the claim returned it: its hint count is what a read made
    after the claim covers. After holds only, the snapshot is marked as covering the hints
    but not standing (``after_own_holds``); after any other Shopify (or 3PL) write, stale.
    """
    if not read:
        return dict(STALE)
    if actions and all(isinstance(action, PlaceHold) for action in actions):
        return {"shopify_seen_hints": claimed.shopify_hints, "shopify_fresh_until": None}
    if touches_shopify(actions):
        return dict(STALE)
    return {"shopify_seen_hints": claimed.shopify_hints, "shopify_fresh_until": fresh_until}


@dataclass(frozen=True, slots=True)
class Decided:
    """A link's decision, and what to save with it about the Shopify snapshot."""

    decision: Decision
    now: datetime  # when it was made
    marker: dict[str, Any]  # the snapshot's marker (empty: unchanged, the snapshot stood)
    fresh_until: datetime | None  # the stored snapshot stood: the next due time is no later


async def decide_on_shopify(
    claimed: LinkRow, memory: LinkMemory, truth: LinkTruth, shopify_id: str | None, *,
    hold_handle: str, clock: Callable[[], datetime], read: Callable[[bool], Awaitable[None]],
    decide_now: Callable[[datetime], Decision], stands_for: timedelta,
) -> Decided:
    """Decide on the stored snapshot where it stands, else (or when that decision wants to
    act) on a fresh read (``read(after_own_holds)`` fills ``truth``); ``claimed`` is the row
    as claimed. A read snapshot stands in for reads for ``stands_for`` (the periodic
    re-check: a lost Shopify webhook is noticed no later than before)."""
    snapshot = claimed.shopify_snapshot
    stood = (bool(shopify_id) and snapshot is not None and snapshot_stands(claimed, memory, clock())
             and stored_view(truth, snapshot, memory, hold_handle=hold_handle, now=clock()))
    if shopify_id and not stood:
        await read(after_own_holds(claimed))
    now = clock()
    decision = decide_now(now)
    if stood and not decidable_on_snapshot(decision.actions):
        stood = False
        await read(False)
        now = clock()
        decision = decide_now(now)
    if stood:
        return Decided(decision, now, {}, claimed.shopify_fresh_until)
    fresh = bool(shopify_id) and truth.shopify_raw is not None and truth.warning is None
    marker = fresh_marker(claimed, read=fresh, actions=decision.actions, fresh_until=now + stands_for)
    return Decided(decision, now, marker, None)


def no_later_than(finish: dict[str, Any], fresh_until: datetime | None) -> dict[str, Any]:
    """``finish`` (the changes saved with the lease's release) with its due time no later
    than ``fresh_until``: a pass that decided on the stored snapshot never pushes back the
    read that the snapshot's own decision asked for."""
    due = finish.get("next_due_at")
    if fresh_until is None or (due is not None and due <= fresh_until):
        return finish
    return {**finish, "next_due_at": fresh_until}
