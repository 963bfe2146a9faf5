"""The benchmarks' arithmetic: percentiles, goal ratios, the Shopify ceiling."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from bench.stats import Ceiling, Goal, minimal_points, percentile, seconds_between


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(100, 0, -1)]  # 1..100 shuffled order does not matter
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0  # not the maximum
    assert percentile(values, 1.0) == 100.0
    assert percentile([3.0], 0.99) == 3.0
    assert percentile([1.0, 2.0], 0.0) == 1.0
    assert math.isnan(percentile([], 0.5))


def test_goal_ratio_and_met_both_ways() -> None:
    latency = Goal("p99", 0.25, 0.5, "s", at_most=True)
    assert latency.ratio == 0.5
    assert latency.met
    assert not Goal("p99", 0.6, 0.5, "s", at_most=True).met
    share = Goal("share", 0.85, 0.9, "", at_most=False)
    assert share.ratio == pytest.approx(0.85 / 0.9)
    assert not share.met
    assert Goal("share", 0.95, 0.9, "", at_most=False).met
    assert not Goal("p99", math.nan, 0.5, "s", at_most=True).met
    row = latency.row("python -m bench --only latency")
    assert row == "| p99 | ≤ 0.5 s | 0.25 s | 0.50 | yes | `python -m bench --only latency` |"
    assert "**no**" in Goal("cpu", 40.0, 10.0, "ms", at_most=True).row("x")


def test_ceiling_of_the_standard_plan_for_the_minimal_path() -> None:
    points = minimal_points([10, 10], 4)  # orderCreate, hold, the leanest read
    assert points == 24
    ceiling = Ceiling(restore_rate=100.0, bucket=1000.0, points=points)
    assert ceiling.steady_rate == pytest.approx(4.1667, rel=1e-4)
    assert ceiling.seconds(2000) == pytest.approx((2000 * 24 - 1000) / 100)
    assert ceiling.rate_for(2000) > ceiling.steady_rate  # the bucket's head start counts
    assert ceiling.seconds(10) == 0.0
    assert ceiling.rate_for(10) == math.inf


def test_a_dearer_read_lowers_the_share_of_the_ceiling() -> None:
    # The ceiling is priced on the cheapest read, not the read the engine made: 48 points
    # per order give half the share 24 would.
    ceiling = Ceiling(100.0, 1000.0, minimal_points([10, 10], 4))
    achieved_at_48 = 2000 / Ceiling(100.0, 1000.0, 48).seconds(2000)
    assert achieved_at_48 / ceiling.rate_for(2000) == pytest.approx((2000 * 24 - 1000) / (2000 * 48 - 1000))


def test_seconds_between_sandbox_instants_in_real_seconds() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    start = {"a": t0, "b": t0, "lost": t0}
    end = {"a": t0 + timedelta(seconds=1.5), "b": t0 + timedelta(milliseconds=250)}
    assert sorted(seconds_between(start, end)) == [0.25, 1.5]
    assert seconds_between(start, end, rate=60.0) == [1.5 / 60, 0.25 / 60]


def test_stock_lags_take_the_first_update_after_each_change() -> None:
    from datetime import UTC, datetime, timedelta

    from bench.stats import stock_lags

    t0 = datetime(2026, 12, 7, tzinfo=UTC)
    changes = [(t0, "a"), (t0 + timedelta(seconds=1), "a"), (t0 + timedelta(seconds=5), "a"), (t0, "b")]
    updates = [(t0 + timedelta(seconds=2), "a"), (t0 + timedelta(seconds=0.5), "a"), (t0 + timedelta(seconds=3), "c")]
    lags, missed = stock_lags(changes, updates)
    assert lags == [0.5, 1.0]
    assert missed == 2  # the change at 5 s (no update after it) and SKU b (never updated)
