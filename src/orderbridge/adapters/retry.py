"""What every API client's retry loop shares: the injectable runtime and the back-off policy.

``Runtime`` gathers everything time- and chance-dependent (so tests pass fake clocks and
sleeps); ``RetryPolicy`` is exponential back-off with full jitter; ``parse_retry_after``
reads a ``Retry-After`` style header (seconds or an HTTP date).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

from orderbridge.adapters.calls import CallRecorder, NullRecorder
from orderbridge.clock import Clock

__all__ = [
    "DEFAULT_BACKOFF_BASE_SECONDS",
    "DEFAULT_BACKOFF_CAP_SECONDS",
    "DEFAULT_MAX_ATTEMPTS",
    "DEFAULT_MAX_RETRY_AFTER_SECONDS",
    "RetryPolicy",
    "Runtime",
    "parse_retry_after",
]

DEFAULT_MAX_ATTEMPTS = 4
DEFAULT_BACKOFF_BASE_SECONDS = 0.5
DEFAULT_BACKOFF_CAP_SECONDS = 10.0
DEFAULT_MAX_RETRY_AFTER_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Runtime:
    """Everything time- and chance-dependent, injectable for tests."""

    # Unix seconds: request timestamps (TikTok signs one) and the instant of each call record (so the
    # engine passes its own clock: timelines then sort API calls among its other entries).
    clock: Callable[[], float] = time.time
    monotonic: Callable[[], float] = time.monotonic  # durations and rate limiting
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    random: Callable[[], float] = random.random  # in [0, 1): full jitter
    recorder: CallRecorder = field(default_factory=NullRecorder)

    @classmethod
    def on(cls, clock: Clock, recorder: CallRecorder | None = None) -> Runtime:
        """A runtime reading ``clock`` (sub-second: call records keep their order)."""
        return cls(clock=lambda: clock.now().timestamp(), recorder=recorder or NullRecorder())


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential back-off with full jitter: sleep ``U(0, min(cap, base * 2**n))``."""

    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    base_delay: float = DEFAULT_BACKOFF_BASE_SECONDS
    max_delay: float = DEFAULT_BACKOFF_CAP_SECONDS
    max_retry_after: float = DEFAULT_MAX_RETRY_AFTER_SECONDS

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def backoff(self, retry_number: int, draw: float) -> float:
        """Delay before retry ``retry_number`` (1-based), given a uniform ``draw``."""
        return draw * min(self.max_delay, self.base_delay * 2.0 ** (retry_number - 1))


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` style value (seconds or an HTTP date), or None."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError, IndexError):
        return None
