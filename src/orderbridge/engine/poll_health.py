"""Per-connection fault containment for the poller: exponential back-off and one alert.

A connection whose poll fails (its token no longer decrypts, its token refresh or TikTok
fails) is *parked*: the poller keeps polling every other connection and retries this one
after ``POLL_RETRY_BASE_SECONDS`` doubled per consecutive failure, capped at
``POLL_RETRY_MAX_SECONDS``, with jitter so many parked connections do not retry in step.
Each failure is one log line (no traceback); the first failure of a streak (or a new kind of
failure) also puts one warning on the connection's timeline, which `orderbridge` commands,
the API and the metrics show; a success ends the streak.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from orderbridge.errors import AuthError, ConfigurationError

__all__ = [
    "POLL_RETRY_BASE_SECONDS",
    "POLL_RETRY_JITTER",
    "POLL_RETRY_MAX_SECONDS",
    "Parked",
    "describe_failure",
    "retry_delay",
]

# First retry of a failing connection after this long; doubled per consecutive failure.
POLL_RETRY_BASE_SECONDS: Final = 30.0
# Never wait longer than this between retries (a fixed key or token is picked up within it).
POLL_RETRY_MAX_SECONDS: Final = 3600.0
# Each delay is scaled by a random factor in [1 - JITTER, 1]: parked connections spread out.
POLL_RETRY_JITTER: Final = 0.5


def retry_delay(failures: int, rand: Callable[[], float] = random.random) -> timedelta:
    """The wait before the next attempt after ``failures`` consecutive failures (>= 1)."""
    exponent = min(max(failures, 1) - 1, 32)  # bounded: 2**32 * base is far past the cap
    full = min(POLL_RETRY_MAX_SECONDS, POLL_RETRY_BASE_SECONDS * 2.0**exponent)
    return timedelta(seconds=full * (1.0 - POLL_RETRY_JITTER * rand()))


def describe_failure(exc: BaseException) -> str:
    """One line a person can act on (no traceback, no secrets: messages never hold tokens)."""
    if isinstance(exc, ConfigurationError) and "decrypt" in str(exc):
        return (
            "token cannot be decrypted: key changed? (ORDERBRIDGE_SECRET_KEY opens none of this "
            "connection's stored tokens: list the new key first and the old one after it)"
        )
    if isinstance(exc, AuthError):
        return f"AUTH_EXPIRED: {exc}"
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:500]


@dataclass
class Parked:
    """A connection whose polls fail: how often in a row, why, and when to try again."""

    failures: int
    since: datetime
    last_error: str
    next_attempt_at: datetime
