"""The US business-day SLA calendar: holidays, deadlines, time left, alert thresholds.

The calendar under test is the one the composition root injects
(``adapters.us_calendar``: US federal holidays of the ``holidays`` package).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orderbridge.adapters.us_calendar import us_business_calendar
from orderbridge.domain.order import TikTokOrder, TikTokStatus
from orderbridge.domain.sla import (
    DEFAULT_CUTOFF,
    BusinessCalendar,
    Deadline,
    DeadlineSource,
    DeliveryOption,
    Threshold,
    deadlines_for,
    delivery_option,
)

PACIFIC = ZoneInfo("America/Los_Angeles")
CAL = us_business_calendar()
T = Threshold


def pt(year: int, month: int, day: int, hour: int = 0, minute: int = 0, sec: int = 0) -> datetime:
    """A Pacific wall-clock time, as UTC."""
    return datetime(year, month, day, hour, minute, sec, tzinfo=PACIFIC).astimezone(UTC)


def unix(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


# --- holidays ------------------------------------------------------------------------

KNOWN = {
    2025: [
        (1, 1), (1, 20), (2, 17), (5, 26), (6, 19), (7, 4), (9, 1), (10, 13), (11, 11),
        (11, 27), (12, 25),
    ],
    2026: [
        (1, 1), (1, 19), (2, 16), (5, 25), (6, 19), (7, 3), (7, 4), (9, 7), (10, 12),
        (11, 11), (11, 26), (12, 25),
    ],
    2027: [
        (1, 1), (1, 18), (2, 15), (5, 31), (6, 18), (6, 19), (7, 4), (7, 5), (9, 6),
        (10, 11), (11, 11), (11, 25), (12, 24), (12, 25), (12, 31),
    ],
}  # fmt: skip


def holidays_of(year: int) -> set[date]:
    """The weekdays and weekend days the injected calendar treats as holidays in ``year``."""
    days = (date(year, 1, 1) + timedelta(days=i) for i in range(366))
    return {d for d in days if d.year == year and d.weekday() < 5 and not CAL.is_business_day(d)}


@pytest.mark.parametrize("year", sorted(KNOWN))
def test_us_federal_holidays_known_years(year: int) -> None:
    """Weekday holidays (weekend ones cost no business day) with their observed days."""
    expected = {date(year, m, d) for m, d in KNOWN[year]}
    assert holidays_of(year) == {d for d in expected if d.weekday() < 5}


def test_named_holidays_and_observed_days() -> None:
    assert not CAL.is_business_day(date(2026, 11, 26))  # Thanksgiving, 4th Thursday
    assert not CAL.is_business_day(date(2027, 6, 18))  # Juneteenth (Sat) observed Fri
    assert not CAL.is_business_day(date(2026, 7, 3))  # July 4 (Sat) observed Fri
    assert not CAL.is_business_day(date(2027, 7, 5))  # July 4 (Sun) observed Mon
    # New Year's Day 2028 is a Saturday: observed on Friday 31 December 2027.
    assert not CAL.is_business_day(date(2027, 12, 31))
    assert CAL.is_business_day(date(2020, 6, 19))  # a Friday before Juneteenth existed
    assert CAL.is_business_day(date(2026, 11, 27))  # the day after Thanksgiving: not federal


# --- adding business days --------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "n", "deadline"),
    [
        # Mon 08:30 PST: anchor Mon 25, Tue 26 (1), Wed 27 (2).
        (pt(2024, 11, 25, 8, 30), 2, datetime(2024, 11, 28, 7, 59, tzinfo=UTC)),
        # Across Thanksgiving: Wed 21:00 PST (Thu 05:00 UTC) anchors Wed; Thu 27 is the
        # holiday, Fri 28 (1), weekend, Mon Dec 1 (2).
        (pt(2025, 11, 26, 21, 0), 2, datetime(2025, 12, 2, 7, 59, tzinfo=UTC)),
        # Across a weekend and the end of DST (Sun Nov 2): Fri 10:00 PDT anchors Fri,
        # Mon Nov 3 (1), Tue Nov 4 (2) at 23:59 PST = UTC-8.
        (pt(2025, 10, 31, 10, 0), 2, datetime(2025, 11, 5, 7, 59, tzinfo=UTC)),
        # After the cut-off: Fri 23:59:30 PDT anchors Mon Nov 3; Tue (1), Wed (2).
        (pt(2025, 10, 31, 23, 59, 30), 2, datetime(2025, 11, 6, 7, 59, tzinfo=UTC)),
        # At the cut-off exactly still counts that day.
        (pt(2025, 10, 31, 23, 59), 0, datetime(2025, 11, 1, 6, 59, tzinfo=UTC)),
        # On a Saturday: anchor Mon Nov 3; n = 0 is the anchor day's cut-off.
        (pt(2025, 11, 1, 12, 0), 0, datetime(2025, 11, 4, 7, 59, tzinfo=UTC)),
        # Spring forward (Sun Mar 8 2026): Fri 13:00 PST, Mon (1), Tue (2) at 23:59 PDT.
        (pt(2026, 3, 6, 13, 0), 2, datetime(2026, 3, 11, 6, 59, tzinfo=UTC)),
        # Auto-cancel: 7 business days across Christmas 2026 (Fri Dec 25).
        (pt(2026, 12, 21, 9, 0), 7, datetime(2027, 1, 1, 7, 59, tzinfo=UTC)),
    ],
)
def test_worked_examples(start: datetime, n: int, deadline: datetime) -> None:
    assert CAL.add_business_days(start, n) == deadline


def test_tiktok_example_dispatch_deadline() -> None:
    """tiktok-shop.md §2: created 1732552200 (Mon 08:30 PST), TikTok's rts_sla 1732780799."""
    computed = CAL.add_business_days(unix(1732552200), 2)
    assert unix(1732780799) - computed == timedelta(seconds=59)  # 23:59:59 vs 23:59:00


