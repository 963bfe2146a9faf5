"""Clocks: the one notion of "now" that the sandboxes and the engine share.

A clock answers ``now()`` with an aware UTC datetime. Three behaviours cover every use:

- ``SystemClock``: the wall clock.
- ``ManualClock``: frozen at a given instant until ``advance()`` or ``set()`` moves it
  (unit tests, deterministic scenarios).
- ``ScaledClock``: runs at ``rate`` times real speed from an anchor (``rate=60`` plays one
  hour in a minute) and can also be advanced or re-anchored (the demo, the sandboxes).
- ``RemoteClock``: follows another process's clock, the sandbox control API's ``/clock``
  (engine processes started apart from ``orderbridge sandbox``; development and tests only).

Real-time waiting is never done by comparing virtual instants with ``time.sleep``: code
that needs to wait for a virtual instant asks ``real_seconds_until(instant)`` and sleeps
that long (zero or less means "now"), and listens to ``changed`` (an ``asyncio.Event``
factory via ``subscribe``) so that an ``advance()`` wakes it at once.

Rate limits (requests per second) are about throughput, not about the story being told, so
they use ``time.monotonic`` and not these clocks.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = [
    "Clock",
    "ClockReading",
    "ManualClock",
    "RemoteClock",
    "ScaledClock",
    "SystemClock",
    "as_utc",
    "fetch_control_clock",
    "from_unix",
    "to_unix",
]


def as_utc(value: datetime) -> datetime:
    """Return ``value`` as an aware UTC datetime (naive values are taken to be UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def to_unix(value: datetime) -> int:
    """Whole Unix seconds of an instant."""
    return int(as_utc(value).timestamp())


def from_unix(seconds: int | float) -> datetime:
    """Aware UTC datetime from Unix seconds."""
    return datetime.fromtimestamp(seconds, tz=UTC)


Listener = Callable[[], None]

log = logging.getLogger(__name__)


class Clock(Protocol):
    """What every clock offers."""

    def now(self) -> datetime:
        """The current instant, aware, in UTC."""
        ...

    def real_seconds_until(self, instant: datetime) -> float:
        """Real seconds to wait until the clock reads ``instant`` (inf if it never will)."""
        ...

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` whenever the clock jumps; returns an unsubscribe function."""
        ...


class _Jumps:
    """Listener bookkeeping shared by the clocks that can jump."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def _notify(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener()


class SystemClock(_Jumps):
    """The wall clock. It never jumps."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def real_seconds_until(self, instant: datetime) -> float:
        return (as_utc(instant) - self.now()).total_seconds()


class ManualClock(_Jumps):
    """A frozen clock, moved only by ``advance`` and ``set``."""

    def __init__(self, start: datetime | None = None) -> None:
        super().__init__()
        self._now = as_utc(start) if start is not None else datetime(2026, 1, 5, 17, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta | float) -> datetime:
        """Move forward by ``delta`` (a timedelta or seconds); never backwards."""
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        if step < timedelta(0):
            raise ValueError("a clock only moves forward")
        self._now += step
        self._notify()
        return self._now

    def set(self, instant: datetime) -> datetime:
        """Jump to ``instant`` (which must not be in the past)."""
        target = as_utc(instant)
        if target < self._now:
            raise ValueError("a clock only moves forward")
        self._now = target
        self._notify()
        return self._now

    def real_seconds_until(self, instant: datetime) -> float:
        return 0.0 if as_utc(instant) <= self._now else float("inf")


class ScaledClock(_Jumps):
    """Virtual time running ``rate`` times as fast as real time, from an anchor.

    ``rate=1`` with no offset is the wall clock; ``rate=0`` freezes it (like ManualClock).
    """

    def __init__(
        self,
        start: datetime | None = None,
        rate: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        if rate < 0:
            raise ValueError("rate must be zero or positive")
        self._monotonic = monotonic
        self._lock_state = threading.Lock()
        self._anchor_virtual = as_utc(start) if start is not None else datetime.now(UTC)
        self._anchor_real = monotonic()
        self._rate = rate

    @property
    def rate(self) -> float:
        return self._rate

    def now(self) -> datetime:
        with self._lock_state:
            elapsed = (self._monotonic() - self._anchor_real) * self._rate
            return self._anchor_virtual + timedelta(seconds=elapsed)

    def _reanchor(self, virtual: datetime, rate: float) -> None:
        with self._lock_state:
            self._anchor_virtual = virtual
            self._anchor_real = self._monotonic()
            self._rate = rate

    def set_rate(self, rate: float) -> None:
        """Change the speed from now on (0 freezes)."""
        if rate < 0:
            raise ValueError("rate must be zero or positive")
        self._reanchor(self.now(), rate)
        self._notify()

    def advance(self, delta: timedelta | float) -> datetime:
        """Jump forward by ``delta`` (a timedelta or seconds)."""
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        if step < timedelta(0):
            raise ValueError("a clock only moves forward")
        target = self.now() + step
        self._reanchor(target, self._rate)
        self._notify()
        return target

    def set(self, instant: datetime) -> datetime:
        """Jump to ``instant`` (not backwards)."""
        target = as_utc(instant)
        if target < self.now():
            raise ValueError("a clock only moves forward")
        self._reanchor(target, self._rate)
        self._notify()
        return target

    def real_seconds_until(self, instant: datetime) -> float:
        ahead = (as_utc(instant) - self.now()).total_seconds()
        if ahead <= 0:
            return 0.0
        if self._rate == 0:
            return float("inf")
        return ahead / self._rate


ClockReading = tuple[datetime, float]


def fetch_control_clock(control_url: str, timeout: float = 2.0) -> Callable[[], ClockReading]:
    """A function reading ``GET {control_url}/clock`` (``{now, rate, ...}``) of the sandbox."""
    url = control_url.rstrip("/") + "/clock"

    def fetch() -> ClockReading:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            data = json.load(answer)
        return as_utc(datetime.fromisoformat(str(data["now"]))), float(data["rate"])

    return fetch


class RemoteClock(_Jumps):
    """Another process's clock (the sandbox's), followed by reading it periodically.

    ``fetch`` returns ``(now, rate)``; it is called once at construction (a failure there
    raises: a process must not start on a clock it cannot read) and then every
    ``interval`` real seconds by a daemon thread once ``start()`` is called. Between
    readings ``now = anchor_now + (monotonic() - anchor_mono) * rate``. A reading that
    differs from that extrapolation by more than ``jump_seconds`` (an ``advance``, a
    ``set``) or that changes the rate notifies the subscribers, so sleeping workers wake.
    A failed reading keeps the last anchor (the clock keeps running at the last rate) and
    is logged (once per run of failures). ``now()`` never goes backwards: the small
    corrections of a re-reading that lands behind the extrapolation are absorbed.
    """

    def __init__(
        self,
        fetch: Callable[[], ClockReading],
        *,
        interval: float = 0.5,
        jump_seconds: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
        source: str = "remote clock",
    ) -> None:
        super().__init__()
        if interval <= 0:
            raise ValueError("interval must be positive")
        self._fetch = fetch
        self._interval = interval
        self._jump_seconds = jump_seconds
        self._monotonic = monotonic
        self._source = source
        self._state = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False
        before = monotonic()
        now, rate = fetch()
        self._anchor_now = as_utc(now)
        self._anchor_mono = (before + monotonic()) / 2
        self._rate = max(rate, 0.0)
        self._last = self._anchor_now

    @classmethod
    def from_control_url(cls, control_url: str, *, interval: float = 0.5) -> RemoteClock:
        """Follow the sandbox control API at ``control_url`` (e.g. ``http://127.0.0.1:8765``)."""
        return cls(fetch_control_clock(control_url), interval=interval, source=control_url)

    @property
    def rate(self) -> float:
        return self._rate

    def _extrapolate(self, mono: float) -> datetime:
        return self._anchor_now + timedelta(seconds=(mono - self._anchor_mono) * self._rate)

    def now(self) -> datetime:
        with self._state:
            current = self._extrapolate(self._monotonic())
            if current < self._last:
                return self._last
            self._last = current
            return current

    def sync(self) -> bool:
        """Read the remote clock once and re-anchor; True when it jumped (listeners told).

        A failed reading is logged and changes nothing (False).
        """
        before = self._monotonic()
        try:
            remote, rate = self._fetch()
        except Exception as exc:  # any failure keeps the last anchor
            if not self._failing:
                log.warning("cannot read the clock of %s (%s: %s); keeping the last reading",
                            self._source, exc.__class__.__name__, exc)
            self._failing = True
            return False
        if self._failing:
            log.info("reading the clock of %s again", self._source)
            self._failing = False
        mono = (before + self._monotonic()) / 2
        remote = as_utc(remote)
        rate = max(rate, 0.0)
        with self._state:
            expected = self._extrapolate(mono)
            jumped = (abs((remote - expected).total_seconds()) > self._jump_seconds
                      or rate != self._rate)
            self._anchor_now, self._anchor_mono, self._rate = remote, mono, rate
        if jumped:
            self._notify()
        return jumped

    def start(self) -> RemoteClock:
        """Start following in a daemon thread (idempotent); returns self."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._follow, daemon=True, name="remote-clock")
            self._thread.start()
        return self

    def _follow(self) -> None:
        while not self._stop.wait(self._interval):
            self.sync()

    def close(self) -> None:
        """Stop following (the clock keeps extrapolating from the last reading)."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def real_seconds_until(self, instant: datetime) -> float:
        ahead = (as_utc(instant) - self.now()).total_seconds()
        if ahead <= 0:
            return 0.0
        if self._rate == 0:
            return float("inf")
        return ahead / self._rate
