"""SLA alerts: once per order and threshold, to every configured channel, retried until sent.

Each pass (``SlaAlerter.run_once``, every ``sla_check_interval_seconds`` on the engine
clock, and whenever a delivery is due):

1. **Plan.** Read the desk (``sla_desk.read_desk``). For an order with thresholds newly
   crossed (``domain.sla_desk.plan_alerts``) one short transaction claims every one of them
   in the ``alerts`` table (unique per link and threshold: two processes racing agree on
   one sender, and a restart never sends again), writes the alert on the order's timeline
   and enqueues one delivery job per channel (``jobs`` table, kind ``sla_alert``, key
   ``<link>:<threshold>:<channel>``). Only the most severe new threshold is sent.
2. **Deliver.** Claim due delivery jobs (lease, ``SKIP LOCKED``) and send each. Delivered:
   the job is removed and the timeline says so. Failed: the job is retried with back-off
   (``link_work.backoff``), the order gets an ``SLA_ALERT_UNDELIVERED`` warning exception
   (resolved once its deliveries go through) and a timeline entry, and one log line names
   the order, the channel and the error.

The durable record lives in the database, not in the link's memory: the alerter never
holds a link's lease, so it must not write the memory the workers own.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from orderbridge.adapters.alert_channels import Alert, AlertChannel, AlertDeliveryError
from orderbridge.adapters.db import (
    Connection,
    EventKind,
    alerts,
    events,
    jobs,
    order_exceptions,
    run_sync,
    transaction,
)
from orderbridge.adapters.db.errors import LeaseLost
from orderbridge.adapters.db.jobs import JobRow
from orderbridge.domain.exceptions import ExceptionCode, Severity
from orderbridge.domain.sla_desk import AlertPlan, alert_subject, alert_text, plan_alerts
from orderbridge.engine.cancel_alerts import plan_cancel_alerts
from orderbridge.engine.link_work import backoff
from orderbridge.engine.ports import Process
from orderbridge.engine.sla_desk import DeskRow, OrderCache, desk_json, read_desk
from orderbridge.engine.timeline import jsonable
from orderbridge.logs import get_logger

__all__ = ["JOB_KIND", "SlaAlerter"]

slog = get_logger(__name__)

JOB_KIND: Final = "sla_alert"
UNDELIVERED: Final = ExceptionCode.SLA_ALERT_UNDELIVERED.value
DELIVERIES_PER_PASS: Final = 50
DELIVERY_LEASE_SECONDS: Final = 60.0
# Never sleep less than this between passes (a due job that keeps failing at once).
MIN_WAIT_SECONDS: Final = 0.05


class SlaAlerter:
    """Plans and delivers SLA alerts for every connection (one per worker process)."""

    def __init__(
        self,
        services: Process,
        owner: str,
        channels: Sequence[AlertChannel] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.services = services
        self.owner = owner
        self.channels = list(services.alert_channels() if channels is None else channels)
        self.rng = rng or random.Random()
        self._orders: OrderCache = {}  # parsed snapshots, re-parsed only when a link changes

    def _now(self) -> datetime:
        return self.services.clock.now()

    async def run_once(self) -> tuple[int, int]:
        """One pass: (alerts planned, deliveries attempted)."""
        planned = await run_sync(self.services.db, self.plan, self._now())
        return planned, await self.deliver_due()

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Pass after pass until ``stop``: every check interval, or sooner for a due retry."""
        interval = timedelta(seconds=self.services.settings.sla_check_interval_seconds)
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:  # keep alerting: the database or a receiver may come back
                slog.exception("sla_alerter_pass_failed")
            wake = self._now() + interval
            next_job = await run_sync(self.services.db, self._next_job_due)
            if next_job is not None:
                wake = min(wake, next_job)
            wait = max(self.services.clock.real_seconds_until(wake), MIN_WAIT_SECONDS)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=wait)

    def _next_job_due(self) -> datetime | None:
        with transaction(self.services.db, write=False) as conn:
            return jobs.next_due_of_kind(conn, JOB_KIND)

    # --- planning ---

    def plan(self, now: datetime) -> int:
        """Record the thresholds crossed at ``now`` and enqueue their deliveries; how many."""
        calendar = self.services.sla_calendar
        with transaction(self.services.db, write=False) as conn:
            desk = read_desk(conn, calendar, now, cache=self._orders)
        planned = 0
        for row in desk:
            plan = plan_alerts(row.entry, row.alerts_sent)
            if plan is not None:
                with transaction(self.services.db) as conn:
                    planned += self._claim_and_enqueue(conn, row, plan, now)
        with transaction(self.services.db) as conn:  # the cancellation desk's alerts, same channels
            planned += plan_cancel_alerts(conn, now, [c.name for c in self.channels], JOB_KIND)
        return planned

    def _alert(self, row: DeskRow, plan: AlertPlan, now: datetime) -> Alert:
        calendar = self.services.sla_calendar
        fields = {
            "alert": "sla", "kind": plan.kind.value, "threshold": plan.send.value,
            **desk_json(row), "alerted_at": now,
        }
        return Alert(
            subject=alert_subject(row.entry, plan.send, row.label),
            text=alert_text(row.entry, plan.send, row.label, calendar),
            fields=jsonable(fields),
        )

    def _claim_and_enqueue(self, conn: Connection, row: DeskRow, plan: AlertPlan, now: datetime) -> int:
        claimed = [t for t in plan.record if alerts.record_alert(conn, row.link_id, t.value, sent_at=now)]
        if plan.send not in claimed:  # another process claimed it first: it sends
            return 0
        alert = self._alert(row, plan, now)
        channels = [c.name for c in self.channels]
        events.append(
            conn, row.link_id, EventKind.NOTE, alert.text,
            {"threshold": plan.send.value, "kind": plan.kind.value, "recorded": [t.value for t in claimed],
             "channels": channels},
            at=now, connection_id=row.connection_id,
        )
        for name in channels:
            jobs.enqueue(
                conn, JOB_KIND, f"{row.link_id}:{plan.send.value}:{name}", now=now,
                connection_id=row.connection_id,
                payload={"link_id": row.link_id, "tiktok_order_id": row.tiktok_order_id, "channel": name,
                         "threshold": plan.send.value, "subject": alert.subject, "text": alert.text,
                         "fields": dict(alert.fields)},
            )
        slog.info("sla_alert", tiktok_order_id=row.tiktok_order_id, connection_id=row.connection_id,
                  threshold=plan.send.value, kind=plan.kind.value, channels=channels)
        return 1

    # --- delivery ---

    async def deliver_due(self) -> int:
        """Send every due delivery once; how many were attempted."""
        now = self._now()

        def claim() -> list[JobRow]:
            with transaction(self.services.db) as conn:
                return jobs.claim_due_jobs(conn, self.owner, now, limit=DELIVERIES_PER_PASS,
                                           lease_seconds=DELIVERY_LEASE_SECONDS, kinds=[JOB_KIND])

        claimed = await run_sync(self.services.db, claim)
        for job in claimed:
            await self._deliver(job)
        return len(claimed)

    async def _deliver(self, job: JobRow) -> None:
        p = job.payload
        channel = next((c for c in self.channels if c.name == p.get("channel")), None)
        error: str | None = None
        if channel is not None:
            try:
                await channel.send(Alert(p["subject"], p["text"], p.get("fields") or {}))
            except AlertDeliveryError as exc:
                error = str(exc)
        now = self._now()
        try:
            if error is None:  # delivered, or its channel was removed from the settings: done
                await run_sync(self.services.db, self._delivered, job, now, channel is not None)
            else:
                await run_sync(self.services.db, self._failed, job, error, now)
        except LeaseLost:  # held too long: the next holder sends or retries it
            slog.warning("sla_alert_lease_lost", tiktok_order_id=p.get("tiktok_order_id"), key=job.key)

    def _delivered(self, job: JobRow, now: datetime, sent: bool) -> None:
        p = job.payload
        link_id = int(p["link_id"])
        summary = (f"SLA alert {p['threshold']} sent by {p['channel']}" if sent else
                   f"SLA alert {p['threshold']} not sent by {p['channel']}: that channel is no longer configured")
        with transaction(self.services.db) as conn:
            jobs.complete_job(conn, job, self.owner, now=now)
            jobs.delete_job(conn, JOB_KIND, job.key)
            events.append(conn, link_id, EventKind.ACTION if sent else EventKind.WARNING, summary,
                          {"channel": p["channel"], "threshold": p["threshold"], "attempts": job.attempts + 1},
                          at=now, connection_id=job.connection_id)
            if not _failing_deliveries(conn, link_id) and order_exceptions.resolve(
                conn, link_id, UNDELIVERED, now=now
            ):
                events.append(conn, link_id, EventKind.EVENT, f"exception {UNDELIVERED} resolved",
                              at=now, connection_id=job.connection_id)

    def _failed(self, job: JobRow, error: str, now: datetime) -> None:
        p = job.payload
        link_id = int(p["link_id"])
        attempts = job.attempts + 1
        retry_at = now + backoff(attempts, self.rng)
        message = (f"The SLA alert {p['threshold']} could not be sent by {p['channel']} "
                   f"({attempts} attempt{'s' if attempts > 1 else ''}): {error}. "
                   f"Retrying at {retry_at.isoformat()}; check the channel's settings "
                   "(docs/configuration.md, SLA alerts).")
        data: dict[str, Any] = {"channel": p["channel"], "threshold": p["threshold"],
                                "attempts": attempts, "error": error[:500], "retry_at": retry_at.isoformat()}
        with transaction(self.services.db) as conn:
            jobs.retry_job(conn, job, self.owner, now=now, error=error[:2000], next_due_at=retry_at)
            order_exceptions.raise_exception(conn, link_id, UNDELIVERED, Severity.WARNING.value, message,
                                             data, None, now=now)
            events.append(conn, link_id, EventKind.WARNING, f"{UNDELIVERED}: {message}", data,
                          at=now, connection_id=job.connection_id)
        slog.warning("sla_alert_undelivered", tiktok_order_id=p.get("tiktok_order_id"),
                     connection_id=job.connection_id, channel=p["channel"], threshold=p["threshold"],
                     attempts=attempts, error=error[:300], retry_at=retry_at.isoformat())


def _failing_deliveries(conn: Connection, link_id: int) -> int:
    """Deliveries of this link's alerts still waiting after a failure."""
    return jobs.count_retrying(conn, JOB_KIND, key_prefix=f"{link_id}:")
