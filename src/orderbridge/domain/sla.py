"""US business-day SLA calendar: deadlines for an order and when to alert about them.

A business day is a weekday that is not a holiday. The holiday calendar is injected (a set
of dates or a predicate) so the domain stays standard-library only; ``us_federal_holidays``
computes the US federal calendar here (the ``holidays`` package, once declared for a
cross-check that was never written, is no longer a dependency). Days are counted in the
calendar's time zone (Pacific by default) with an 11:59 pm cut-off, as TikTok Shop US does.

The anchor rule (``BusinessCalendar.add_business_days``): an order placed on a business day
at or before the cut-off counts from that day; one placed after the cut-off, or on a
weekend or holiday, counts from the next business day. The deadline is the cut-off of the
n-th business day after the anchor day (n = 0: the anchor day's own cut-off). Worked
examples (Pacific time, deadlines returned in UTC):

- Mon 2024-11-25 08:30 PST, n=2: anchor Mon 25, Tue 26 (1), Wed 27 (2)
  -> Wed 2024-11-27 23:59 PST = 2024-11-28 07:59 UTC.
- Across Thanksgiving: Wed 2025-11-26 21:00 PST (already Thu 05:00 UTC), n=2: anchor Wed 26,
  Thu 27 is Thanksgiving, Fri 28 (1), weekend, Mon Dec 1 (2)
  -> 2025-12-01 23:59 PST = 2025-12-02 07:59 UTC.
- Across a weekend and the end of DST (Sun 2025-11-02): Fri 2025-10-31 10:00 PDT, n=2:
  anchor Fri 31, Mon Nov 3 (1), Tue Nov 4 (2) -> 2025-11-04 23:59 PST = 2025-11-05 07:59 UTC
  (UTC-8 now, where the order was placed at UTC-7).
- After the cut-off: Fri 2025-10-31 23:59:30 PDT, n=2: anchor Mon Nov 3, Tue 4 (1), Wed 5 (2)
  -> 2025-11-05 23:59 PST = 2025-11-06 07:59 UTC.
- On a Saturday: Sat 2025-11-01 12:00 PDT, n=0: anchor Mon Nov 3 -> 2025-11-03 23:59 PST.

The deadline is the cut-off minute itself (23:59:00); TikTok's own deadlines fall at
23:59:59, so a computed one is at most 59 seconds earlier: on the safe side.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from types import MappingProxyType
from zoneinfo import ZoneInfo

from orderbridge.domain.order import TikTokOrder

__all__ = [
    "DEFAULT_CUTOFF",
    "DEFAULT_TIMEZONE",
    "BusinessCalendar",
    "Deadline",
    "DeadlineSource",
    "Deadlines",
    "DeliveryOption",
    "Threshold",
    "deadlines_for",
    "delivery_option",
    "is_us_federal_holiday",
    "us_business_calendar",
    "us_federal_holidays",
]

DEFAULT_TIMEZONE = "America/Los_Angeles"
DEFAULT_CUTOFF = time(23, 59)
DISPATCH_BUSINESS_DAYS = 2
CARRIER_SCAN_BUSINESS_DAYS_AFTER_DISPATCH = 1
AUTO_CANCEL_BUSINESS_DAYS = 7
# A calendar with no business day in this many days is broken: refuse rather than loop.
MAX_DAYS_WITHOUT_BUSINESS_DAY = 366
JUNETEENTH_FIRST_YEAR = 2021
ONE_DAY = timedelta(days=1)
MON, THU, SAT, SUN = 0, 3, 5, 6


class DeliveryOption(StrEnum):
    """TikTok Shop US delivery options (``delivery_option_name`` is display text)."""

    ECONOMY = "economy"  # 11 business days end to end
    STANDARD = "standard"  # 7 business days end to end
    EXPRESS = "express"  # 4 business days end to end


DELIVERY_BUSINESS_DAYS = MappingProxyType(
    {DeliveryOption.EXPRESS: 4, DeliveryOption.STANDARD: 7, DeliveryOption.ECONOMY: 11}
)


class Threshold(StrEnum):
    """An SLA alert threshold: business time left before a deadline."""

    HOURS_24 = "24h"  # 24 business hours or less left
    HOURS_12 = "12h"  # 12 business hours or less left
    HOURS_4 = "4h"  # 4 business hours or less left
    BREACHED = "breached"  # the deadline has passed


THRESHOLD_LIMITS = (
    (Threshold.HOURS_24, timedelta(hours=24)),
    (Threshold.HOURS_12, timedelta(hours=12)),
    (Threshold.HOURS_4, timedelta(hours=4)),
)


class DeadlineSource(StrEnum):
    """Where a deadline came from."""

    FROM_TIKTOK = "from_tiktok"  # TikTok gave it on the order
    COMPUTED = "computed"  # TikTok gave none: computed with the business-day rules


def delivery_option(name: str) -> DeliveryOption | None:
    """The delivery option named in TikTok's display text ("Standard Shipping"), if any."""
    text = name.lower()
    return next((option for option in DeliveryOption if option.value in text), None)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    last = date(year + month // 12, month % 12 + 1, 1) - ONE_DAY
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: date) -> date:
    if day.weekday() == SAT:
        return day - ONE_DAY
    if day.weekday() == SUN:
        return day + ONE_DAY
    return day


