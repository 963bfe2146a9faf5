"""Which existing Shopify order is ours, how a link adopts it, and whether a cancel job runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from orderbridge.domain.actions import CancelShopifyOrder, ShopifyCancelReason
from orderbridge.domain.existing import adoption_state, mentions, oldest_first, order_tag
from orderbridge.domain.link import CANCEL_JOB_WAIT, LinkMemory, LinkState
from orderbridge.domain.order import TikTokStatus
from orderbridge.domain.outcome import Outcome, OutcomeStatus, apply_outcome

T0 = datetime(2026, 12, 1, 12, tzinfo=UTC)


@dataclass(frozen=True)
class Found:
    id: str
    name: str = "#1001"
    created_at: datetime | None = None
    source_identifier: str | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)


def test_order_tag_is_the_mark_decide_puts_on_orders() -> None:
    assert order_tag("5770001") == "tiktok-5770001"


def test_oldest_first_keeps_one_of_each_id_and_puts_the_oldest_first() -> None:
    new = Found("gid://shopify/Order/3", created_at=T0 + timedelta(minutes=5))
    old = Found("gid://shopify/Order/9", created_at=T0)
    undated = Found("gid://shopify/Order/1")
    assert [o.id for o in oldest_first([undated, new, old, new])] == [old.id, new.id, undated.id]


def test_oldest_first_breaks_ties_on_the_id() -> None:
    a, b = Found("gid://shopify/Order/2", created_at=T0), Found("gid://shopify/Order/1", created_at=T0)
    assert [o.id for o in oldest_first([a, b])] == [b.id, a.id]
    assert oldest_first([]) == []


@pytest.mark.parametrize(
    ("found", "expected"),
    [
        (Found("1", source_identifier="5770001"), True),
        (Found("1", tags=("skuiq", "tiktokpos-5770001")), True),
        (Found("1", name="TT-5770001"), True),
        (Found("1", source_identifier=None, tags=("skuiq",), name="#1001"), False),
        (Found("1", source_identifier="5770002", tags=("5770009",)), False),
    ],
)
def test_mentions_the_tiktok_order_in_source_tag_or_name(found: Found, expected: bool) -> None:
    assert mentions(found, "5770001") is expected


@pytest.mark.parametrize("status", list(TikTokStatus))
def test_an_adopted_order_stays_held_until_tiktok_lets_the_seller_ship(status: TikTokStatus) -> None:
    held = status in (TikTokStatus.UNPAID, TikTokStatus.ON_HOLD)
    assert adoption_state(status) is (LinkState.CREATED_HELD if held else LinkState.RELEASED)


def _cancel() -> CancelShopifyOrder:
    return CancelShopifyOrder(shopify_order_id="gid://shopify/Order/1", reason=ShopifyCancelReason.CUSTOMER, staff_note="")


def test_a_started_cancel_job_is_remembered_durably_and_counts_as_running_for_the_wait() -> None:
    memory = LinkMemory(state=LinkState.RELEASED, shopify_order_id="gid://shopify/Order/1")
    done = Outcome(status=OutcomeStatus.SUCCESS, at=T0, ids={"job_id": "gid://shopify/Job/7"})
    after = apply_outcome(memory, _cancel(), done)
    assert after.cancel_job_id == "gid://shopify/Job/7"
    restored = LinkMemory.from_json(after.to_json())  # what a restarted worker reads
    assert restored.cancel_job_id == "gid://shopify/Job/7"
    assert restored.cancel_job_pending(T0 + CANCEL_JOB_WAIT - timedelta(seconds=1))
    assert not restored.cancel_job_pending(T0 + CANCEL_JOB_WAIT)
    # a repeat that found the job still running keeps the id it was given
    again = apply_outcome(after, _cancel(), Outcome(status=OutcomeStatus.SUCCESS, at=T0 + timedelta(minutes=1)))
    assert again.cancel_job_id == "gid://shopify/Job/7"


def test_no_cancel_job_runs_unless_a_cancel_was_sent_and_the_link_is_cancelling() -> None:
    assert not LinkMemory(state=LinkState.CANCELLING).cancel_job_pending(T0)
    assert not LinkMemory(state=LinkState.CANCELLED, cancel_sent_at=T0).cancel_job_pending(T0)
    assert LinkMemory(state=LinkState.CANCELLING, cancel_sent_at=T0).cancel_job_pending(T0)
