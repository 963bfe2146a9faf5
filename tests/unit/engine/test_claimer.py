"""The per-process claimer (engine/claimer.py) on a queue of fake due work: no database.

Passes are held open by events, so which claims happen while lanes are busy is decided by
the test, not by timing.
"""

from __future__ import annotations

import asyncio

from orderbridge.engine.claimer import ClaimLoop

BOUND = 5.0  # a failure bound only


class Work:
    """Due items, claims (owner, items) and passes that end when the test says."""

    def __init__(self, due: int) -> None:
        self.due = list(range(due))
        self.claims: list[tuple[str, list[int]]] = []
        self.finish: dict[str, asyncio.Event] = {}
        self.started = asyncio.Queue[str]()
        self.idle = asyncio.Queue[None]()

    async def claim(self, owner: str, limit: int) -> list[int]:
        taken, self.due = self.due[:limit], self.due[limit:]
        self.claims.append((owner, taken))
        return taken

    async def work(self, owner: str, batch: list[int]) -> None:
        self.finish[owner] = asyncio.Event()
        self.started.put_nowait(owner)
        await self.finish[owner].wait()

    async def idle_seconds(self) -> float:
        self.idle.put_nowait(None)
        return 60.0


def _loop(work: Work, *, lanes: int, batch: int, pacing: float = 0.0) -> tuple[ClaimLoop[list[int]], asyncio.Event]:
    wake = asyncio.Event()
    loop = ClaimLoop(owner="p", lanes=lanes, batch=batch, claim=lambda o: work.claim(o, batch),
                     work=work.work, idle_seconds=work.idle_seconds, wake=wake, pacing=pacing)
    return loop, wake


async def test_one_claim_takes_a_full_batch_and_busy_lanes_claim_nothing() -> None:
    work = Work(due=7)
    loop, wake = _loop(work, lanes=2, batch=3)
    stop = asyncio.Event()
    task = asyncio.create_task(loop.run(stop))
    first = await asyncio.wait_for(work.started.get(), BOUND)
    second = await asyncio.wait_for(work.started.get(), BOUND)
    # Two lanes, two full batches; the third batch waits for a lane although work is due.
    assert work.claims == [("p/0", [0, 1, 2]), ("p/1", [3, 4, 5])]
    wake.set()
    await asyncio.sleep(0)
    assert len(work.claims) == 2
    work.finish[first].set()  # a lane frees up: the rest is claimed by that lane
    assert await asyncio.wait_for(work.started.get(), BOUND) == first
    assert work.claims[2] == (first, [6])
    assert len(work.claims) == 3  # both lanes busy again: no claim, no look at the database
    work.finish[first].set()
    await asyncio.wait_for(work.idle.get(), BOUND)  # the next claim found nothing: idle
    assert work.claims[3] == (first, [])
    assert not work.finish[second].is_set()
    stop.set()
    for event in work.finish.values():
        event.set()
    await asyncio.wait_for(task, BOUND)
    assert not loop.passes


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

    async def flaky_claim(owner: str) -> list[int]:
        calls["claims"] += 1
        if calls["claims"] == 1:
            raise ConnectionError("database down")
        return await work.claim(owner, 5)

    async def failing_work(owner: str, batch: list[int]) -> None:
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
