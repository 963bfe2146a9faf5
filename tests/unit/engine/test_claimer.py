"""The per-process claimer (engine/claimer.py) on a queue of fake due work: no database.

Passes are held open by events, and links are done when the test says, so which claims
happen while the process is full is decided by the test, not by timing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from orderbridge.engine.claimer import ClaimLoop

BOUND = 5.0  # a failure bound only


class Work:
    """Due items, claims (owner, items) and passes that end when the test says."""

    def __init__(self, due: int) -> None:
        self.due = list(range(due))
        self.claims: list[tuple[str, list[int]]] = []
        self.finish: dict[str, asyncio.Event] = {}
        self.done: dict[str, Callable[[], None]] = {}
        self.started = asyncio.Queue[str]()
        self.idle = asyncio.Queue[None]()

    async def claim(self, owner: str, limit: int) -> list[int]:
        taken, self.due = self.due[:limit], self.due[limit:]
        self.claims.append((owner, taken))
        return taken

    async def work(self, owner: str, batch: list[int], done: Callable[[], None]) -> None:
        self.finish[owner] = asyncio.Event()
        self.done[owner] = done
        self.started.put_nowait(owner)
        await self.finish[owner].wait()

    async def idle_seconds(self) -> float:
        self.idle.put_nowait(None)
        return 60.0


def _loop(work: Work, *, lanes: int, batch: int, pacing: float = 0.0) -> tuple[ClaimLoop[list[int]], asyncio.Event]:
    wake = asyncio.Event()
    loop = ClaimLoop(owner="p", lanes=lanes, batch=batch, claim=work.claim,
                     work=work.work, idle_seconds=work.idle_seconds, wake=wake, pacing=pacing)
    return loop, wake


async def test_one_claim_takes_a_full_batch_and_a_full_process_claims_nothing() -> None:
    work = Work(due=7)
    loop, wake = _loop(work, lanes=2, batch=3)
    stop = asyncio.Event()
    task = asyncio.create_task(loop.run(stop))
    first = await asyncio.wait_for(work.started.get(), BOUND)
    second = await asyncio.wait_for(work.started.get(), BOUND)
    # Room for two batches: two full claims; the rest waits although work is due.
    assert work.claims == [("p/0", [0, 1, 2]), ("p/1", [3, 4, 5])]
    wake.set()
    await asyncio.sleep(0)
    assert len(work.claims) == 2
    work.finish[first].set()  # a pass ends: its slots come back, the rest is claimed
    third = await asyncio.wait_for(work.started.get(), BOUND)
    assert work.claims[2] == (third, [6])
    await asyncio.wait_for(work.idle.get(), BOUND)  # room for two more: looked, found nothing
    assert work.claims[3][1] == []
    assert not work.finish[second].is_set()
    stop.set()
    for event in work.finish.values():
        event.set()
    await asyncio.wait_for(task, BOUND)
    assert not loop.passes
    assert loop.free == 6


async def test_a_link_done_frees_its_slot_while_its_pass_goes_on() -> None:
    """No head-of-line blocking: a pass waiting on its slowest link does not hold the room
    of the links it finished, so a new order is claimed while the pass still runs."""
    work = Work(due=10)
    loop, wake = _loop(work, lanes=1, batch=10)
    stop = asyncio.Event()
    task = asyncio.create_task(loop.run(stop))
    first = await asyncio.wait_for(work.started.get(), BOUND)
    assert work.claims == [(first, list(range(10)))]
    work.due = [10, 11, 12]  # new orders arrive; the pass is busy with a slow link
    wake.set()
    await asyncio.sleep(0)
    assert len(work.claims) == 1  # full
    work.done[first]()  # one link done: one slot, fewer than a claim is worth
    await asyncio.sleep(0)
    assert len(work.claims) == 1
    work.done[first]()  # two links done: room for a claim of two
    second = await asyncio.wait_for(work.started.get(), BOUND)
    assert work.claims[1] == (second, [10, 11])
    assert not work.finish[first].is_set()  # the first pass still runs
    stop.set()
    for event in work.finish.values():
        event.set()
    await asyncio.wait_for(task, BOUND)
    assert loop.free == 10


async def test_a_wake_claims_once_for_one_lane_and_pacing_gathers_what_trickles_in() -> None:
    work = Work(due=0)
    loop, wake = _loop(work, lanes=4, batch=10, pacing=0.5)
    stop = asyncio.Event()
    task = asyncio.create_task(loop.run(stop))
    await asyncio.wait_for(work.idle.get(), BOUND)
    work.due = [1]
    wake.set()  # one hint: one claim by one lane, not one per idle lane
    owner = await asyncio.wait_for(work.started.get(), BOUND)
    assert work.claims[-1] == (owner, [1])
    claims = len(work.claims)
    # Hints trickling in during the pacing pause are claimed together, after it.
    for item in (2, 3, 4):
        work.due.append(item)
        wake.set()
        await asyncio.sleep(0.01)
    assert len(work.claims) == claims
    await asyncio.wait_for(work.started.get(), BOUND)
    assert work.claims[claims][1] == [2, 3, 4]
    stop.set()
    for event in work.finish.values():
        event.set()
    await asyncio.wait_for(task, BOUND)


async def test_cancelling_the_loop_cancels_the_passes_in_flight() -> None:
    work = Work(due=2)
    loop, _wake = _loop(work, lanes=1, batch=5)
    task = asyncio.create_task(loop.run(asyncio.Event()))
    await asyncio.wait_for(work.started.get(), BOUND)
    [running] = loop.passes
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert running.cancelled()


async def test_a_failed_claim_or_pass_does_not_stop_the_loop() -> None:
    work = Work(due=1)
    calls = {"claims": 0}

    async def flaky_claim(owner: str, limit: int) -> list[int]:
        calls["claims"] += 1
        if calls["claims"] == 1:
            raise ConnectionError("database down")
        return await work.claim(owner, limit)

    async def failing_work(owner: str, batch: list[int], done: Callable[[], None]) -> None:
        work.started.put_nowait(owner)
        raise ValueError("a pass failed")

    loop = ClaimLoop(owner="p", lanes=1, batch=5, claim=flaky_claim, work=failing_work,
                     idle_seconds=work.idle_seconds, wake=asyncio.Event(), error_pause=0.01)
    stop = asyncio.Event()
    task = asyncio.create_task(loop.run(stop))
    await asyncio.wait_for(work.started.get(), BOUND)
    await asyncio.wait_for(work.idle.get(), BOUND)  # the lane came back and found nothing
    stop.set()
    await asyncio.wait_for(task, BOUND)
    assert calls["claims"] >= 3
