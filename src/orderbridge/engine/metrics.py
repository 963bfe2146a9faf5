"""Prometheus metrics of one process, served at ``/metrics`` (text exposition format).

Two kinds, on a registry of their own per ``Metrics`` (never the global default registry,
so two apps in one test process never share a counter):

- counted where they happen: every API call attempt (``observe_call``, fed by the
  ``ObservingRecorder`` the composition root wraps around each client's recorder),
  Shopify throttle waits, worker pass durations;
- read at scrape time by ``StateCollector`` with a few cheap aggregate queries: orders by
  state, open exceptions by code, inbox depth and webhook lag, overdue links (timer
  lateness), leased links, poll cursor age, and each Shopify store's budget.

Every name starts with ``orderbridge_``; labels are bounded (api, operation, outcome,
state, code, connection id, shop domain), never order ids.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from orderbridge.adapters.calls import ApiCall, CallRecorder
from orderbridge.adapters.db import Database, gauges
from orderbridge.adapters.shopify import ThrottleRegistry
from orderbridge.logs import get_logger

__all__ = ["CONTENT_TYPE", "Metrics", "ObservingRecorder", "StateCollector", "call_outcome"]

CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"
# Remote calls: from a fast read (~50 ms) to a timed-out one (30 s).
LATENCY_BUCKETS: Final = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
WAIT_BUCKETS: Final = (0.0, 0.01, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
PASS_BUCKETS: Final = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

log = get_logger(__name__)


def call_outcome(call: ApiCall) -> str:
    """A bounded label for how an attempt ended."""
    if call.ok:
        return "ok"
    if call.status is None:
        return "network"
    if call.status == 429 or call.code == "THROTTLED":
        return "throttled"
    if call.status >= 500:
        return "server_error"
    if call.status in (401, 403) or call.code == "ACCESS_DENIED":
        return "auth"
    return "rejected"


class Metrics:
    """The counters and histograms of one process, and its registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.api_calls = Counter(
            "orderbridge_api_calls", "API call attempts by API, operation and outcome.",
            ["api", "operation", "outcome"], registry=r)
        self.api_latency = Histogram(
            "orderbridge_api_call_duration_seconds", "Duration of API call attempts.",
            ["api", "operation"], buckets=LATENCY_BUCKETS, registry=r)
        self.api_retries = Counter(
            "orderbridge_api_retries", "API call attempts after the first (retries).",
            ["api", "operation"], registry=r)
        self.throttle_wait = Histogram(
            "orderbridge_shopify_throttle_wait_seconds",
            "Time a Shopify call waited for its store's budget before being sent.",
            buckets=WAIT_BUCKETS, registry=r)
        self.pass_duration = Histogram(
            "orderbridge_worker_pass_duration_seconds",
            "Duration of worker passes that claimed at least one link.",
            buckets=PASS_BUCKETS, registry=r)
        self.pass_links = Counter(
            "orderbridge_worker_links_claimed", "Links claimed by worker passes.", registry=r)
        self._state: StateCollector | None = None

    def observe_call(self, call: ApiCall) -> None:
        """Count one API call attempt (any client, any outcome)."""
        self.api_calls.labels(call.api, call.operation, call_outcome(call)).inc()
        self.api_latency.labels(call.api, call.operation).observe(call.duration_ms / 1000.0)
        if call.attempt > 1:
            self.api_retries.labels(call.api, call.operation).inc()
        wait = call.details.get("throttle_wait_s")
        if isinstance(wait, int | float):
            self.throttle_wait.observe(float(wait))

    def observe_pass(self, seconds: float, claimed: int) -> None:
        """One worker pass that claimed ``claimed`` links took ``seconds``."""
        self.pass_duration.observe(seconds)
        self.pass_links.inc(claimed)

    def watch_state(self, db: Database, now: Callable[[], datetime],
                    throttle: ThrottleRegistry) -> None:
        """Add the scrape-time gauges (once; later calls keep the first)."""
        if self._state is None:
            self._state = StateCollector(db, now, throttle)
            self.registry.register(self._state)

    def render(self) -> bytes:
        """The text exposition of everything (runs the scrape-time queries: off the loop)."""
        return generate_latest(self.registry)


