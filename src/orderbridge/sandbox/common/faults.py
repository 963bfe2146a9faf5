"""Fault injection for the sandboxes: per endpoint and per webhook stream, seeded.

A ``FaultPlan`` holds rules. An endpoint rule matches requests of one sandbox by a key the
sandbox computes (TikTok: ``"POST /order/202309/orders/search"``; Shopify: the GraphQL
root field such as ``"orderCreate"``), with shell-style wildcards (``"*"``, ``"POST /fulfillment/*"``).
A stream rule matches webhook deliveries by topic the same way.

Endpoint faults, decided once per request:

- ``latency_ms``: extra real latency, uniform in ``[min, max]``;
- ``error_rate``: answer 5xx without doing anything;
- ``throttle_rate``: answer the API's rate-limit error without doing anything;
- ``timeout_rate``: hang without doing anything until the client gives up;
- ``drop_response_rate``: do the work, commit it, then hang: the client never learns the
  outcome (the trap behind duplicate orders);
- ``limit``: the rule applies to the next N matching requests only, then retires
  (``{"drop_response_rate": 1, "limit": 1}`` = "lose the next response").

Stream faults, decided once per delivery: ``drop_rate`` (never sent), ``duplicate_rate``
(sent twice), ``delay_seconds`` (extra virtual delay, uniform in ``[min, max]``; a spread
reorders deliveries), ``fail_rate`` (the attempt is treated as failed and retried).

Random choices come from one ``random.Random`` per (sandbox, rule), seeded from the plan's
seed, so a run is reproducible for a given seed and request order per rule.
"""

from __future__ import annotations

import asyncio
import fnmatch
import random
import threading
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "EndpointRule",
    "FaultAction",
    "FaultDecision",
    "FaultPlan",
    "StreamDecision",
    "StreamRule",
    "apply_faults",
    "hang_until_disconnected",
]

# A hung request is released after this long so a forgotten fault cannot pin a server.
MAX_HANG_SECONDS = 120.0


class FaultAction(StrEnum):
    """What happens to one request."""

    NONE = "none"  # served normally (possibly after extra latency)
    ERROR = "error"  # 5xx, nothing done
    THROTTLE = "throttle"  # the API's rate-limit answer, nothing done
    TIMEOUT = "timeout"  # hang before doing anything
    DROP_RESPONSE = "drop_response"  # do it, commit, then hang


@dataclass
class EndpointRule:
    """Faults for the requests of one sandbox whose key matches ``match``."""

    sandbox: str
    match: str = "*"
    latency_ms: tuple[float, float] = (0.0, 0.0)
    error_rate: float = 0.0
    throttle_rate: float = 0.0
    timeout_rate: float = 0.0
    drop_response_rate: float = 0.0
    limit: int | None = None
    id: int = 0
    hits: int = 0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["latency_ms"] = list(self.latency_ms)
        return data


@dataclass
class StreamRule:
    """Faults for webhook deliveries of one sandbox whose topic matches ``match``."""

    sandbox: str
    match: str = "*"
    drop_rate: float = 0.0
    duplicate_rate: float = 0.0
    delay_seconds: tuple[float, float] = (0.0, 0.0)
    fail_rate: float = 0.0
    limit: int | None = None
    id: int = 0
    hits: int = 0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["delay_seconds"] = list(self.delay_seconds)
        return data


@dataclass(frozen=True)
class FaultDecision:
    action: FaultAction = FaultAction.NONE
    latency_s: float = 0.0
    rule_id: int | None = None


@dataclass(frozen=True)
class StreamDecision:
    drop: bool = False
    duplicate: bool = False
    delay_s: float = 0.0
    fail: bool = False
    rule_id: int | None = None


