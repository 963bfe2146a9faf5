"""A virtual-time scheduler: run callbacks when the sandbox clock reaches an instant.

Everything time-driven in the sandboxes goes through here: ON_HOLD ending an hour after
payment, unpaid orders auto-cancelling, fulfilment orders appearing after the order,
the search index catching up, webhook retries, cancellation-request deadlines.

``run()`` is an asyncio task: it sleeps for the *real* time until the earliest entry is
due under the clock's current rate, and wakes early whenever an entry is added or the
clock jumps (``advance``); each due entry's awaitable part (a webhook delivery waiting for
its receiver) runs as its own task, so nothing waits for an unrelated slow receiver.
``run_due()`` runs whatever is due right now and awaits it, which is what tests on a
``ManualClock`` (and the control API's clock advance) use.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import heapq
import inspect
import itertools
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from orderbridge.clock import Clock, as_utc

__all__ = ["Scheduled", "Scheduler"]

log = logging.getLogger(__name__)

Callback = Callable[[], Awaitable[None] | None]

# Upper bound for one real sleep: the loop re-checks at least this often, which also
# covers clocks whose rate changes without a jump notification.
MAX_REAL_SLEEP_SECONDS = 0.5


@dataclass(order=True)
class Scheduled:
    """One scheduled callback. ``cancel()`` stops it if it has not run yet."""

    when: datetime
    seq: int
    name: str = field(compare=False)
    callback: Callback = field(compare=False, repr=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        self.cancelled = True


class Scheduler:
    """Runs callbacks at virtual instants of ``clock``."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._heap: list[Scheduled] = []
        self._seq = itertools.count()
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._unsubscribe = clock.subscribe(self._poke)
        self.errors: list[str] = []
        self._running: set[asyncio.Future[None]] = set()

    def _poke(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None and not loop.is_closed():
            loop.call_soon_threadsafe(wake.set)

    def call_at(self, when: datetime, callback: Callback, *, name: str = "") -> Scheduled:
        """Run ``callback`` once the clock reads ``when`` (or later)."""
        entry = Scheduled(as_utc(when), next(self._seq), name or getattr(callback, "__name__", "?"), callback)
        heapq.heappush(self._heap, entry)
        self._poke()
        return entry

    def call_later(self, delay: timedelta, callback: Callback, *, name: str = "") -> Scheduled:
        """Run ``callback`` after ``delay`` of virtual time."""
        return self.call_at(self.clock.now() + delay, callback, name=name)

    def pending(self) -> list[Scheduled]:
        """Entries not yet run, earliest first."""
        return sorted(e for e in self._heap if not e.cancelled)

    def next_due(self) -> datetime | None:
        while self._heap and self._heap[0].cancelled:
            heapq.heappop(self._heap)
        return self._heap[0].when if self._heap else None

    async def run_due(self) -> int:
        """Run every entry due now (including ones that become due while running).

        Entries are started in time order; the awaitable part of entries due together (a
        webhook delivery waiting for its receiver, say) runs concurrently, as a platform's
        senders do, so one slow receiver does not hold up every other delivery and timer.
        """
        ran = 0
        while True:
            waiting: list[tuple[Scheduled, Awaitable[None]]] = []
            for entry, result in self._start_due_now():
                ran += 1
                if result is not None:
                    waiting.append((entry, result))
            if not waiting:
                return ran
            outcomes = await asyncio.gather(*(w for _, w in waiting), return_exceptions=True)
            for (entry, _), outcome in zip(waiting, outcomes, strict=True):
                if isinstance(outcome, Exception):
                    self._failed(entry, outcome)

    def _start_due_now(self) -> Iterator[tuple[Scheduled, Awaitable[None] | None]]:
        """Pop and call every entry due now, in time order: (entry, its awaitable part or
        None). A callback that raises is recorded and skipped."""
        while True:
            due = self.next_due()
            if due is None or due > self.clock.now():
                return
            entry = heapq.heappop(self._heap)
            if entry.cancelled:
                continue
            try:
                result = entry.callback()
            except Exception as exc:  # one broken callback must not stop the sandbox
                self._failed(entry, exc)
                continue
            yield entry, result if inspect.isawaitable(result) else None

    def _failed(self, entry: Scheduled, exc: BaseException) -> None:
        log.error("scheduled callback %s failed: %r", entry.name, exc, exc_info=exc)
        self.errors.append(f"{entry.name}: {exc!r}")

    def start_due(self) -> int:
        """Start every entry due now without waiting for its awaitable part: each runs as
        its own task, as a platform's senders work, so a delivery that becomes due while
        others wait for their receivers goes out at once instead of after them."""
        started = 0
        for entry, result in self._start_due_now():
            started += 1
            if result is not None:
                task = asyncio.ensure_future(result)
                self._running.add(task)
                task.add_done_callback(functools.partial(self._finished, entry))
        return started

    def _finished(self, entry: Scheduled, task: asyncio.Future[None]) -> None:
        self._running.discard(task)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            assert exc is not None
            self._failed(entry, exc)

    async def run(self) -> None:
        """Run forever (cancel the task to stop; entries still running are cancelled)."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        try:
            while True:
                self.start_due()
                due = self.next_due()
                wait = MAX_REAL_SLEEP_SECONDS
                if due is not None:
                    wait = min(wait, max(0.0, self.clock.real_seconds_until(due)))
                self._wake.clear()
                if wait > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), timeout=wait)
        finally:
            for task in list(self._running):
                task.cancel()
            self._loop = None
            self._wake = None

    def close(self) -> None:
        self._unsubscribe()