class ObservingRecorder:
    """A ``CallRecorder`` that counts and logs each call, then hands it to ``inner``."""

    def __init__(self, inner: CallRecorder, metrics: Metrics, connection_id: int | None) -> None:
        self.inner = inner
        self.metrics = metrics
        self.connection_id = connection_id

    def record(self, call: ApiCall) -> None:
        try:
            self.metrics.observe_call(call)
            if not call.ok:
                log.warning(
                    "api_call_failed", api=call.api, operation=call.operation,
                    status=call.status, code=call.code, request_id=call.request_id,
                    attempt=call.attempt, order_ref=call.order_ref,
                    connection_id=self.connection_id,
                    retry_in_s=call.details.get("retry_in_s"),
                    error=(call.message or "")[:200],
                )
        except Exception:  # a recorder never breaks a call (CallRecorder's contract)
            log.exception("recording an API call failed")
        self.inner.record(call)


class StateCollector(Collector):
    """Gauges read from the database and the throttle registry at scrape time."""

    def __init__(self, db: Database, now: Callable[[], datetime], throttle: ThrottleRegistry) -> None:
        self.db = db
        self.now = now
        self.throttle = throttle

    def describe(self) -> list[Metric]:
        return []  # collected on demand only (never at registration)

    def collect(self) -> Iterator[Metric]:
        ok = GaugeMetricFamily("orderbridge_metrics_database_up",
                               "1 if the scrape-time database queries succeeded.")
        try:
            families = list(self._database())
        except Exception as exc:  # a down database must not hide the other metrics
            log.warning("metrics_database_failed", error=f"{type(exc).__name__}: {exc}"[:200])
            families = []
            ok.add_metric([], 0)
        else:
            ok.add_metric([], 1)
        yield ok
        yield from families
        yield from self._budgets()

    def _database(self) -> Iterator[Metric]:
        now = self.now()
        orders = GaugeMetricFamily("orderbridge_orders", "Order links by connection and state.",
                                   labels=["connection_id", "state"])
        exceptions = GaugeMetricFamily("orderbridge_open_exceptions",
                                       "Open order exceptions by code and severity.",
                                       labels=["code", "severity"])
        depth = GaugeMetricFamily("orderbridge_inbox_depth",
                                  "Webhook deliveries stored but not processed yet.")
        lag = GaugeMetricFamily("orderbridge_webhook_lag_seconds",
                                "Age of the oldest unprocessed webhook delivery (0 if none).")
        last = GaugeMetricFamily("orderbridge_webhook_last_received_age_seconds",
                                 "Seconds since the last webhook delivery, by source.",
                                 labels=["source"])
        overdue = GaugeMetricFamily(
            "orderbridge_links_overdue_seconds",
            "How late the most overdue unleased link is (timer lateness; 0 if none).")
        due = GaugeMetricFamily("orderbridge_links_due", "Unleased links whose time has come.")
        leased = GaugeMetricFamily("orderbridge_links_leased", "Links held by a worker now.")
        cursor_age = GaugeMetricFamily("orderbridge_poll_cursor_age_seconds",
                                       "Age of each poll cursor's watermark.",
                                       labels=["connection_id", "stream"])
        with self.db.connect() as conn:
            readings = gauges.read_gauges(conn, now=now)
        for cid, state, count in readings.links_by_state:
            orders.add_metric([str(cid), str(state)], count)
        for code, severity, count in readings.open_exceptions:
            exceptions.add_metric([str(code), str(severity)], count)
        depth.add_metric([], readings.inbox_pending)
        lag.add_metric([], _age(now, readings.inbox_oldest_pending))
        for source, newest in readings.inbox_newest_by_source:
            last.add_metric([str(source)], _age(now, newest))
        due.add_metric([], readings.links_due)
        overdue.add_metric([], _age(now, readings.links_earliest_due))
        leased.add_metric([], readings.links_leased)
        for cid, stream, watermark in readings.cursor_watermarks:
            cursor_age.add_metric([str(cid), str(stream)], _age(now, watermark))
        yield from (orders, exceptions, depth, lag, last, overdue, due, leased, cursor_age)

    def _budgets(self) -> Iterator[Metric]:
        level = GaugeMetricFamily("orderbridge_shopify_budget_available_points",
                                  "Estimated points in each Shopify store's bucket.",
                                  labels=["shop"])
        maximum = GaugeMetricFamily("orderbridge_shopify_budget_maximum_points",
                                    "Each Shopify store's bucket size.", labels=["shop"])
        waiting = GaugeMetricFamily("orderbridge_shopify_throttle_waiting",
                                    "Calls waiting for a Shopify store's budget now.",
                                    labels=["shop"])
        now = self.throttle.monotonic()
        for shop, store in self.throttle.stores().items():
            level.add_metric([shop], store.bucket.level(now))
            maximum.add_metric([shop], store.bucket.maximum)
            waiting.add_metric([shop], store.waiting)
        yield from (level, maximum, waiting)


def _age(now: datetime, then: datetime | None) -> float:
    return 0.0 if then is None else max(0.0, (now - then).total_seconds())
