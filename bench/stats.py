"""Pure arithmetic of the benchmarks: percentiles, goals as ratios, the Shopify ceiling.

No I/O here, so every figure's formula is unit-tested (tests/unit/test_bench_stats.py).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime


def percentile(values: Iterable[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in [0, 1]): the smallest value with at least ``q`` of
    the values at or below it; NaN for no values. p99 of 100 values is the 99th, not the max."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(frozen=True)
class Goal:
    """One goal checked in a run: ``value`` against ``target``, as their ratio.

    ``at_most``: the goal is value <= target (met when the ratio is <= 1); otherwise
    value >= target (met when the ratio is >= 1)."""

    name: str
    value: float
    target: float
    unit: str
    at_most: bool

    @property
    def ratio(self) -> float:
        return self.value / self.target if self.target else math.nan

    @property
    def met(self) -> bool:
        if math.isnan(self.value):
            return False
        return self.value <= self.target if self.at_most else self.value >= self.target

    def row(self, command: str) -> str:
        """A Markdown table row: goal, value, ratio, met, command."""
        sign = "≤" if self.at_most else "≥"
        target, value = (f"{_num(x)} {self.unit}".rstrip() for x in (self.target, self.value))
        return (f"| {self.name} | {sign} {target} | {value} | "
                f"{self.ratio:.2f} | {'yes' if self.met else '**no**'} | `{command}` |")


def _num(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x:.3g}" if abs(x) < 100 else f"{x:.0f}"


def seconds_between(start: Mapping[str, datetime], end: Mapping[str, datetime], rate: float = 1.0) -> list[float]:
    """Real seconds from ``start[k]`` to ``end[k]`` for every key in both (sandbox-clock
    instants, the clock running at ``rate``)."""
    return [(end[k] - start[k]).total_seconds() / rate for k in start if k in end]


@dataclass(frozen=True)
class Ceiling:
    """What Shopify's leaky bucket allows for ``orders`` orders of ``points`` each."""

    restore_rate: float  # points per second
    bucket: float  # points available at the start
    points: float  # minimal points per order

    @property
    def steady_rate(self) -> float:
        """Orders per second once the bucket is empty: restore rate / points per order."""
        return self.restore_rate / self.points if self.points else math.inf

    def seconds(self, orders: int) -> float:
        """The least time for ``orders``: the full bucket is spent at once, the rest at the
        restore rate."""
        return max(0.0, (orders * self.points - self.bucket) / self.restore_rate)

    def rate_for(self, orders: int) -> float:
        """Orders per second at best for ``orders`` orders (above ``steady_rate``: the
        bucket's head start), so a share of it never flatters a short run."""
        seconds = self.seconds(orders)
        return orders / seconds if seconds else math.inf


def minimal_points(mutation_costs: Iterable[float], cheapest_read: float) -> float:
    """The least points one order's path can cost: its mutations plus the cheapest read
    that finds its fulfilment orders (0 when a mutation's own answer can carry them)."""
    return sum(mutation_costs) + cheapest_read


def stock_lags(changes: Iterable[tuple[datetime, str]], updates: Iterable[tuple[datetime, str]]) -> tuple[list[float], int]:
    """Seconds from each stock change (instant, SKU) to the first TikTok update of that SKU
    at or after it; and how many changes no later update followed."""
    by_sku: dict[str, list[datetime]] = {}
    for at, sku in updates:
        by_sku.setdefault(sku, []).append(at)
    for instants in by_sku.values():
        instants.sort()
    lags: list[float] = []
    missed = 0
    for at, sku in changes:
        later = [u for u in by_sku.get(sku, []) if u >= at]
        if later:
            lags.append((later[0] - at).total_seconds())
        else:
            missed += 1
    return lags, missed
