"""Vendor answers become orderbridge errors; the token bucket paces bursts."""

import httpx
import pytest

from orderbridge.adapters import amazon_mcf, shipbob
from orderbridge.adapters.limiter import TokenBucket
from orderbridge.errors import (
    AuthError,
    NotFound,
    RateLimited,
    Rejected,
    RemoteError,
    UpstreamUnavailable,
)


def answer(status: int, body: object = None, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers or {},
                          request=httpx.Request("GET", "https://example.test/"))


def amazon_error(status: int, code: str, message: str = "m") -> httpx.Response:
    return answer(status, {"errors": [{"code": code, "message": message, "details": ""}]},
                  {"x-amzn-RequestId": "rid-1"})


@pytest.mark.parametrize(("response", "kind"), [
    (amazon_error(429, "QuotaExceeded"), RateLimited),
    (amazon_error(500, "InternalFailure"), UpstreamUnavailable),
    (amazon_error(503, "ServiceUnavailable"), UpstreamUnavailable),
    (amazon_error(403, "Unauthorized"), AuthError),
    (answer(401, {"error": "invalid_client", "error_description": "bad"}), AuthError),
    (amazon_error(404, "NotFound"), NotFound),
    (amazon_error(400, "InvalidInput", "Requested order not found"), NotFound),
    (amazon_error(400, "InvalidInput", "cannot be cancelled"), Rejected),
])
def test_amazon_answers(response: httpx.Response, kind: type[RemoteError]) -> None:
    error = amazon_mcf.interpret(response, "op", 0.0)
    assert type(error) is kind
    assert isinstance(error, RemoteError)
    assert error.status == response.status_code


def test_amazon_error_keeps_code_and_request_id() -> None:
    error = amazon_mcf.interpret(amazon_error(400, "InvalidInput", "bad date"), "createFulfillmentOrder", 0.0)
    assert isinstance(error, Rejected)
    assert (error.code, error.request_id, error.operation) == ("InvalidInput", "rid-1", "createFulfillmentOrder")
    assert "bad date" in str(error)


@pytest.mark.parametrize(("response", "kind"), [
    (answer(429, {"title": "Too Many Requests"}, {"x-retry-after": "17"}), RateLimited),
    (answer(502, None), UpstreamUnavailable),
    (answer(401, {"title": "Unauthorized"}), AuthError),
    (answer(404, {"title": "Not Found"}), NotFound),
    (answer(422, {"reference_id": ["already exists"]}), Rejected),
])
def test_shipbob_answers(response: httpx.Response, kind: type[RemoteError]) -> None:
    assert type(shipbob.interpret(response, "op", 0.0)) is kind


def test_shipbob_429_carries_x_retry_after_and_422_the_field_messages() -> None:
    limited = shipbob.interpret(answer(429, None, {"x-retry-after": "17"}), "getOrders", 0.0)
    assert isinstance(limited, RateLimited)
    assert limited.retry_after == 17
    rejected = shipbob.interpret(answer(422, {"reference_id": ["already exists"]}), "createOrder", 0.0)
    assert "reference_id: already exists" in str(rejected)


def test_token_bucket_allows_the_burst_then_the_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(2.0, 3, monotonic=lambda: now[0])
    assert [bucket.reserve("op") for _ in range(5)] == [0.0, 0.0, 0.0, 0.5, 1.0]
    assert bucket.reserve("other") == 0.0
    now[0] = 10.0  # refilled, never above the burst
    assert [bucket.reserve("op") for _ in range(4)] == [0.0, 0.0, 0.0, 0.5]


def test_token_bucket_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="rate"):
        TokenBucket(0, 1)
    with pytest.raises(ValueError, match="burst"):
        TokenBucket(1, 0)