def us_federal_holidays(years: Iterable[int]) -> frozenset[date]:
    """US federal holidays falling in ``years``: each actual date and its observed day.

    New Year's Day, MLK Day (3rd Mon Jan), Washington's Birthday (3rd Mon Feb), Memorial Day
    (last Mon May), Juneteenth (Jun 19, from 2021), Independence Day (Jul 4), Labor Day (1st
    Mon Sep), Columbus Day (2nd Mon Oct), Veterans Day (Nov 11), Thanksgiving (4th Thu Nov),
    Christmas (Dec 25). A fixed date on a Saturday is observed on Friday, on a Sunday on
    Monday, so New Year's Day can be observed on Dec 31 of the year before.
    """
    wanted = frozenset(years)
    found: set[date] = set()
    for year in wanted | {year + 1 for year in wanted}:
        fixed = [date(year, 1, 1), date(year, 7, 4), date(year, 11, 11), date(year, 12, 25)]
        if year >= JUNETEENTH_FIRST_YEAR:
            fixed.append(date(year, 6, 19))
        found.update(fixed)
        found.update(_observed(day) for day in fixed)
        found.update(
            (
                _nth_weekday(year, 1, MON, 3),
                _nth_weekday(year, 2, MON, 3),
                _last_weekday(year, 5, MON),
                _nth_weekday(year, 9, MON, 1),
                _nth_weekday(year, 10, MON, 2),
                _nth_weekday(year, 11, THU, 4),
            )
        )
    return frozenset(day for day in found if day.year in wanted)


def is_us_federal_holiday(day: date) -> bool:
    """Whether ``day`` is a US federal holiday (actual or observed); any year."""
    return day in us_federal_holidays((day.year,))


def _aware(value: datetime, name: str) -> datetime:
    if value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")
    return value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """Business days (weekdays that are not holidays) in ``tz`` with a daily ``cutoff``.

    ``holidays`` is a set of dates or a predicate (``is_us_federal_holiday``). Every
    datetime given must be aware; every datetime returned is UTC.
    """

    holidays: Callable[[date], bool] | frozenset[date]
    tz: str = DEFAULT_TIMEZONE
    cutoff: time = DEFAULT_CUTOFF

    def __post_init__(self) -> None:
        ZoneInfo(self.tz)  # an unknown zone fails here, not on the first deadline
        if self.cutoff.tzinfo is not None:
            raise ValueError("cutoff is a wall-clock time in tz: it must be naive")

    @property
    def zone(self) -> ZoneInfo:
        """The calendar's time zone."""
        return ZoneInfo(self.tz)

    def is_business_day(self, day: date) -> bool:
        """A weekday that is not a holiday."""
        if day.weekday() >= SAT:
            return False
        if isinstance(self.holidays, frozenset):
            return day not in self.holidays
        return not self.holidays(day)

    def next_business_day(self, day: date) -> date:
        """The first business day strictly after ``day``."""
        for offset in range(1, MAX_DAYS_WITHOUT_BUSINESS_DAY + 1):
            candidate = day + timedelta(days=offset)
            if self.is_business_day(candidate):
                return candidate
        raise ValueError(f"no business day within {MAX_DAYS_WITHOUT_BUSINESS_DAY} days of {day}")

    def anchor_day(self, start: datetime) -> date:
        """The day counting starts from (see the module docstring)."""
        local = _aware(start, "start").astimezone(self.zone)
        day = local.date()
        if self.is_business_day(day) and local.time() <= self.cutoff:
            return day
        return self.next_business_day(day)

    def cutoff_at(self, day: date) -> datetime:
        """The cut-off of ``day`` in the calendar's zone, as UTC."""
        return datetime.combine(day, self.cutoff, tzinfo=self.zone).astimezone(UTC)

    def add_business_days(self, start: datetime, n: int) -> datetime:
        """The cut-off of the n-th business day after ``start``'s anchor day (n >= 0).

        The anchor rule and worked examples are in the module docstring.
        """
        if n < 0:
            raise ValueError("n must be zero or more business days")
        day = self.anchor_day(start)
        for _ in range(n):
            day = self.next_business_day(day)
        return self.cutoff_at(day)

    def business_time_left(self, now: datetime, deadline: datetime) -> timedelta:
        """Time left before ``deadline`` counting only business days (whole local days).

        Friday 23:59 with a Monday 23:59 deadline has 24 hours left, not 72: nobody ships
        on Sunday. Once the deadline has passed, the (negative) real time since it.
        """
        now, deadline = _aware(now, "now"), _aware(deadline, "deadline")
        if now >= deadline:
            return deadline - now
        zone = self.zone
        left = timedelta(0)
        day = now.astimezone(zone).date()
        while day <= deadline.astimezone(zone).date():
            if self.is_business_day(day):
                # In UTC: aware datetimes sharing a tzinfo subtract as wall clocks (no DST).
                start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
                end = datetime.combine(day + ONE_DAY, time(0), tzinfo=zone).astimezone(UTC)
                left += min(end, deadline) - max(start, now)
            day += ONE_DAY
        return left

    def sla_thresholds_crossed(
        self, now: datetime, deadline: datetime, already_alerted: Collection[Threshold]
    ) -> list[Threshold]:
        """Thresholds crossed and not yet alerted, least severe first.

        A threshold is crossed when the business time left is at or under its limit;
        BREACHED once ``now`` is past the deadline. An order first seen late crosses several
        at once: record them all, alert the last.
        """
        left = self.business_time_left(now, deadline)
        crossed = [threshold for threshold, limit in THRESHOLD_LIMITS if left <= limit]
        if now > deadline:
            crossed.append(Threshold.BREACHED)
        return [threshold for threshold in crossed if threshold not in already_alerted]


