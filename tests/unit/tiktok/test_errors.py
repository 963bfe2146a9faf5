"""Envelope codes and HTTP failures become typed errors; retries and call records."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from orderbridge.adapters.tiktok import InvalidResponse, StaleTimestamp, TokenExpired
from orderbridge.errors import (
    AuthError,
    NotFound,
    RateLimited,
    Rejected,
    RemoteError,
    RemoteTimeout,
    UpstreamUnavailable,
)
from tests.unit.tiktok.fakes import Harness, fail, ok


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (105005, AuthError),
        (106001, AuthError),
        (101000, AuthError),
        (106013, AuthError),
        (36009004, AuthError),
        (36009033, AuthError),
        (21008111, NotFound),
        (21011044, Rejected),
        (21004015, Rejected),
        (21011022, Rejected),
        (11028006, Rejected),
        (21011025, Rejected),
        (21008099, Rejected),
        (21008025, Rejected),
        (21011049, Rejected),
        (21011050, Rejected),
        (21011051, Rejected),
        (21011052, Rejected),
        (21011006, Rejected),
        (21011020, Rejected),
        (21042056, Rejected),
        (21011003, Rejected),
        (21001001, Rejected),
        (25001021, Rejected),
        (21011007, Rejected),
        (99999999, Rejected),
    ],
)
async def test_permanent_codes(
    make: Callable[..., Harness], code: int, kind: type[RemoteError]
) -> None:
    h = make(fail(code, "Unexpected identifier: shop_cipher"))
    with pytest.raises(kind) as caught:
        await h.client.mark_package_shipped("576", "T1", "P1")
    error = caught.value
    assert type(error) is kind
    assert error.code == code
    assert "Unexpected identifier: shop_cipher" in str(error)  # TikTok's message is kept
    assert (error.api, error.operation, error.request_id) == (
        "tiktok",
        "fulfillment.mark_shipped",
        "rid-1",
    )
    assert len(h.fake.requests) == 1  # permanent: never retried


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        (fail(36009002, "too many"), RateLimited),
        (httpx.Response(429, text="slow down"), RateLimited),
        (fail(36009003, "internal"), UpstreamUnavailable),
        (fail(36009007, "timeout"), UpstreamUnavailable),
        (fail(11001031, "System process error, please try again later."), UpstreamUnavailable),
        (fail(21001008, "System process error, please try again later."), UpstreamUnavailable),
        (httpx.Response(503, text="<html>busy</html>"), UpstreamUnavailable),
        (httpx.Response(502, json={"code": 36009003, "message": "x"}), UpstreamUnavailable),
        (httpx.Response(200, text="not json"), UpstreamUnavailable),
        (httpx.ReadTimeout("timed out"), RemoteTimeout),
        (httpx.ConnectError("refused"), RemoteTimeout),
        (httpx.RemoteProtocolError("peer closed"), RemoteTimeout),
    ],
)
async def test_retryable_failures_are_retried_for_reads(
    make: Callable[..., Harness], reply: httpx.Response | Exception, kind: type[RemoteError]
) -> None:
    h = make(*[reply] * 4)
    with pytest.raises(kind):
        await h.client.get_order_tracking("576")
    assert len(h.fake.requests) == 4
    # full jitter with random() == 1.0: the cap of each step, 0.5 * 2**n
    assert h.time.sleeps == [0.5, 1.0, 2.0]
    assert [c.attempt for c in h.recorder.calls] == [1, 2, 3, 4]
    assert not any(c.ok for c in h.recorder.calls)


async def test_retry_then_success(make: Callable[..., Harness]) -> None:
    h = make(httpx.Response(503), ok({"tracking": [{"description": "Delivered"}]}))
    events = await h.client.get_order_tracking("576")
    assert events[0].description == "Delivered"
    assert [c.ok for c in h.recorder.calls] == [False, True]
    assert h.recorder.calls[0].details["retry_in_s"] == 0.5


async def test_max_attempts_is_configurable(make: Callable[..., Harness]) -> None:
    h = make(*[httpx.Response(503)] * 2, max_attempts=2)
    with pytest.raises(UpstreamUnavailable):
        await h.client.get_order_tracking("576")
    assert len(h.fake.requests) == 2


async def test_jitter_uses_the_random_draw(make: Callable[..., Harness]) -> None:
    h = make(httpx.Response(503), httpx.Response(503), ok({}), draw=0.25)
    await h.client.get_order_tracking("576")
    assert h.time.sleeps == [0.125, 0.25]


@pytest.mark.parametrize(
    "reply",
    [
        httpx.Response(503),
        fail(36009003, "internal"),
        httpx.ReadTimeout("timed out"),
    ],
)
async def test_unknown_outcome_writes_are_not_retried(
    make: Callable[..., Harness], reply: httpx.Response | Exception
) -> None:
    h = make(reply)
    with pytest.raises((UpstreamUnavailable, RemoteTimeout)):
        await h.client.mark_package_shipped("576", "T1", "P1")
    assert len(h.fake.requests) == 1
    assert h.time.sleeps == []


async def test_writes_are_retried_when_surely_not_processed(make: Callable[..., Harness]) -> None:
    h = make(
        httpx.ConnectError("refused"),
        fail(36009002, "rate", status=429),
        ok({"package_id": "pkg"}),
    )
    shipped = await h.client.mark_package_shipped("576", "T1", "P1")
    assert shipped.package_id == "pkg"
    assert len(h.fake.requests) == 3


async def test_remote_timeout_says_whether_the_request_was_sent(
    make: Callable[..., Harness],
) -> None:
    h = make(httpx.ReadTimeout("timed out"))
    with pytest.raises(RemoteTimeout) as caught:
        await h.client.update_shipping_info("576", "T", "P")
    assert caught.value.details == {"sent": True}
    assert h.recorder.calls[0].status is None


async def test_retry_after_header_is_honoured(make: Callable[..., Harness]) -> None:
    h = make(
        httpx.Response(429, headers={"Retry-After": "3"}, json={"code": 36009002, "message": "x"}),
        ok({"shops": []}),
    )
    await h.client.get_authorized_shops()
    assert h.time.sleeps == [3.0]


async def test_long_retry_after_is_raised_not_slept(make: Callable[..., Harness]) -> None:
    h = make(httpx.Response(429, headers={"Retry-After": "120"}))
    with pytest.raises(RateLimited) as caught:
        await h.client.get_authorized_shops()
    assert caught.value.retry_after == 120.0
    assert h.time.sleeps == []


async def test_http_401_without_code_is_auth_error(make: Callable[..., Harness]) -> None:
    h = make(httpx.Response(401, text="unauthorised"))
    with pytest.raises(AuthError) as caught:
        await h.client.get_authorized_shops()
    assert not isinstance(caught.value, TokenExpired)
    assert caught.value.status == 401


async def test_success_with_non_object_data_is_invalid(make: Callable[..., Harness]) -> None:
    h = make(httpx.Response(200, json={"code": 0, "message": "ok", "data": [1]}))
    with pytest.raises(InvalidResponse):
        await h.client.get_authorized_shops()


async def test_call_records_have_no_secrets(make: Callable[..., Harness]) -> None:
    h = make(
        fail(105002, "expired"),
        ok(
            {
                "access_token": "a2",
                "access_token_expire_in": 1_800_000_000,
                "refresh_token": "r2",
                "refresh_token_expire_in": 1_900_000_000,
            }
        ),
        ok({"shops": []}),
    )
    await h.client.get_authorized_shops()
    assert [c.operation for c in h.recorder.calls] == [
        "shops.list",
        "auth.token_refresh",
        "shops.list",
    ]
    assert [c.attempt for c in h.recorder.calls] == [1, 1, 2]
    for call in h.recorder.calls:
        text = repr(call)
        for secret in ("s3cr3t", "refresh-1", "access-1", "a2", "r2"):
            assert secret not in text.replace("shops.list", "")
        assert "?" not in call.path
    first = h.recorder.calls[0]
    assert (first.method, first.path, first.status, first.code) == (
        "GET",
        "/authorization/202309/shops",
        200,
        "105002",
    )
    assert first.request_id == "rid-1"
    assert first.api == "tiktok"


async def test_a_stale_timestamp_is_signed_again_even_for_a_write(make: Callable[..., Harness]) -> None:
    stale = "Invalid timestamp: outside the allowed window"
    h = make(fail(36009004, stale), ok({"package_id": "P9"}))
    shipped = await h.client.mark_package_shipped("576", "T1", "P1")
    assert shipped.package_id == "P9"
    assert len(h.fake.requests) == 2  # sent again at once, freshly signed (no back-off)
    assert all(s == 0 for s in h.time.sleeps)
    assert [c.ok for c in h.recorder.calls] == [False, True]


async def test_a_stale_timestamp_that_persists_says_check_the_clock(make: Callable[..., Harness]) -> None:
    stale = "Invalid timestamp: outside the allowed window"
    h = make(*[fail(36009004, stale)] * 4)
    with pytest.raises(StaleTimestamp, match="clock"):
        await h.client.mark_package_shipped("576", "T1", "P1")
    assert len(h.recorder.calls) == 4


def test_every_documented_fulfilment_code_is_named_and_grouped() -> None:
    """Each code Mark Package As Shipped and Update (Package) Shipping Info document
    (https://partner.tiktokshop.com/docv2/page/6503c95456e2bb0289ee4e81,
    .../650ab7c40fcef602bf346f3a, .../650aa666c16ffe02b8f1203c) is a TikTokCode, and the
    ones the engine acts on are in their group."""
    from orderbridge.adapters.tiktok import ALREADY_SHIPPED_CODES, UPDATE_REFUSED_CODES, TikTokCode
    from orderbridge.adapters.tiktok.codes import NOT_SHIPPABLE_NOW_CODES, UPSTREAM_CODES

    documented = {
        36009003, 11001027, 11001031, 11005004, 11005010, 11006005, 11006026, 11021009, 11028006,
        11050001, 21001001, 21001008, 21001011, 21001029, 21001043, 21001055, 21004012, 21004015,
        21004016, 21004019, 21004020, 21008025, 21008042, 21008044, 21008099, 21008106, 21008300,
        21011003, 21011004, 21011006, 21011007, 21011012, 21011013, 21011020, 21011022, 21011025,
        21011026, 21011029, 21011030, 21011033, 21011036, 21011046, 21011048, 21011050, 21011051,
        21021010, 21022025, 21022026, 21022028, 21022029, 21022030, 21032001, 21034006, 21034012,
        21042056, 21042057,  # Mark Package As Shipped (56)
        10007002, 21011028, 21011041, 21011042, 21011043, 21011049, 21011052, 25001010,  # updates
    }
    assert documented <= {int(c) for c in TikTokCode}
    assert {21008099, 21011006, 21011020, 21042056} == {int(c) for c in ALREADY_SHIPPED_CODES}
    assert {21011049, 21011050, 21011051, 21011052} == {int(c) for c in UPDATE_REFUSED_CODES}
    assert {21011003, 21042057} <= {int(c) for c in NOT_SHIPPABLE_NOW_CODES}
    assert {11001031, 21001008, 21008300, 21022029, 21022030} <= {int(c) for c in UPSTREAM_CODES}


async def test_invalid_version_is_not_a_credential_error(make: Callable[..., Harness]) -> None:
    h = make(fail(36009004, "Invalid version 202101"))
    with pytest.raises(Rejected) as caught:
        await h.client.mark_package_shipped("576", "T1", "P1")
    assert type(caught.value) is Rejected
