"""The 3PL request loop: what is retried, what is raised, when a token is refreshed."""

from collections.abc import Callable

import httpx
import pytest

from orderbridge.adapters import shipbob
from orderbridge.adapters.calls import MemoryRecorder
from orderbridge.adapters.rest import RestExecutor
from orderbridge.adapters.retry import RetryPolicy, Runtime
from orderbridge.errors import AuthError, RateLimited, RemoteTimeout, UpstreamUnavailable


class Script:
    """Answers in order; an exception in the list is raised instead of answering."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.seen = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen += 1
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def harness(script: Script) -> tuple[RestExecutor, list[float], MemoryRecorder, Callable[[], httpx.Request]]:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    recorder = MemoryRecorder()
    http = httpx.AsyncClient(transport=httpx.MockTransport(script))
    runtime = Runtime(clock=lambda: 0.0, monotonic=lambda: 0.0, sleep=sleep, random=lambda: 1.0,
                      recorder=recorder)
    executor = RestExecutor("shipbob", http, runtime, RetryPolicy(max_attempts=3, max_retry_after=60),
                            shipbob.interpret)
    return executor, sleeps, recorder, lambda: http.build_request("POST", "https://x.test/order")


def status(code: int, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(code, json={"title": "t"}, headers=headers or {})


async def test_a_failed_write_with_an_unknown_outcome_is_raised_at_once() -> None:
    script = Script(status(502), status(201))
    executor, sleeps, recorder, request = harness(script)

    async def build() -> httpx.Request:
        return request()

    with pytest.raises(UpstreamUnavailable):
        await executor.run(operation="createOrder", build=build, idempotent=False)
    assert (script.seen, sleeps, [c.status for c in recorder.calls]) == (1, [], [502])


async def test_a_failed_read_is_retried_with_back_off() -> None:
    script = Script(status(502), status(503), status(200))
    executor, sleeps, recorder, request = harness(script)

    async def build() -> httpx.Request:
        return request()

    reply = await executor.run(operation="getOrders", build=build, idempotent=True)
    assert reply.status == 200
    assert sleeps == [0.5, 1.0]
    assert [c.attempt for c in recorder.calls] == [1, 2, 3]


async def test_a_write_that_never_left_is_retried() -> None:
    script = Script(httpx.ConnectError("refused"), status(201))
    executor, _sleeps, recorder, request = harness(script)

    async def build() -> httpx.Request:
        return request()

    assert (await executor.run(operation="createOrder", build=build, idempotent=False)).status == 201
    assert recorder.calls[0].details["error"] == "RemoteTimeout"


async def test_a_write_that_timed_out_is_raised() -> None:
    executor, _sleeps, _recorder, request = harness(Script(httpx.ReadTimeout("slow"), status(201)))

    async def build() -> httpx.Request:
        return request()

    with pytest.raises(RemoteTimeout):
        await executor.run(operation="createOrder", build=build, idempotent=False)


async def test_retry_after_is_honoured_unless_longer_than_the_policy_allows() -> None:
    executor, sleeps, _recorder, request = harness(Script(
        status(429, {"x-retry-after": "42"}), status(200), status(429, {"x-retry-after": "90"})))

    async def build() -> httpx.Request:
        return request()

    await executor.run(operation="getOrders", build=build, idempotent=False)  # 429: nothing ran
    assert sleeps == [42.0]
    with pytest.raises(RateLimited) as too_long:
        await executor.run(operation="getOrders", build=build, idempotent=True)
    assert too_long.value.retry_after == 90


async def test_an_auth_error_refreshes_once_then_raises() -> None:
    executor, _sleeps, _recorder, request = harness(Script(status(401), status(200), status(401), status(403)))
    refreshes: list[int] = []

    async def build() -> httpx.Request:
        return request()

    async def refresh() -> None:
        refreshes.append(1)

    assert (await executor.run(operation="getOrder", build=build, idempotent=True,
                               on_auth_error=refresh)).status == 200
    with pytest.raises(AuthError):
        await executor.run(operation="getOrder", build=build, idempotent=True, on_auth_error=refresh)
    assert len(refreshes) == 2  # once per call, never twice in one call
