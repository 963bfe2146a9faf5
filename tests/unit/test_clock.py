import json
import logging
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from orderbridge.bootstrap import Services
from orderbridge.clock import (
    ClockReading,
    ManualClock,
    RemoteClock,
    ScaledClock,
    SystemClock,
    as_utc,
    fetch_control_clock,
    from_unix,
    to_unix,
)
from orderbridge.errors import ConfigurationError
from orderbridge.settings import load_settings

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


class FakeMonotonic:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_manual_clock_moves_only_when_told() -> None:
    clock = ManualClock(T0)
    assert clock.now() == T0
    clock.advance(90)
    assert clock.now() == T0 + timedelta(seconds=90)
    clock.set(T0 + timedelta(hours=2))
    assert clock.now() == T0 + timedelta(hours=2)
    with pytest.raises(ValueError, match="forward"):
        clock.advance(-1)
    with pytest.raises(ValueError, match="forward"):
        clock.set(T0)
    assert clock.real_seconds_until(T0) == 0.0
    assert clock.real_seconds_until(T0 + timedelta(days=1)) == float("inf")


def test_scaled_clock_runs_at_its_rate_and_jumps() -> None:
    mono = FakeMonotonic()
    clock = ScaledClock(T0, rate=60, monotonic=mono)
    mono.t += 1.0  # one real second = one virtual minute
    assert clock.now() == T0 + timedelta(minutes=1)
    assert clock.real_seconds_until(T0 + timedelta(minutes=2)) == pytest.approx(1.0)
    clock.advance(timedelta(hours=1))
    assert clock.now() == T0 + timedelta(hours=1, minutes=1)
    clock.set_rate(0)
    mono.t += 50
    assert clock.now() == T0 + timedelta(hours=1, minutes=1)
    assert clock.real_seconds_until(T0 + timedelta(days=1)) == float("inf")
    assert clock.real_seconds_until(T0) == 0.0
    with pytest.raises(ValueError, match="forward"):
        clock.set(T0)
    with pytest.raises(ValueError, match="rate"):
        clock.set_rate(-1)
    with pytest.raises(ValueError, match="rate"):
        ScaledClock(T0, rate=-2)
    with pytest.raises(ValueError, match="forward"):
        clock.advance(-5)


def test_jumps_notify_listeners_until_unsubscribed() -> None:
    clock = ManualClock(T0)
    seen: list[datetime] = []
    unsubscribe = clock.subscribe(lambda: seen.append(clock.now()))
    clock.advance(1)
    unsubscribe()
    unsubscribe()  # twice is harmless
    clock.advance(1)
    assert seen == [T0 + timedelta(seconds=1)]


def test_system_clock_and_conversions() -> None:
    now = SystemClock().now()
    assert now.tzinfo is not None
    assert abs(SystemClock().real_seconds_until(now)) < 5
    assert to_unix(from_unix(1_700_000_000)) == 1_700_000_000
    assert as_utc(datetime(2026, 1, 1)) == datetime(2026, 1, 1, tzinfo=UTC)


class FakeRemote:
    """The sandbox's clock as GET /clock would report it, or an error."""

    def __init__(self, now: datetime, rate: float) -> None:
        self.now, self.rate = now, rate
        self.fail: Exception | None = None
        self.calls = 0

    def __call__(self) -> ClockReading:
        self.calls += 1
        if self.fail is not None:
            raise self.fail
        return self.now, self.rate


def test_remote_clock_extrapolates_between_readings() -> None:
    mono, remote = FakeMonotonic(), FakeRemote(T0, 60)
    clock = RemoteClock(remote, monotonic=mono)
    assert remote.calls == 1
    assert clock.now() == T0
    assert clock.rate == 60
    mono.t += 2.0
    assert clock.now() == T0 + timedelta(minutes=2)
    assert clock.real_seconds_until(T0 + timedelta(minutes=3)) == pytest.approx(1.0)
    assert clock.real_seconds_until(T0) == 0.0
    # A reading that agrees with the extrapolation (within a second) is no jump.
    remote.now = T0 + timedelta(minutes=2, seconds=0.5)
    seen: list[datetime] = []
    clock.subscribe(lambda: seen.append(clock.now()))
    assert clock.sync() is False
    assert seen == []
    assert clock.now() == T0 + timedelta(minutes=2, seconds=0.5)