def test_calendar_with_a_set_of_dates_other_zone_and_cutoff() -> None:
    cal = BusinessCalendar(frozenset({date(2025, 3, 3)}), "America/New_York", time(17, 0))
    assert not cal.is_business_day(date(2025, 3, 3))
    assert cal.is_business_day(date(2025, 3, 4))
    # Fri 18:00 EST is after a 17:00 cut-off: Mon 3 is a holiday here, so Tue 4 anchors.
    start = datetime(2025, 2, 28, 23, 0, tzinfo=UTC)
    assert cal.add_business_days(start, 1) == datetime(2025, 3, 5, 22, 0, tzinfo=UTC)
    assert cal.zone == ZoneInfo("America/New_York")
    assert us_business_calendar().cutoff == DEFAULT_CUTOFF
    assert us_business_calendar().tz == "America/Los_Angeles"


def test_bad_calendar_and_arguments() -> None:
    with pytest.raises(ZoneInfoNotFoundError):
        BusinessCalendar(frozenset(), "Mars/Olympus_Mons")
    with pytest.raises(ValueError, match="naive"):
        BusinessCalendar(frozenset(), cutoff=time(23, 59, tzinfo=UTC))
    with pytest.raises(ValueError, match="zero or more"):
        CAL.add_business_days(pt(2025, 1, 6, 9, 0), -1)
    with pytest.raises(ValueError, match="aware"):
        CAL.add_business_days(datetime(2025, 1, 6, 9, 0), 1)
    with pytest.raises(ValueError, match="aware"):
        CAL.business_time_left(pt(2025, 1, 6, 9, 0), datetime(2025, 1, 7))
    never = BusinessCalendar(lambda day: True)
    with pytest.raises(ValueError, match="no business day"):
        never.add_business_days(pt(2025, 1, 6, 9, 0), 1)


