"""Outgoing webhook deliveries of a sandbox: signed by the caller, retried on a schedule.

A sandbox builds the body and headers (with its own signature scheme) and calls
``enqueue``. The dispatcher sends it through the scheduler, so delays and retry gaps are
in *virtual* time (a TikTok retry "after 3 hours" happens in three seconds on a clock
running 3600x). A delivery succeeds on any 2xx; anything else, a connection error or a
timeout is a failed attempt, retried after the next gap of ``retry_schedule`` until the
schedule is exhausted.

Stream faults from the ``FaultPlan`` apply per delivery: drop, duplicate, delay (spread =
reorder) and forced failure of an attempt. Every delivery and attempt is kept (bounded)
for the control API, as real platforms show a webhook log.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import httpx

from orderbridge.clock import Clock
from orderbridge.sandbox.common.faults import FaultPlan
from orderbridge.sandbox.common.scheduler import Scheduler

__all__ = ["Attempt", "Delivery", "DeliveryStatus", "WebhookDispatcher"]

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 5.0
# Deliveries of one dispatcher in flight at once; the rest wait their turn.
MAX_CONCURRENT_DELIVERIES = 20
DEFAULT_HISTORY = 5000


# Without a retry schedule a duplicate follows right after the delivery.
DUPLICATE_GAP_WITHOUT_SCHEDULE = timedelta(milliseconds=1)


class DeliveryStatus(StrEnum):
    """Where a delivery stands."""

    PENDING = "pending"  # waiting for its first or next attempt
    DELIVERED = "delivered"  # an attempt got a 2xx
    FAILED = "failed"  # every attempt of the schedule failed
    DROPPED = "dropped"  # a fault rule dropped it; never sent


@dataclass
class Attempt:
    at: datetime
    status: int | None
    error: str | None
    duration_ms: float

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "status": self.status,
            "error": self.error,
            "duration_ms": round(self.duration_ms, 2),
        }


@dataclass
class Delivery:
    id: int
    stream: str
    topic: str
    url: str
    body: bytes
    headers: dict[str, str]
    created_at: datetime
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: list[Attempt] = field(default_factory=list)
    duplicate_of: int | None = None
    # Headers signed again for each attempt (Standard Webhooks sign the attempt's time).
    resign: Callable[[datetime], dict[str, str]] | None = field(default=None, repr=False)

    def to_json(self, with_body: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "stream": self.stream,
            "topic": self.topic,
            "url": self.url,
            "created_at": self.created_at.isoformat(),
            "status": self.status.value,
            "attempts": [a.to_json() for a in self.attempts],
            "duplicate_of": self.duplicate_of,
            "headers": self.headers,
        }
        if with_body:
            data["body"] = self.body.decode("utf-8", "replace")
        return data


class WebhookDispatcher:
    """Sends one sandbox's webhooks."""

    _ids = itertools.count(1)

    def __init__(
        self,
        stream: str,
        clock: Clock,
        scheduler: Scheduler,
        faults: FaultPlan,
        retry_schedule: list[timedelta],
        http: httpx.AsyncClient | None = None,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        history: int = DEFAULT_HISTORY,
    ) -> None:
        self.stream = stream
        self.clock = clock
        self.scheduler = scheduler
        self.faults = faults
        self.retry_schedule = list(retry_schedule)
        self.timeout_seconds = timeout_seconds
        self._http = http
        self.deliveries: deque[Delivery] = deque(maxlen=history)
        self.paused = False
        self._senders: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None

    def _sender_slot(self) -> asyncio.Semaphore:
        """At most ``MAX_CONCURRENT_DELIVERIES`` requests in flight, as a platform's senders
        are bounded per destination (and thousands of queued requests would make the HTTP
        pool's bookkeeping quadratic)."""
        loop = asyncio.get_running_loop()
        if self._senders is None or self._senders[0] is not loop:
            self._senders = (loop, asyncio.Semaphore(MAX_CONCURRENT_DELIVERIES))
        return self._senders[1]

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self.timeout_seconds)
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def enqueue(self, url: str, topic: str, body: bytes, headers: dict[str, str],
                resign: Callable[[datetime], dict[str, str]] | None = None) -> Delivery:
        """Queue a delivery (faults decide whether and when it is sent). ``resign(now)``,
        when given, returns headers replaced on every attempt (a signature over its time)."""
        decision = self.faults.decide_stream(self.stream, topic)
        delivery = Delivery(next(self._ids), self.stream, topic, url, body, dict(headers), self.clock.now(),
                            resign=resign)
        self.deliveries.append(delivery)
        if decision.drop:
            delivery.status = DeliveryStatus.DROPPED
            return delivery
        delay = timedelta(seconds=decision.delay_s)
        self._schedule(delivery, delay, force_fail=decision.fail)
        if decision.duplicate:
            twin = Delivery(
                next(self._ids), self.stream, topic, url, body, dict(headers), self.clock.now(),
                duplicate_of=delivery.id, resign=resign,
            )
            self.deliveries.append(twin)
            # A duplicate is a retry the sender made although the first arrived (its answer
            # was lost): it comes on the sender's schedule, the first gap after the delivery.
            gap = self.retry_schedule[0] if self.retry_schedule else DUPLICATE_GAP_WITHOUT_SCHEDULE
            self._schedule(twin, delay + gap, force_fail=False)
        return delivery

    def _schedule(self, delivery: Delivery, delay: timedelta, force_fail: bool) -> None:
        async def attempt() -> None:
            await self._attempt(delivery, force_fail)

        self.scheduler.call_later(delay, attempt, name=f"{self.stream} webhook {delivery.id}")

    async def _attempt(self, delivery: Delivery, force_fail: bool) -> None:
        started = self.clock.now()
        status: int | None = None
        error: str | None = None
        duration = 0.0
        if force_fail:
            error = "fault: attempt failed on purpose"
        elif self.paused:
            error = "dispatcher paused"
        else:
            async with self._sender_slot():
                began = time.perf_counter()
                if delivery.resign is not None:
                    delivery.headers.update(delivery.resign(started))
                try:
                    response = await self._client().post(
                        delivery.url, content=delivery.body, headers=delivery.headers,
                        timeout=self.timeout_seconds,
                    )
                    status = response.status_code
                except httpx.HTTPError as exc:
                    error = f"{type(exc).__name__}: {exc}"
                duration = (time.perf_counter() - began) * 1000
        delivery.attempts.append(Attempt(started, status, error, duration))
        if status is not None and 200 <= status < 300:
            delivery.status = DeliveryStatus.DELIVERED
            return
        retries_done = len(delivery.attempts) - 1
        if retries_done >= len(self.retry_schedule):
            delivery.status = DeliveryStatus.FAILED
            log.info("%s webhook %s failed after %d attempts", self.stream, delivery.id, len(delivery.attempts))
            return
        self._schedule(delivery, self.retry_schedule[retries_done], force_fail=False)

    def find(self, delivery_id: int) -> Delivery | None:
        return next((d for d in self.deliveries if d.id == delivery_id), None)

    def redeliver(self, delivery_id: int) -> Delivery | None:
        """Send a past delivery again, as a new delivery with the same body and headers."""
        old = self.find(delivery_id)
        if old is None:
            return None
        return self.enqueue(old.url, old.topic, old.body, old.headers, old.resign)
