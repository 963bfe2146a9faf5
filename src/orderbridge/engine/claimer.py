"""One claimer per process, fanning claimed batches out to passes, a slot per link.

The reconciler's workers do not each look for work. A single ``ClaimLoop`` per process
claims, and only when it has room: the process works at most ``lanes * batch`` links at
once (a *slot* each). It leases up to a batch of due links (no more than the free slots),
starts a pass over them, then claims again while slots are left. So:

- a hint that makes a few links due is claimed once, by one pass, not raced for by every
  idle task of the process (each of which would read TikTok for a link or two);
- a link gives its slot back as soon as its own work is done (``work`` calls ``done()``),
  not when the slowest link of its pass is: a new order is claimed while a pass still
  waits for the Shopify budget on other orders (no head-of-line blocking per pass); the
  claimer waits for ``min_claim`` free slots, so a busy process claims batches, not one
  link per finished link;
- a busy process claims nothing until slots free up, and then takes everything due up to
  a batch, leaving the rest to processes that have room;
- with ``pacing``, a claim that did not fill a batch is followed by a short pause before
  the next one, so hints that trickle in go into one batch instead of one claim each;
- idle, it sleeps until ``wake`` is set (a hint, a link done, a clock jump) or for
  ``idle_seconds()`` (the next timer, capped by a safety interval): no polling per task.

The loop knows nothing of links: ``claim(owner, limit)`` and ``work(owner, batch, done)``
do the job, which keeps it testable on its own.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable, Sized
from typing import Final, Generic, TypeVar

__all__ = ["ClaimLoop", "wait_any"]

log = logging.getLogger(__name__)

B = TypeVar("B", bound=Sized)

# A busy process claims again once this share of a batch is free (not per finished link:
# every claim costs a TikTok read for its batch).
MIN_CLAIM_SHARE: Final = 0.2
# A full process looks at least this often whether it was stopped (slots wake it at once).
ROOM_CHECK_SECONDS: Final = 60.0


class ClaimLoop(Generic[B]):
    """Claims for up to ``lanes * batch`` links in flight until stopped (module docstring).

    ``claim(owner, limit)`` leases up to ``limit`` links (empty: nothing due) to ``owner``
    (``<owner>/<n>``, unique per pass); ``work(owner, batch, done)`` is one pass over them
    and calls ``done()`` once per link finished (what it does not give back returns when the
    pass ends). ``error_pause`` is the wait after a failed claim.
    """

    def __init__(
        self,
        *,
        owner: str,
        lanes: int,
        batch: int,
        claim: Callable[[str, int], Awaitable[B]],
        work: Callable[[str, B, Callable[[], None]], Awaitable[None]],
        idle_seconds: Callable[[], Awaitable[float]],
        wake: asyncio.Event,
        pacing: float = 0.0,
        error_pause: float = 1.0,
    ) -> None:
        self.owner, self.lanes, self.batch = owner, lanes, batch
        self.claim, self.work, self.idle_seconds = claim, work, idle_seconds
        self.wake, self.pacing, self.error_pause = wake, pacing, error_pause
        self.passes: set[asyncio.Task[None]] = set()
        self.free = lanes * batch
        self.min_claim = max(1, min(batch, round(batch * MIN_CLAIM_SHARE)))
        self._room = asyncio.Event()
        self._room.set()
        self._numbers = itertools.count()

    async def run(self, stop: asyncio.Event) -> None:
        """Claim until ``stop`` is set, then wait for the passes in flight (cancelled with
        the loop if it is cancelled: an interrupted pass releases what it holds)."""
        try:
            await self._loop(stop)
        except asyncio.CancelledError:
            for task in self.passes:
                task.cancel()
            raise
        finally:
            if self.passes:
                await asyncio.gather(*self.passes, return_exceptions=True)

    async def _loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            if not await self._wait_room(stop):
                return
            owner = f"{self.owner}/{next(self._numbers)}"
            self.wake.clear()  # what is due from here on, this claim sees
            limit = min(self.batch, self.free)
            try:
                claimed = await self.claim(owner, limit)
            except Exception:  # e.g. the database is down: pause, go on
                log.exception("worker %s: claiming failed", owner)
                await wait_any(stop, self.wake, self.error_pause)
                continue
            if not len(claimed):
                await wait_any(stop, self.wake, await self.idle_seconds())
                continue
            self._take(len(claimed))
            task = asyncio.create_task(self._pass(owner, claimed), name=f"pass {owner}")
            self.passes.add(task)
            task.add_done_callback(self.passes.discard)
            if len(claimed) < limit and self.pacing > 0:
                await wait_any(stop, None, self.pacing)

    async def _pass(self, owner: str, claimed: B) -> None:
        """One pass; each link done frees its slot, the rest when the pass ends, and the
        claimer looks again (links saved due at once, after actions, are due now)."""
        held = len(claimed)

        def done() -> None:
            nonlocal held
            if held > 0:
                held -= 1
                self._give(1)

        try:
            await self.work(owner, claimed, done)
        except Exception:
            log.exception("worker %s: a pass failed", owner)
        finally:
            self._give(held)
            held = 0

    def _take(self, count: int) -> None:
        self.free -= count
        if self.free < self.min_claim:
            self._room.clear()

    def _give(self, count: int) -> None:
        self.free += count
        if self.free >= self.min_claim:
            self._room.set()
        self.wake.set()

    async def _wait_room(self, stop: asyncio.Event) -> bool:
        """Until enough slots are free (True), or ``stop`` is set (False)."""
        while not self._room.is_set() and not stop.is_set():
            await wait_any(stop, self._room, ROOM_CHECK_SECONDS)
        return not stop.is_set()


async def wait_any(stop: asyncio.Event, wake: asyncio.Event | None, seconds: float) -> None:
    """Sleep ``seconds`` or until ``stop`` or ``wake`` (if given) is set."""
    if seconds <= 0:
        await asyncio.sleep(0)
        return
    waiters = [asyncio.ensure_future(stop.wait())]
    if wake is not None:
        waiters.append(asyncio.ensure_future(wake.wait()))
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
