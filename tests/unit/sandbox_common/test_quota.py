"""The 3PL sandboxes' quotas count on the sandbox clock."""

from orderbridge.clock import ManualClock
from orderbridge.sandbox.common.quota import SlidingWindow, TokenBucket


def test_token_bucket_serves_the_burst_then_the_rate() -> None:
    clock = ManualClock()
    bucket = TokenBucket(clock, rate=2.0, burst=30)
    assert all(bucket.allow("op") for _ in range(30))
    assert not bucket.allow("op")
    assert bucket.allow("other op")
    clock.advance(0.5)  # one token back
    assert bucket.allow("op")
    assert not bucket.allow("op")
    clock.advance(3600)  # never more than the burst
    assert sum(bucket.allow("op") for _ in range(40)) == 30


def test_sliding_window_says_how_long_to_wait() -> None:
    clock = ManualClock()
    window = SlidingWindow(clock, limit=150, window=60.0)
    for n in range(150):
        assert window.allow("token")
        clock.advance(0.1 if n < 149 else 0)
    assert window.remaining("token") == 0
    assert not window.allow("token")
    assert window.retry_after("token") == 46  # the first call (at 0 s) leaves at 60 s; now is 14.9 s
    clock.advance(45.15)
    assert window.remaining("token") == 1
    assert window.retry_after("token") == 0
    assert window.allow("token")
