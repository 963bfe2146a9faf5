"""What a pass works with: the services it needs, a connection's runtime, the links held.

Shared by ``worker.py`` (the pass) and ``link_work.py`` (one link's turn). The engine takes
what it needs from the process's wiring through ``EngineServices`` (``bootstrap.Services``
fits it) rather than importing the wiring itself.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, Protocol

from orderbridge.adapters.calls import ApiCall
from orderbridge.adapters.db import links
from orderbridge.adapters.db.connections import ConnectionRow
from orderbridge.adapters.db.links import LinkRow
from orderbridge.adapters.shopify import ShopifyClient
from orderbridge.adapters.tiktok import TikTokClient
from orderbridge.domain.actions import Action, CreateShopifyOrder, PlaceHold
from orderbridge.domain.link import LinkMemory, LinkState
from orderbridge.domain.observed import SkuResolution
from orderbridge.domain.outcome import Outcome, OutcomeStatus
from orderbridge.domain.policy import Policy
from orderbridge.engine.executor.core import ActionExecutor
from orderbridge.engine.observe import LinkTruth
from orderbridge.engine.ports import Clients
from orderbridge.engine.recording import RoutingRecorder
from orderbridge.engine.threepl.ports import ThreePLAccounts
from orderbridge.errors import AuthError

__all__ = [
    "AUTH_RETRY",
    "BACKOFF_BASE",
    "BACKOFF_MAX",
    "RENEW_FRACTION",
    "ConnectionRuntime",
    "EngineServices",
    "LinkJob",
    "Pass",
    "Streaks",
    "backoff",
    "memory_changes",
]

# Retry back-off: BACKOFF_BASE * 2**attempts, capped, times a jitter in [1-J, 1+J].
BACKOFF_BASE: Final = timedelta(seconds=5)
BACKOFF_MAX: Final = timedelta(minutes=15)
BACKOFF_JITTER: Final = 0.2
# Links of a connection whose tokens are dead (or that is paused) are looked at this often.
AUTH_RETRY: Final = timedelta(minutes=15)
# Actions after whose success the decision's own timer is kept (no immediate re-decision).
SELF_TIMED_ACTIONS: Final = (CreateShopifyOrder, PlaceHold)
# After this many immediate re-decisions in a row a link waits ``policy.retry_soon``.
MAX_IMMEDIATE_ROUNDS: Final = 8
# Renew a link's lease when less than this fraction of it is left.
RENEW_FRACTION: Final = 0.5


class EngineServices(Clients, ThreePLAccounts, Protocol):
    """What the workers use of the process's wiring (``bootstrap.Services`` has it): the
    port's ``Clients`` and the process's 3PL accounts."""


def backoff(attempts: int, rng: random.Random) -> timedelta:
    """The retry delay after ``attempts`` failures, with jitter."""
    base = min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)
    jitter: float = rng.uniform(1 - BACKOFF_JITTER, 1 + BACKOFF_JITTER)
    delay: timedelta = base * jitter
    return delay


@dataclass
class ConnectionRuntime:
    """One connection's clients, policy and executor, shared by all worker tasks."""

    connection: ConnectionRow
    policy: Policy
    tiktok: TikTokClient
    shopify: ShopifyClient
    recorder: RoutingRecorder
    executor: ActionExecutor
    auth_error: AuthError | None = None


@dataclass
class Pass:
    """The links one worker task holds during one pass (released if it is interrupted);
    ``done()`` tells the claimer a link's turn is over (its slot is free)."""

    owner: str
    held: dict[int, LinkRow] = field(default_factory=dict)
    done: Callable[[], None] = lambda: None


@dataclass(frozen=True)
class LinkJob:
    """One claimed link with what the pass fetched for it. ``open_exceptions`` is False
    when the claim found no open exception on the link: its decision resolves nothing."""

    row: LinkRow
    memory: LinkMemory
    truth: LinkTruth
    skus: Mapping[str, SkuResolution]
    calls: list[ApiCall]  # the batch's API calls that concern this order
    open_exceptions: bool = True


class Streaks:
    """Immediate re-decisions in a row per link, and the next due time they lead to."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._streaks: dict[int, int] = {}

    def finish(
        self, row: LinkRow, actions: Sequence[Action], decided_due: datetime | None,
        failed: Outcome | None, warning: str | None, *, now: datetime, retry_soon: timedelta,
    ) -> dict[str, Any]:
        """The next due time, attempts and error to save with the lease's release."""
        attempts = 0
        error: str | None = warning
        due = decided_due
        # An action that found the decision's view stale ("stale" in its ids: the payment
        # after an address write made Shopify recalculate the tax) sent nothing: decide
        # again at once on fresh truth, as after a success, without a back-off.
        stale = failed is not None and failed.ids.get("stale") == "true"
        if failed is not None and failed.status is OutcomeStatus.UNKNOWN and not stale:
            attempts = row.attempts + 1
            error = failed.message or "the outcome of an action is unknown"
            due = now + backoff(attempts, self.rng)
            self._streaks.pop(row.id, None)
        elif failed is None and decided_due is not None and all(
            isinstance(action, SELF_TIMED_ACTIONS) for action in actions
        ) and actions:
            # A create or a hold that succeeded: the decision already says when to look
            # next (fulfilment orders ~2 s after a create; the release or the periodic
            # re-check after a hold). Looking at once would spend a Shopify read for nothing.
            self._streaks.pop(row.id, None)
            due = decided_due
        elif actions:
            # Something was done (or refused): decide again at once on fresh truth.
            streak = self._streaks.get(row.id, 0) + 1
            self._streaks[row.id] = streak
            due = now if streak <= MAX_IMMEDIATE_ROUNDS else now + retry_soon
            if failed is not None:
                error = failed.message
        else:
            self._streaks.pop(row.id, None)
        if warning is not None:
            attempts = row.attempts + 1
        return {"next_due_at": due, "attempts": attempts,
                "last_error": None if error is None else error[:2000]}


def memory_changes(memory: LinkMemory) -> dict[str, Any]:
    """The link columns that follow from a decision's memory."""
    creating = memory.shopify_order_id is None and memory.state in (LinkState.NEW, LinkState.CREATING)
    changes: dict[str, Any] = {"memory": memory.to_json(), "state": memory.state.value,
                               "priority": links.CREATE_PRIORITY if creating else links.DEFAULT_PRIORITY}
    if memory.shopify_order_id:
        changes["shopify_order_id"] = memory.shopify_order_id
    return changes
