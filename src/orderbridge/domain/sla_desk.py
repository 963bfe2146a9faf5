"""The SLA desk: which orders are on it, how long each has left, and which alerts are due.

Late dispatch is measured at the carrier's first scan, not at the tracking upload
(lifecycle.md "After shipping"): an order is on the desk from AWAITING_SHIPMENT until
TikTok says IN_TRANSIT, whatever Shopify or the 3PL says. Its clock is the dispatch
deadline (``deadlines_for``); the delivery and auto-cancel deadlines are shown beside it.

Alerts: at 24 h, 12 h and 4 h of business time left and at breach (``Threshold``), each
once per order. An order first seen late crosses several thresholds at once: all are
recorded, only the most severe is sent. What an alert says depends on the order's state when
it is sent: "not shipped" or "tracking uploaded, no carrier scan yet" (its own alert kind:
the seller believes it shipped, the carrier has not scanned it, and it will count as late).

Pure: the calendar (weekends, holidays, cut-off) and ``now`` are parameters.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType

from orderbridge.domain.order import OrderKind, TikTokOrder, TikTokStatus, classify
from orderbridge.domain.sla import (
    BusinessCalendar,
    Deadlines,
    DeliveryOption,
    Threshold,
    deadlines_for,
    delivery_option,
)

__all__ = [
    "DESK_STATUSES",
    "AlertKind",
    "AlertPlan",
    "DeskEntry",
    "DeskState",
    "alert_subject",
    "alert_text",
    "desk_entry",
    "desk_order",
    "format_left",
    "plan_alerts",
]


class DeskState(StrEnum):
    """Where an order on the desk stands (values are shown and stored in alerts)."""

    NOT_SHIPPED = "not_shipped"  # AWAITING_SHIPMENT: no tracking on TikTok yet
    PARTLY_SHIPPED = "partly_shipped"  # PARTIALLY_SHIPPING: some units have tracking
    AWAITING_SCAN = "awaiting_scan"  # AWAITING_COLLECTION: tracking uploaded, no carrier scan


# TikTok statuses that put an order on the desk, and its desk state in each.
DESK_STATUSES = MappingProxyType(
    {
        TikTokStatus.AWAITING_SHIPMENT: DeskState.NOT_SHIPPED,
        TikTokStatus.PARTIALLY_SHIPPING: DeskState.PARTLY_SHIPPED,
        TikTokStatus.AWAITING_COLLECTION: DeskState.AWAITING_SCAN,
    }
)

_STATE_TEXT = MappingProxyType(
    {
        DeskState.NOT_SHIPPED: "not shipped yet",
        DeskState.PARTLY_SHIPPED: "partly shipped: some units have no tracking yet",
        DeskState.AWAITING_SCAN: "tracking uploaded, no carrier scan yet",
    }
)


class AlertKind(StrEnum):
    """What an SLA alert is about."""

    DISPATCH_DUE = "dispatch_due"  # not (fully) shipped and the dispatch deadline is near/past
    UPLOADED_NO_SCAN = "uploaded_no_scan"  # tracking uploaded, the carrier has not scanned it


@dataclass(frozen=True, slots=True)
class DeskEntry:
    """One order on the desk at ``now``.

    ``business_left`` counts only business days (``BusinessCalendar.business_time_left``);
    ``left`` is plain time. Both are ``None`` without a dispatch deadline (no
    ``rts_sla_time`` and no ``create_time``), and negative once it has passed.
    """

    order_id: str
    status: TikTokStatus
    state: DeskState
    deadlines: Deadlines
    delivery_option: DeliveryOption | None
    left: timedelta | None
    business_left: timedelta | None
    crossed: tuple[Threshold, ...]

    @property
    def at_risk(self) -> bool:
        """Within the first alert threshold (24 business hours left) or past the deadline."""
        return bool(self.crossed)

    @property
    def breached(self) -> bool:
        """The dispatch deadline has passed without a carrier scan."""
        return Threshold.BREACHED in self.crossed

    @property
    def alert_kind(self) -> AlertKind:
        """The kind of alert this order's state calls for."""
        if self.state is DeskState.AWAITING_SCAN:
            return AlertKind.UPLOADED_NO_SCAN
        return AlertKind.DISPATCH_DUE


