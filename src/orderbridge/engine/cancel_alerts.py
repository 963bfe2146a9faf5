"""Alerts for the cancellation desk, through the SLA alerter's channels and delivery jobs.

A buyer's request a person must act on (awaiting approval, or blocked: the goods cannot be
stopped, so the order must ship) is alerted 12 h, 4 h and 1 h before TikTok's own deadline
(``domain/cancel_desk.cancel_alert_plan``), once per threshold: each is claimed in the
``alerts`` table (unique per order and threshold, ``cancel_12h`` ...), written on the
order's timeline and enqueued as one ``sla_alert`` delivery job per channel, which the SLA
alerter (``sla_alerts.py``) sends, retries with back-off and shows when it fails, exactly as
its own alerts. Called by ``SlaAlerter.plan`` on every pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from orderbridge.adapters.db import EventKind, alerts, events, jobs
from orderbridge.adapters.db.cancel_desk import DbConnection
from orderbridge.domain.cancel_desk import CancelAlertPlan, cancel_alert_plan
from orderbridge.engine.cancel_desk import DeskItem, desk_json, read_cancel_desk
from orderbridge.engine.timeline import jsonable
from orderbridge.logs import get_logger

__all__ = ["alert_texts", "plan_cancel_alerts"]

slog = get_logger(__name__)


def alert_texts(item: DeskItem, send: str, now: datetime) -> tuple[str, str]:
    """The subject and the text of one alert."""
    r = item.record
    label = r.tiktok_order_id + (f" (Shopify {r.shopify_order_name})" if r.shopify_order_name else "")
    hours = send.removeprefix("cancel_")
    deadline = item.deadline.isoformat() if item.deadline else "?"
    if item.stoppable:
        subject = f"Cancellation request {hours} left: TikTok order {label} awaits approval"
        what = ("Approve it (`orderbridge cancellations approve "
                f"{r.tiktok_order_id}{' --cancel-downstream' if item.threepl else ''}`) or ship it")
    else:
        subject = f"Cancellation request {hours} left: TikTok order {label} cannot be stopped"
        what = f"The goods cannot be stopped ({item.why}): ship it now, its tracking rejects the request"
    text = (f"The buyer of TikTok order {label} asked to cancel ({item.reason or 'no reason given'}). "
            f"{what} before TikTok's deadline {deadline}.")
    return subject, text


def _enqueue(conn: DbConnection, item: DeskItem, plan: CancelAlertPlan, channels: Sequence[str],
             job_kind: str, now: datetime) -> int:
    r = item.record
    claimed = [t for t in plan.record if alerts.record_alert(conn, r.link_id, t, sent_at=now)]
    if plan.send not in claimed:  # another process claimed it first: it sends
        return 0
    subject, text = alert_texts(item, plan.send, now)
    fields: dict[str, Any] = jsonable({"alert": "cancellation", "threshold": plan.send,
                                       **desk_json(item, now), "alerted_at": now})
    events.append(conn, r.link_id, EventKind.NOTE, text,
                  {"threshold": plan.send, "kind": "cancellation", "recorded": claimed, "channels": list(channels)},
                  at=now, connection_id=r.connection_id)
    for name in channels:
        jobs.enqueue(conn, job_kind, f"{r.link_id}:{plan.send}:{name}", now=now, connection_id=r.connection_id,
                     payload={"link_id": r.link_id, "tiktok_order_id": r.tiktok_order_id, "channel": name,
                              "threshold": plan.send, "subject": subject, "text": text, "fields": fields})
    slog.info("cancel_alert", tiktok_order_id=r.tiktok_order_id, connection_id=r.connection_id,
              threshold=plan.send, channels=list(channels))
    return 1


def plan_cancel_alerts(conn: DbConnection, now: datetime, channels: Sequence[str], job_kind: str) -> int:
    """Claim and enqueue the cancellation alerts due at ``now``; how many were planned."""
    planned = 0
    for item in read_cancel_desk(conn):
        already = alerts.sent_thresholds(conn, item.record.link_id)
        plan = cancel_alert_plan(item.state, item.deadline, now, already)
        if plan is not None:
            planned += _enqueue(conn, item, plan, channels, job_kind, now)
    return planned