def us_business_calendar(
    tz: str = DEFAULT_TIMEZONE, cutoff: time = DEFAULT_CUTOFF
) -> BusinessCalendar:
    """Weekends and US federal holidays skipped, any year."""
    return BusinessCalendar(is_us_federal_holiday, tz, cutoff)


@dataclass(frozen=True, slots=True)
class Deadline:
    """A deadline (UTC) and where it came from."""

    at: datetime
    source: DeadlineSource

    @property
    def from_tiktok(self) -> bool:
        """TikTok gave this deadline."""
        return self.source is DeadlineSource.FROM_TIKTOK

    @property
    def computed(self) -> bool:
        """We computed this deadline with the business-day rules."""
        return self.source is DeadlineSource.COMPUTED


@dataclass(frozen=True, slots=True)
class Deadlines:
    """An order's SLA deadlines; ``None`` where TikTok gave none and none can be computed."""

    dispatch: Deadline | None
    carrier_scan: Deadline | None
    delivery: Deadline | None
    auto_cancel: Deadline | None


def _deadline(given: datetime | None, computed: datetime | None) -> Deadline | None:
    if given is not None:
        return Deadline(given, DeadlineSource.FROM_TIKTOK)
    if computed is not None:
        return Deadline(computed, DeadlineSource.COMPUTED)
    return None


def deadlines_for(order: TikTokOrder, calendar: BusinessCalendar) -> Deadlines:
    """TikTok's deadlines for ``order``, or computed ones where it gives none.

    - dispatch: ``rts_sla_time``, else created + 2 business days;
    - carrier scan: ``tts_sla_time``, else the cut-off of the business day after the
      dispatch deadline's day;
    - delivery: ``delivery_sla_time``, else created + 4 (Express), 7 (Standard) or 11
      (Economy) business days; none for an unrecognised delivery option;
    - auto-cancel: ``shipping_due_time``, else created + 7 business days.
    Nothing is computed without ``create_time``.
    """
    created = order.create_time

    def after_creation(days: int | None) -> datetime | None:
        if created is None or days is None:
            return None
        return calendar.add_business_days(created, days)

    dispatch = _deadline(order.rts_sla_time, after_creation(DISPATCH_BUSINESS_DAYS))
    scan = None
    if dispatch is not None:
        day = dispatch.at.astimezone(calendar.zone).date()
        for _ in range(CARRIER_SCAN_BUSINESS_DAYS_AFTER_DISPATCH):
            day = calendar.next_business_day(day)
        scan = calendar.cutoff_at(day)
    option = delivery_option(order.delivery_option_name)
    delivery_days = None if option is None else DELIVERY_BUSINESS_DAYS[option]
    return Deadlines(
        dispatch=dispatch,
        carrier_scan=_deadline(order.tts_sla_time, scan),
        delivery=_deadline(order.delivery_sla_time, after_creation(delivery_days)),
        auto_cancel=_deadline(order.shipping_due_time, after_creation(AUTO_CANCEL_BUSINESS_DAYS)),
    )