def desk_order(order: TikTokOrder) -> bool:
    """Whether ``order`` is on the desk: the seller still has to get it scanned.

    Fulfilled-by-TikTok orders are TikTok's warehouse's to ship, never the seller's.
    """
    return order.status in DESK_STATUSES and classify(order) is not OrderKind.FBT


def desk_entry(order: TikTokOrder, calendar: BusinessCalendar, now: datetime) -> DeskEntry | None:
    """``order`` as the desk shows it at ``now``; ``None`` when it is not on the desk."""
    if not desk_order(order):
        return None
    deadlines = deadlines_for(order, calendar)
    left = business_left = None
    crossed: tuple[Threshold, ...] = ()
    if deadlines.dispatch is not None:
        at = deadlines.dispatch.at
        left = at - now
        business_left = calendar.business_time_left(now, at)
        crossed = tuple(calendar.sla_thresholds_crossed(now, at, ()))
    return DeskEntry(
        order_id=order.id,
        status=order.status,
        state=DESK_STATUSES[order.status],
        deadlines=deadlines,
        delivery_option=delivery_option(order.delivery_option_name),
        left=left,
        business_left=business_left,
        crossed=crossed,
    )


@dataclass(frozen=True, slots=True)
class AlertPlan:
    """Thresholds to record as alerted (all newly crossed) and the one alert to send."""

    record: tuple[Threshold, ...]
    send: Threshold
    kind: AlertKind


def plan_alerts(entry: DeskEntry, already: Collection[str]) -> AlertPlan | None:
    """The alert due for ``entry`` given the thresholds ``already`` alerted; ``None``: none.

    Every newly crossed threshold is recorded; only the most severe is sent, so an order
    first seen 2 hours before its deadline gets one "4 h" alert, not three.
    """
    new = tuple(t for t in entry.crossed if t.value not in already)
    if not new:
        return None
    return AlertPlan(record=new, send=new[-1], kind=entry.alert_kind)


def format_left(left: timedelta) -> str:
    """``3 h 05 min``; a negative value as ``-3 h 05 min``."""
    sign = "-" if left < timedelta(0) else ""
    minutes = int(abs(left).total_seconds()) // 60
    return f"{sign}{minutes // 60} h {minutes % 60:02d} min"


def alert_subject(entry: DeskEntry, threshold: Threshold, label: str) -> str:
    """A one-line subject: ``SLA 4h left: TikTok order 57… (#1003), not shipped yet``."""
    head = "SLA breached" if threshold is Threshold.BREACHED else f"SLA {threshold.value} left"
    return f"{head}: TikTok order {label}, {_STATE_TEXT[entry.state]}"


def alert_text(entry: DeskEntry, threshold: Threshold, label: str, calendar: BusinessCalendar) -> str:
    """The alert's sentence, with the deadline in the calendar's time zone and what to do.

    ``label`` names the order (TikTok id, and the Shopify name when there is one). An entry
    alerted has a dispatch deadline (``crossed`` is empty without one).
    """
    dispatch = entry.deadlines.dispatch
    assert dispatch is not None
    assert entry.business_left is not None
    local = dispatch.at.astimezone(calendar.zone).strftime("%a %Y-%m-%d %H:%M %Z")
    if threshold is Threshold.BREACHED:
        when = f"its dispatch deadline {local} passed {format_left(-entry.business_left)} ago"
    else:
        when = f"{format_left(entry.business_left)} of business time left before {local}"
    if entry.state is DeskState.AWAITING_SCAN:
        todo = "the carrier must scan the package (hand it over or book a pickup)"
    else:
        todo = "ship it and upload tracking; the carrier must scan it"
    return (
        f"{alert_subject(entry, threshold, label)}: {when}. Late dispatch is measured at the "
        f"carrier's first scan: {todo}."
    )
