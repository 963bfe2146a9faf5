"""One claimer per process, fanning claimed batches out to a fixed number of workers.

The reconciler's workers do not each look for work. A single ``ClaimLoop`` per process
claims, and only when a worker (a *lane*) is free: it leases up to a batch of due links
to that lane and starts the lane's pass, then claims again for the next free lane. So:

- a hint that makes a few links due is claimed once, by one lane, not raced for by every
  idle task of the process (each of which would read TikTok for a link or two);
- a busy process claims nothing until a lane frees up, and then takes everything due up to
  a batch, leaving the rest to processes that have room;
- with ``pacing``, a claim that did not fill a batch is followed by a short pause before
  the next one, so hints that trickle in go into one batch instead of one claim each;
- idle, it sleeps until ``wake`` is set (a hint, a pass that ended, a clock jump) or for
  ``idle_seconds()`` (the next timer, capped by a safety interval): no polling per task.

The loop knows nothing of links: ``claim(owner)`` and ``work(owner, batch)`` do the job,
which keeps it testable on its own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sized
from typing import Generic, TypeVar

__all__ = ["ClaimLoop", "wait_any"]

log = logging.getLogger(__name__)

B = TypeVar("B", bound=Sized)


class ClaimLoop(Generic[B]):
    """Claims for ``lanes`` workers until stopped (see the module docstring).

    ``claim(owner)`` leases a batch (empty: nothing due) to ``owner`` (``<owner>/<lane>``,
    unique per lane); ``work(owner, batch)`` is one pass over it. A batch of ``batch`` or
    more counts as full. ``error_pause`` is the wait after a failed claim.
    """

    def __init__(
        self,
        *,
        owner: str,
        lanes: int,
        batch: int,
        claim: Callable[[str], Awaitable[B]],
        work: Callable[[str, B], Awaitable[None]],
        idle_seconds: Callable[[], Awaitable[float]],
        wake: asyncio.Event,
        pacing: float = 0.0,
        error_pause: float = 1.0,
    ) -> None:
        self.owner, self.lanes, self.batch = owner, lanes, batch
        self.claim, self.work, self.idle_seconds = claim, work, idle_seconds
        self.wake, self.pacing, self.error_pause = wake, pacing, error_pause
        self.passes: set[asyncio.Task[None]] = set()
        self._free: asyncio.Queue[int] = asyncio.Queue()
        for lane in range(lanes):
            self._free.put_nowait(lane)

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
            lane = await self._next_lane(stop)
            if lane is None:
                return
            owner = f"{self.owner}/{lane}"
            self.wake.clear()  # what is due from here on, this claim sees
            try:
                claimed = await self.claim(owner)
            except Exception:  # e.g. the database is down: pause, go on
                log.exception("worker %s: claiming failed", owner)
                self._free.put_nowait(lane)
                await wait_any(stop, self.wake, self.error_pause)
                continue
            if not len(claimed):
                self._free.put_nowait(lane)
                await wait_any(stop, self.wake, await self.idle_seconds())
                continue
            task = asyncio.create_task(self._pass(owner, lane, claimed), name=f"pass {owner}")
            self.passes.add(task)
            task.add_done_callback(self.passes.discard)
            if len(claimed) < self.batch and self.pacing > 0:
                await wait_any(stop, None, self.pacing)

    async def _pass(self, owner: str, lane: int, claimed: B) -> None:
        """One pass; then the lane is free and the claimer looks again (links saved due
        at once, after actions, are due now)."""
        try:
            await self.work(owner, claimed)
        except Exception:
            log.exception("worker %s: a pass failed", owner)
        finally:
            self._free.put_nowait(lane)
            self.wake.set()

    async def _next_lane(self, stop: asyncio.Event) -> int | None:
        """The next free lane, or None once ``stop`` is set."""
        if not self._free.empty():
            return self._free.get_nowait()
        getter = asyncio.ensure_future(self._free.get())
        stopper = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait([getter, stopper], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
            if not getter.done():
                getter.cancel()
        if getter.done() and not getter.cancelled():
            lane = getter.result()
            if not stop.is_set():
                return lane
            self._free.put_nowait(lane)
        return None


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