@dataclass
class FaultPlan:
    """All fault rules of a sandbox process."""

    seed: int = 0
    endpoint_rules: list[EndpointRule] = field(default_factory=list)
    stream_rules: list[StreamRule] = field(default_factory=list)
    _rngs: dict[tuple[str, int], random.Random] = field(default_factory=dict, repr=False)
    _next_id: int = 1
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _rng(self, kind: str, rule_id: int) -> random.Random:
        key = (kind, rule_id)
        if key not in self._rngs:
            self._rngs[key] = random.Random(f"{self.seed}:{kind}:{rule_id}")
        return self._rngs[key]

    def reseed(self, seed: int) -> None:
        with self._lock:
            self.seed = seed
            self._rngs.clear()

    def add_endpoint_rule(self, rule: EndpointRule) -> EndpointRule:
        _check_rates(rule.error_rate, rule.throttle_rate, rule.timeout_rate, rule.drop_response_rate)
        with self._lock:
            rule.id = self._next_id
            self._next_id += 1
            self.endpoint_rules.append(rule)
        return rule

    def add_stream_rule(self, rule: StreamRule) -> StreamRule:
        _check_rates(rule.drop_rate, rule.duplicate_rate, rule.fail_rate)
        with self._lock:
            rule.id = self._next_id
            self._next_id += 1
            self.stream_rules.append(rule)
        return rule

    def remove(self, rule_id: int) -> bool:
        with self._lock:
            before = len(self.endpoint_rules) + len(self.stream_rules)
            self.endpoint_rules = [r for r in self.endpoint_rules if r.id != rule_id]
            self.stream_rules = [r for r in self.stream_rules if r.id != rule_id]
            return before != len(self.endpoint_rules) + len(self.stream_rules)

    def clear(self, sandbox: str | None = None) -> None:
        with self._lock:
            if sandbox is None:
                self.endpoint_rules.clear()
                self.stream_rules.clear()
            else:
                self.endpoint_rules = [r for r in self.endpoint_rules if r.sandbox != sandbox]
                self.stream_rules = [r for r in self.stream_rules if r.sandbox != sandbox]

    def decide(self, sandbox: str, key: str) -> FaultDecision:
        """The fate of one request (first matching live rule wins)."""
        with self._lock:
            for rule in self.endpoint_rules:
                if rule.sandbox != sandbox or not fnmatch.fnmatchcase(key, rule.match):
                    continue
                if rule.limit is not None and rule.hits >= rule.limit:
                    continue
                rule.hits += 1
                rng = self._rng("endpoint", rule.id)
                low, high = rule.latency_ms
                latency = rng.uniform(low, high) / 1000.0 if high > 0 else 0.0
                roll = rng.random()
                action = FaultAction.NONE
                for rate, candidate in (
                    (rule.error_rate, FaultAction.ERROR),
                    (rule.throttle_rate, FaultAction.THROTTLE),
                    (rule.timeout_rate, FaultAction.TIMEOUT),
                    (rule.drop_response_rate, FaultAction.DROP_RESPONSE),
                ):
                    if roll < rate:
                        action = candidate
                        break
                    roll -= rate
                return FaultDecision(action, latency, rule.id)
        return FaultDecision()

    def decide_stream(self, sandbox: str, topic: str) -> StreamDecision:
        """The fate of one webhook delivery (first matching live rule wins)."""
        with self._lock:
            for rule in self.stream_rules:
                if rule.sandbox != sandbox or not fnmatch.fnmatchcase(topic, rule.match):
                    continue
                if rule.limit is not None and rule.hits >= rule.limit:
                    continue
                rule.hits += 1
                rng = self._rng("stream", rule.id)
                low, high = rule.delay_seconds
                return StreamDecision(
                    drop=rng.random() < rule.drop_rate,
                    duplicate=rng.random() < rule.duplicate_rate,
                    delay_s=rng.uniform(low, high) if high > 0 else 0.0,
                    fail=rng.random() < rule.fail_rate,
                    rule_id=rule.id,
                )
        return StreamDecision()

    def to_json(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "endpoints": [r.to_json() for r in self.endpoint_rules],
            "streams": [r.to_json() for r in self.stream_rules],
        }


def _check_rates(*rates: float) -> None:
    if any(r < 0 or r > 1 for r in rates) or sum(rates) > 1.0 + 1e-9:
        raise ValueError("rates must each be within 0..1 and add up to at most 1")


async def hang_until_disconnected(
    is_disconnected: Callable[[], Awaitable[bool]], max_seconds: float = MAX_HANG_SECONDS
) -> None:
    """Wait until the client goes away (or ``max_seconds`` pass)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max_seconds
    while loop.time() < deadline:
        if await is_disconnected():
            return
        await asyncio.sleep(0.05)


async def apply_faults(
    plan: FaultPlan,
    sandbox: str,
    key: str,
    is_disconnected: Callable[[], Awaitable[bool]],
    handler: Callable[[], Awaitable[Any]],
    error_response: Callable[[FaultAction], Any],
) -> Any:
    """Serve one request through the plan.

    ``handler`` does the real work and returns the response; ``error_response`` builds the
    sandbox's own answer for ERROR and THROTTLE (and for a hang that outlived the client).
    """
    decision = plan.decide(sandbox, key)
    if decision.latency_s > 0:
        await asyncio.sleep(decision.latency_s)
    if decision.action is FaultAction.ERROR:
        return error_response(FaultAction.ERROR)
    if decision.action is FaultAction.THROTTLE:
        return error_response(FaultAction.THROTTLE)
    if decision.action is FaultAction.TIMEOUT:
        await hang_until_disconnected(is_disconnected)
        return error_response(FaultAction.TIMEOUT)
    response = await handler()
    if decision.action is FaultAction.DROP_RESPONSE:
        await hang_until_disconnected(is_disconnected)
    return response