def test_remote_clock_reports_jumps_and_rate_changes() -> None:
    mono, remote = FakeMonotonic(), FakeRemote(T0, 60)
    clock = RemoteClock(remote, monotonic=mono)
    seen: list[datetime] = []
    clock.subscribe(lambda: seen.append(clock.now()))
    mono.t += 1.0
    remote.now = T0 + timedelta(hours=1, minutes=1)  # POST /clock/advance {"seconds": 3600}
    assert clock.sync() is True
    assert seen == [T0 + timedelta(hours=1, minutes=1)]
    remote.rate = 0.0  # POST /clock {"mode": "fixed"}
    assert clock.sync() is True
    assert len(seen) == 2
    mono.t += 100
    assert clock.now() == T0 + timedelta(hours=1, minutes=1)
    assert clock.real_seconds_until(T0 + timedelta(hours=2)) == float("inf")
    assert clock.real_seconds_until(T0 + timedelta(hours=1)) == 0.0


def test_remote_clock_keeps_its_last_reading_when_the_remote_fails(
    caplog: pytest.LogCaptureFixture,
) -> None:
    mono, remote = FakeMonotonic(), FakeRemote(T0, 60)
    clock = RemoteClock(remote, monotonic=mono, source="http://sandbox")
    remote.fail = OSError("connection refused")
    with caplog.at_level(logging.WARNING, logger="orderbridge.clock"):
        assert clock.sync() is False
        assert clock.sync() is False
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
        "cannot read the clock of http://sandbox (OSError: connection refused); keeping the last reading"
    ]
    mono.t += 1.0
    assert clock.now() == T0 + timedelta(minutes=1)  # still running at the last rate
    remote.fail = None
    remote.now = T0 + timedelta(minutes=1)
    assert clock.sync() is False
    assert clock.now() == T0 + timedelta(minutes=1)


def test_remote_clock_never_goes_backwards() -> None:
    mono, remote = FakeMonotonic(), FakeRemote(T0, 60)
    clock = RemoteClock(remote, monotonic=mono)
    mono.t += 1.0
    assert clock.now() == T0 + timedelta(minutes=1)
    remote.now = T0 + timedelta(seconds=59.5)  # the reading lands half a second behind
    assert clock.sync() is False
    assert clock.now() == T0 + timedelta(minutes=1)
    mono.t += 0.5
    assert clock.now() == T0 + timedelta(seconds=89.5)


def test_remote_clock_start_fails_loudly_and_the_thread_follows() -> None:
    remote = FakeRemote(T0, 1)
    remote.fail = OSError("down")
    with pytest.raises(OSError, match="down"):
        RemoteClock(remote)
    with pytest.raises(ValueError, match="interval"):
        RemoteClock(FakeRemote(T0, 1), interval=0)
    remote = FakeRemote(T0, 0)
    clock = RemoteClock(remote, interval=0.01)
    woke = threading.Event()
    clock.subscribe(woke.set)
    assert clock.start() is clock.start()
    remote.now = T0 + timedelta(hours=1)
    assert woke.wait(5), "the follower thread did not report the jump"
    assert clock.now() == T0 + timedelta(hours=1)
    clock.close()
    clock.close()


def test_fetch_control_clock_reads_the_control_api(tmp_path: Path) -> None:
    answer = tmp_path / "clock"
    answer.write_text(json.dumps({"now": "2026-11-23T12:00:00Z", "rate": 60.0, "mode": "scaled",
                                  "pending_timers": 3}))
    # file: URLs go through the same urllib code path as http: without a server.
    assert fetch_control_clock(f"file://{tmp_path}/")() == (T0, 60.0)


def test_clock_source_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ORDERBRIDGE_CONFIG", "")
    monkeypatch.delenv("ORDERBRIDGE_CLOCK_SOURCE", raising=False)
    assert load_settings().clock_source == "system"
    assert load_settings().sandbox_clock_url is None
    monkeypatch.setenv("ORDERBRIDGE_CLOCK_SOURCE", "sandbox:http://127.0.0.1:8765")
    assert load_settings().sandbox_clock_url == "http://127.0.0.1:8765"
    for bad in ("sandbox", "sandbox:127.0.0.1:8765", "sandbox:http://", "wall", ""):
        monkeypatch.setenv("ORDERBRIDGE_CLOCK_SOURCE", bad)
        with pytest.raises(ConfigurationError, match="ORDERBRIDGE_CLOCK_SOURCE"):
            load_settings()


def test_services_follow_the_configured_clock(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ORDERBRIDGE_CONFIG", "")
    db = f"sqlite:///{tmp_path / 'ob.db'}"
    system = Services.create(load_settings(database_url=db), migrate_db=False)
    assert isinstance(system.clock, SystemClock)
    system.db.dispose()
    # Nothing listens on port 9 (discard): the process must not start on a clock it cannot read.
    settings = load_settings(database_url=db, clock_source="sandbox:http://127.0.0.1:9")
    with pytest.raises(ConfigurationError, match="ORDERBRIDGE_CLOCK_SOURCE: cannot read the sandbox clock"):
        Services.create(settings, migrate_db=False)