STARTS = st.datetimes(
    min_value=datetime(2021, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
)


@settings(deadline=None)
@given(STARTS, st.integers(0, 15))
def test_deadline_is_a_business_day_at_the_cutoff(start: datetime, n: int) -> None:
    deadline = CAL.add_business_days(start, n)
    local = deadline.astimezone(PACIFIC)
    day = local.date()
    # An independent oracle: the ``holidays`` package.
    assert day.weekday() < 5
    assert day not in holidays.US(years=day.year)
    assert local.time() == DEFAULT_CUTOFF
    assert deadline.tzinfo is UTC
    assert deadline >= start
    assert deadline - start <= timedelta(days=2 * n + 6)


@settings(deadline=None)
@given(STARTS, st.integers(0, 15))
def test_deadlines_are_monotonic_in_n(start: datetime, n: int) -> None:
    this, following = CAL.add_business_days(start, n), CAL.add_business_days(start, n + 1)
    assert following > this
    between = this.astimezone(PACIFIC).date() + timedelta(days=1)
    while between < following.astimezone(PACIFIC).date():
        assert not CAL.is_business_day(between)  # no business day skipped
        between += timedelta(days=1)


# --- time left and thresholds ------------------------------------------------------------


def test_business_time_left_skips_weekends() -> None:
    """Friday 23:59 with a Monday 23:59 deadline: 24 business hours left, not 72."""
    deadline = pt(2025, 11, 3, 23, 59)
    assert CAL.business_time_left(pt(2025, 10, 31, 23, 59), deadline) == timedelta(hours=24)
    # Across the end of DST: Fri 12:00 PDT to Mon 12:00 PST is 73 real hours, 24 business.
    noon = pt(2025, 11, 3, 12, 0)
    assert noon - pt(2025, 10, 31, 12, 0) == timedelta(hours=73)
    assert CAL.business_time_left(pt(2025, 10, 31, 12, 0), noon) == timedelta(hours=24)
    # From inside a weekend, and with a holiday (Veterans Day, Tue Nov 11) in between.
    assert CAL.business_time_left(pt(2025, 11, 8, 10, 0), pt(2025, 11, 12, 6, 0)) == (
        timedelta(hours=24 + 6)
    )
    # Past the deadline: the real time since it, negative.
    assert CAL.business_time_left(deadline + timedelta(hours=3), deadline) == timedelta(hours=-3)
    assert CAL.business_time_left(deadline, deadline) == timedelta(0)


def test_thresholds_fire_once_each() -> None:
    deadline = pt(2025, 11, 5, 23, 59)  # a Wednesday
    alerted: set[Threshold] = set()

    def at(*args: int) -> list[Threshold]:
        crossed = CAL.sla_thresholds_crossed(pt(*args), deadline, alerted)
        alerted.update(crossed)
        return crossed

    assert at(2025, 11, 4, 12, 0) == []  # 36 h left
    assert at(2025, 11, 4, 23, 59) == [T.HOURS_24]
    assert at(2025, 11, 5, 1, 0) == []
    assert at(2025, 11, 5, 11, 59) == [T.HOURS_12]
    assert at(2025, 11, 5, 20, 0) == [T.HOURS_4]
    assert at(2025, 11, 5, 23, 59) == []  # at the deadline: not yet breached
    assert at(2025, 11, 6, 0, 0) == [T.BREACHED]
    assert at(2025, 11, 7, 0, 0) == []


def test_an_order_first_seen_late_crosses_several_thresholds() -> None:
    deadline = pt(2025, 11, 5, 23, 59)
    assert CAL.sla_thresholds_crossed(pt(2025, 11, 6, 9, 0), deadline, frozenset()) == [
        T.HOURS_24,
        T.HOURS_12,
        T.HOURS_4,
        T.BREACHED,
    ]
    late = CAL.sla_thresholds_crossed(pt(2025, 11, 5, 21, 0), deadline, {T.HOURS_24})
    assert late == [T.HOURS_12, T.HOURS_4]


# --- an order's deadlines ----------------------------------------------------------------


def order(**kw: Any) -> TikTokOrder:
    return TikTokOrder(id="1", status=TikTokStatus.AWAITING_SHIPMENT, **kw)


def test_deadlines_from_tiktok() -> None:
    given_times = {
        "rts_sla_time": unix(1732780799),
        "tts_sla_time": unix(1732867199),
        "delivery_sla_time": unix(1733299199),
        "shipping_due_time": unix(1733471999),
    }
    found = deadlines_for(order(create_time=unix(1732552200), **given_times), CAL)
    assert found.dispatch == Deadline(unix(1732780799), DeadlineSource.FROM_TIKTOK)
    assert found.carrier_scan == Deadline(unix(1732867199), DeadlineSource.FROM_TIKTOK)
    assert found.delivery == Deadline(unix(1733299199), DeadlineSource.FROM_TIKTOK)
    assert found.auto_cancel == Deadline(unix(1733471999), DeadlineSource.FROM_TIKTOK)
    assert found.dispatch.from_tiktok
    assert not found.dispatch.computed


@pytest.mark.parametrize(
    ("option", "delivery"),
    [
        ("Express Shipping", pt(2025, 11, 7, 23, 59)),  # 4 business days
        ("Standard Shipping", pt(2025, 11, 13, 23, 59)),  # 7 (Veterans Day skipped)
        ("economy", pt(2025, 11, 19, 23, 59)),  # 11
        ("Shipped by seller", None),
    ],
)
def test_computed_deadlines(option: str, delivery: datetime | None) -> None:
    found = deadlines_for(
        order(create_time=pt(2025, 11, 3, 9, 0), delivery_option_name=option), CAL
    )
    assert found.dispatch == Deadline(pt(2025, 11, 5, 23, 59), DeadlineSource.COMPUTED)
    assert found.dispatch.computed
    assert found.carrier_scan == Deadline(pt(2025, 11, 6, 23, 59), DeadlineSource.COMPUTED)
    assert found.auto_cancel == Deadline(pt(2025, 11, 13, 23, 59), DeadlineSource.COMPUTED)
    expected = None if delivery is None else Deadline(delivery, DeadlineSource.COMPUTED)
    assert found.delivery == expected


def test_carrier_scan_follows_tiktoks_dispatch_deadline() -> None:
    # TikTok's ship-by is Wed 2024-11-27 23:59:59 PST; Thursday is Thanksgiving: Friday.
    found = deadlines_for(order(rts_sla_time=unix(1732780799)), CAL)
    assert found.carrier_scan == Deadline(pt(2024, 11, 29, 23, 59), DeadlineSource.COMPUTED)
    assert found.delivery is None
    assert found.auto_cancel is None


def test_nothing_is_computed_without_a_create_time() -> None:
    found = deadlines_for(order(delivery_option_name="Standard Shipping"), CAL)
    assert (found.dispatch, found.carrier_scan, found.delivery, found.auto_cancel) == (
        None,
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("name", "option"),
    [
        ("Economy Shipping", DeliveryOption.ECONOMY),
        ("STANDARD SHIPPING", DeliveryOption.STANDARD),
        ("Express", DeliveryOption.EXPRESS),
        ("", None),
        ("Shipped by seller", None),
    ],
)
def test_delivery_option(name: str, option: DeliveryOption | None) -> None:
    assert delivery_option(name) == option
