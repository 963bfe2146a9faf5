"""Shopify hints are counted, and a hint that arrives during a pass is never covered by it.

The protocol of ``engine/freshness.py`` on both databases: the intake counts a Shopify
webhook (``count_shopify_hints`` + ``mark_due``) without touching the lease or the version;
a pass saves the count its claim returned (its read began after the claim). A hint counted
after the claim, while the pass works, leaves the link due and the stored snapshot unable to
stand in for a read, so the next pass reads the order again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine

from orderbridge.adapters.db import link_leases, links, transaction
from orderbridge.domain.actions import AddTags, HoldReason, PlaceHold, PushTracking
from orderbridge.domain.link import LinkMemory, LinkState
from orderbridge.engine.freshness import after_own_holds, fresh_marker, snapshot_stands

from .conftest import T0

LEASE = 60.0
RECHECK = timedelta(minutes=15)
RELEASED = LinkMemory(state=LinkState.RELEASED, shopify_order_id="gid://shopify/Order/1")
SNAPSHOT = {"id": "gid://shopify/Order/1", "name": "#1001"}


def _hint(engine: Engine, link_id: int, at: datetime) -> None:
    """What the web intake does for a Shopify webhook naming the order."""
    with transaction(engine) as conn:
        links.count_shopify_hints(conn, [link_id])
        links.mark_due(conn, at, ids=[link_id])


def _claim(engine: Engine, owner: str, at: datetime) -> list[links.LinkRow]:
    with transaction(engine) as conn:
        return link_leases.claim_due_links(conn, owner, at, limit=10, lease_seconds=LEASE)


def _finish_pass(engine: Engine, claimed: links.LinkRow, owner: str, at: datetime) -> links.LinkRow:
    """A pass that read the order and had nothing to do: release with the marker."""
    marker = fresh_marker(claimed, read=True, actions=(), fresh_until=at + RECHECK)
    with transaction(engine) as conn:
        return link_leases.save_link(conn, claimed, owner, now=at, release=True, memory=RELEASED.to_json(),
                               state=RELEASED.state.value, shopify_snapshot=SNAPSHOT,
                               next_due_at=at + RECHECK, **marker)


def _new_link(engine: Engine, shop: int) -> int:
    with transaction(engine) as conn:
        link, _ = links.get_or_create_link(conn, shop, "576000000000000001", T0)
    return link.id


def test_a_hint_during_a_pass_makes_the_next_pass_read(migrated_engine: Engine, shop: int) -> None:
    link_id = _new_link(migrated_engine, shop)
    [claimed] = _claim(migrated_engine, "w1", T0)
    assert claimed.shopify_hints == 0
    during = T0 + timedelta(seconds=1)
    _hint(migrated_engine, link_id, during)  # the merchant's change, while the pass reads
    saved = _finish_pass(migrated_engine, claimed, "w1", T0 + timedelta(seconds=2))
    assert saved.version == claimed.version + 1  # the count did not break the lease
    assert (saved.shopify_hints, saved.shopify_seen_hints) == (1, 0)
    assert saved.next_due_at == during  # the hint is kept
    later = T0 + timedelta(seconds=3)
    assert not snapshot_stands(saved, RELEASED, later)
    [again] = _claim(migrated_engine, "w2", later)
    assert again.id == link_id
    assert not snapshot_stands(again, RELEASED, later)  # this pass reads the order


def test_a_hint_before_the_claim_is_covered_by_the_pass(migrated_engine: Engine, shop: int) -> None:
    link_id = _new_link(migrated_engine, shop)
    _hint(migrated_engine, link_id, T0)
    [claimed] = _claim(migrated_engine, "w1", T0)
    assert claimed.shopify_hints == 1
    saved = _finish_pass(migrated_engine, claimed, "w1", T0 + timedelta(seconds=1))
    assert (saved.shopify_hints, saved.shopify_seen_hints) == (1, 1)
    # A TikTok-only hint later: the snapshot stands until the decision's own re-check.
    with transaction(migrated_engine) as conn:
        links.mark_due(conn, T0 + timedelta(seconds=5), ids=[link_id])
    [tiktok_pass] = _claim(migrated_engine, "w2", T0 + timedelta(seconds=5))
    assert snapshot_stands(tiktok_pass, RELEASED, T0 + timedelta(seconds=5))
    assert not snapshot_stands(tiktok_pass, RELEASED, T0 + timedelta(seconds=1) + RECHECK)
    # Under our hold only once the hold is on record (before, Shopify builds the fulfilment
    # orders without telling anyone).
    assert not snapshot_stands(tiktok_pass, LinkMemory(state=LinkState.CREATED_HELD), T0 + timedelta(seconds=5))
    held = LinkMemory(state=LinkState.CREATED_HELD, held_fulfillment_order_ids=("fo1",))
    assert snapshot_stands(tiktok_pass, held, T0 + timedelta(seconds=5))


def test_a_shopify_write_clears_the_marker(migrated_engine: Engine, shop: int) -> None:
    link_id = _new_link(migrated_engine, shop)
    [claimed] = _claim(migrated_engine, "w1", T0)
    assert claimed.id == link_id
    push = PushTracking(tiktok_order_id="576000000000000001", tracking_number="9400100000000000000000",
                        provider_id="p", line_ids=("l1",), source_fulfillment_id="f1")
    tags = AddTags(shopify_order_id="gid://shopify/Order/1", tags=("TikTok",))
    due = T0 + RECHECK
    assert fresh_marker(claimed, read=True, actions=(push,), fresh_until=due) == {
        "shopify_seen_hints": 0, "shopify_fresh_until": due}
    stale = {"shopify_seen_hints": None, "shopify_fresh_until": None}
    assert fresh_marker(claimed, read=True, actions=(push, tags), fresh_until=due) == stale
    assert fresh_marker(claimed, read=False, actions=(), fresh_until=due) == stale
    # Holds only: the hints are covered, the snapshot does not stand, a lean read will do.
    hold = PlaceHold(fulfillment_order_ids=("fo1",), handle="orderbridge", reason=HoldReason.OTHER,
                     notes="remorse window")
    holds_only = fresh_marker(claimed, read=True, actions=(hold,), fresh_until=due)
    assert holds_only == {"shopify_seen_hints": 0, "shopify_fresh_until": None}
    with transaction(migrated_engine) as conn:
        saved = link_leases.save_link(conn, claimed, "w1", now=T0, release=True, **holds_only)
    held = LinkMemory(state=LinkState.CREATED_HELD, held_fulfillment_order_ids=("fo1",))
    assert after_own_holds(saved)
    assert not snapshot_stands(saved, held, T0)
    _hint(migrated_engine, link_id, T0)
    with transaction(migrated_engine) as conn:
        hinted = links.get_link(conn, link_id)
    assert hinted is not None
    assert not after_own_holds(hinted)  # the merchant may have changed more: read it whole


def test_a_new_order_is_claimed_before_a_burst_of_re_checks(migrated_engine: Engine, shop: int) -> None:
    """A poll or a shared timer can make hundreds of links due at once; an order that a
    webhook just named, still to be created in Shopify, is claimed first."""
    from orderbridge.web.intake import _due

    with transaction(migrated_engine) as conn:
        for n in range(3):
            links.get_or_create_link(conn, shop, f"old-{n}", T0, due_at=T0 - timedelta(minutes=1))
        _due(conn, shop, ["576000000000000099"], T0, "TikTok webhook ORDER_STATUS_CHANGE", {})
    [first] = _claim_limit(migrated_engine, "w1", T0, 1)
    assert first.tiktok_order_id == "576000000000000099"
    assert first.priority == links.CREATE_PRIORITY < links.DEFAULT_PRIORITY


def _claim_limit(engine: Engine, owner: str, at: datetime, limit: int) -> list[links.LinkRow]:
    with transaction(engine) as conn:
        return link_leases.claim_due_links(conn, owner, at, limit=limit, lease_seconds=LEASE)


def test_a_shopify_hint_is_claimed_before_re_checks_due_earlier(migrated_engine: Engine, shop: int) -> None:
    """The merchant's fulfilment (a Shopify webhook) is not queued behind a sweep of
    re-checks; a link still to be created stays first."""
    with transaction(migrated_engine) as conn:
        for n in range(3):
            links.get_or_create_link(conn, shop, f"old-{n}", T0, due_at=T0 - timedelta(minutes=1))
        fulfilled, _ = links.get_or_create_link(conn, shop, "fulfilled", T0, due_at=T0 + timedelta(hours=1))
        new, _ = links.get_or_create_link(conn, shop, "new", T0, priority=links.CREATE_PRIORITY)
    _hint(migrated_engine, fulfilled.id, T0)
    _hint(migrated_engine, new.id, T0)
    claimed = _claim_limit(migrated_engine, "w1", T0, 2)
    assert [row.tiktok_order_id for row in claimed] == ["new", "fulfilled"]
    assert [row.priority for row in claimed] == [links.CREATE_PRIORITY, links.SHOPIFY_HINT_PRIORITY]
    assert claimed[1].shopify_hints == 1
