"""The SLA desk: which orders are on it, time left, which alert is due, and what it says.

Property tests run the arithmetic on the calendar the engine injects (US federal holidays
of the ``holidays`` package, Pacific time, 11:59 pm cut-off) across weekends, holidays, the
cut-off and both daylight-saving changes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from orderbridge.adapters.us_calendar import us_business_calendar
from orderbridge.domain.order import TikTokOrder, TikTokStatus
from orderbridge.domain.sla import DEFAULT_CUTOFF, DeadlineSource, DeliveryOption, Threshold
from orderbridge.domain.sla_desk import (
    AlertKind,
    DeskState,
    alert_subject,
    alert_text,
    desk_entry,
    desk_order,
    format_left,
    plan_alerts,
)

PACIFIC = ZoneInfo("America/Los_Angeles")
CAL = us_business_calendar()
T = Threshold
FEDERAL = holidays.country_holidays("US")


def pt(year: int, month: int, day: int, hour: int = 0, minute: int = 0, sec: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, sec, tzinfo=PACIFIC).astimezone(UTC)


def order(status: TikTokStatus = TikTokStatus.AWAITING_SHIPMENT, **kw: Any) -> TikTokOrder:
    kw.setdefault("shipping_type", "SELLER")
    return TikTokOrder(id="5770001", status=status, **kw)


# --- who is on the desk --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "state"),
    [
        (TikTokStatus.AWAITING_SHIPMENT, DeskState.NOT_SHIPPED),
        (TikTokStatus.PARTIALLY_SHIPPING, DeskState.PARTLY_SHIPPED),
        (TikTokStatus.AWAITING_COLLECTION, DeskState.AWAITING_SCAN),
    ],
)
def test_on_the_desk_until_the_carrier_scans(status: TikTokStatus, state: DeskState) -> None:
    entry = desk_entry(order(status, create_time=pt(2026, 11, 16, 9)), CAL, pt(2026, 11, 16, 10))
    assert entry is not None
    assert entry.state is state
    assert entry.status is status
    expected_kind = AlertKind.UPLOADED_NO_SCAN if state is DeskState.AWAITING_SCAN else AlertKind.DISPATCH_DUE
    assert entry.alert_kind is expected_kind


@pytest.mark.parametrize(
    "status",
    [TikTokStatus.UNPAID, TikTokStatus.ON_HOLD, TikTokStatus.IN_TRANSIT, TikTokStatus.DELIVERED,
     TikTokStatus.COMPLETED, TikTokStatus.CANCELLED, TikTokStatus.UNKNOWN],
)
def test_off_the_desk(status: TikTokStatus) -> None:
    assert desk_entry(order(status, create_time=pt(2026, 11, 16, 9)), CAL, pt(2026, 11, 16, 10)) is None


def test_fulfilled_by_tiktok_is_not_the_sellers_to_ship() -> None:
    fbt = order(fulfillment_type="FULFILLMENT_BY_TIKTOK", create_time=pt(2026, 11, 16, 9))
    assert not desk_order(fbt)
    assert desk_entry(fbt, CAL, pt(2026, 11, 16, 10)) is None
    # TikTok Shipping buys the label, the seller still hands the parcel over: on the desk.
    assert desk_order(order(shipping_type="TIKTOK"))


def test_deadlines_times_left_and_delivery_option() -> None:
    created = pt(2026, 11, 16, 9)  # Monday
    given = order(create_time=created, delivery_option_name="Express Shipping",
                  rts_sla_time=pt(2026, 11, 18, 23, 59, 59))
    entry = desk_entry(given, CAL, pt(2026, 11, 18, 12))
    assert entry is not None
    assert entry.deadlines.dispatch is not None
    assert entry.deadlines.dispatch.source is DeadlineSource.FROM_TIKTOK
    assert entry.deadlines.delivery is not None
    assert entry.deadlines.delivery.at == pt(2026, 11, 20, 23, 59)  # Express: 4 business days
    assert entry.deadlines.auto_cancel is not None
    assert entry.deadlines.auto_cancel.at == pt(2026, 11, 25, 23, 59)  # 7 business days
    assert entry.delivery_option is DeliveryOption.EXPRESS
    assert entry.left == timedelta(hours=11, minutes=59, seconds=59)
    assert entry.business_left == entry.left
    assert entry.crossed == (T.HOURS_24, T.HOURS_12)
    assert not entry.breached
    assert entry.at_risk  # within 24 business hours: the dashboard's "SLA risk"


def test_no_deadline_without_tiktoks_or_a_create_time() -> None:
    entry = desk_entry(order(), CAL, pt(2026, 11, 16, 10))
    assert entry is not None
    assert (entry.left, entry.business_left, entry.crossed) == (None, None, ())
    assert not entry.at_risk
    assert plan_alerts(entry, ()) is None


# --- alerts --------------------------------------------------------------------------------


def test_first_seen_late_records_every_threshold_and_sends_the_worst() -> None:
    entry = desk_entry(order(create_time=pt(2026, 11, 16, 9)), CAL, pt(2026, 11, 19, 2))
    assert entry is not None
    assert entry.breached
    plan = plan_alerts(entry, ())
    assert plan is not None
    assert plan.record == (T.HOURS_24, T.HOURS_12, T.HOURS_4, T.BREACHED)
    assert plan.send is T.BREACHED
    assert plan.kind is AlertKind.DISPATCH_DUE
    assert plan_alerts(entry, [t.value for t in plan.record]) is None
    again = plan_alerts(entry, ["24h", "12h"])
    assert again is not None
    assert again.record == (T.HOURS_4, T.BREACHED)


def test_alert_texts() -> None:
    created = pt(2026, 11, 16, 9)  # dispatch by Wed 18 23:59 PST
    uploaded = desk_entry(order(TikTokStatus.AWAITING_COLLECTION, create_time=created), CAL,
                          pt(2026, 11, 18, 20, 30))
    assert uploaded is not None
    text = alert_text(uploaded, T.HOURS_4, "5770001 (Shopify #1001)", CAL)
    assert text.startswith("SLA 4h left: TikTok order 5770001 (Shopify #1001), tracking uploaded, "
                           "no carrier scan yet: 3 h 29 min of business time left before "
                           "Wed 2026-11-18 23:59 PST.")
    assert "the carrier must scan the package" in text
    late = desk_entry(order(create_time=created), CAL, pt(2026, 11, 19, 1, 59))
    assert late is not None
    text = alert_text(late, T.BREACHED, "5770001", CAL)
    assert text.startswith("SLA breached: TikTok order 5770001, not shipped yet: its dispatch deadline "
                           "Wed 2026-11-18 23:59 PST passed 2 h 00 min ago.")
    assert "ship it and upload tracking" in text
    partly = desk_entry(order(TikTokStatus.PARTIALLY_SHIPPING, create_time=created), CAL, pt(2026, 11, 18))
    assert partly is not None
    assert alert_subject(partly, T.HOURS_24, "1") == (
        "SLA 24h left: TikTok order 1, partly shipped: some units have no tracking yet")


def test_format_left() -> None:
    assert format_left(timedelta(hours=3, minutes=5, seconds=59)) == "3 h 05 min"
    assert format_left(timedelta(hours=-26)) == "-26 h 00 min"
    assert format_left(timedelta(0)) == "0 h 00 min"


# --- properties ----------------------------------------------------------------------------

def _sunday(year: int, month: int, nth: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(6 - first.weekday()) % 7 + 7 * (nth - 1))


# Where the arithmetic can go wrong: the two DST changes (2 am on the 2nd Sunday of March and
# the 1st Sunday of November) and the federal holidays; orders placed up to 4 days before.
EDGES = sorted(
    [datetime.combine(_sunday(y, 3, 2), time(2), tzinfo=PACIFIC) for y in range(2024, 2031)]
    + [datetime.combine(_sunday(y, 11, 1), time(2), tzinfo=PACIFIC) for y in range(2024, 2031)]
    + [datetime.combine(d, time(12), tzinfo=PACIFIC) for d, _ in holidays.US(years=range(2024, 2031)).items()]
)
NEAR_EDGES = st.sampled_from(EDGES).flatmap(
    lambda edge: st.integers(-4 * 24 * 60, 0).map(lambda m: (edge + timedelta(minutes=m)).astimezone(UTC)))
CREATED = st.one_of(
    st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)),
    NEAR_EDGES,
)
# Check times after creation: minutes, up to 12 days (long weekends, Thanksgiving, DST).
OFFSETS = st.lists(st.integers(0, 12 * 24 * 60), min_size=1, max_size=40)


@settings(deadline=None, max_examples=200)
@given(CREATED, OFFSETS)
def test_each_threshold_is_alerted_once_in_order_whatever_the_check_times(
    created: datetime, offsets: list[int]
) -> None:
    """Checks at any times: every threshold is recorded exactly once, least severe first, and
    once the deadline has passed all four are; a pass sends at most one alert, its worst."""
    alerted: list[str] = []
    now = created
    for minutes in sorted(offsets):
        now = created + timedelta(minutes=minutes)
        entry = desk_entry(order(create_time=created), CAL, now)
        assert entry is not None
        plan = plan_alerts(entry, alerted)
        if plan is None:
            continue
        assert plan.send is plan.record[-1]
        alerted.extend(t.value for t in plan.record)
    order_of = [t.value for t in T]
    assert alerted == sorted(set(alerted), key=order_of.index)
    final = desk_entry(order(create_time=created), CAL, now)
    assert final is not None
    assert final.deadlines.dispatch is not None
    if now > final.deadlines.dispatch.at:
        assert alerted == order_of


@settings(deadline=None, max_examples=300)
@given(CREATED, st.integers(0, 12 * 24 * 60))
def test_business_time_left_never_exceeds_real_time_and_skips_only_non_business_days(
    created: datetime, minutes: int
) -> None:
    now = created + timedelta(minutes=minutes)
    entry = desk_entry(order(create_time=created), CAL, now)
    assert entry is not None
    assert entry.left is not None
    assert entry.business_left is not None
    deadline = entry.deadlines.dispatch
    assert deadline is not None
    local = deadline.at.astimezone(PACIFIC)
    assert local.time() == DEFAULT_CUTOFF  # 23:59 Pacific in PST and in PDT alike
    assert local.weekday() < 5
    assert local.date() not in FEDERAL
    if entry.left <= timedelta(0):
        assert entry.business_left == entry.left
        assert entry.breached is (entry.left < timedelta(0))  # at the deadline itself: not yet late
        return
    assert timedelta(0) < entry.business_left <= entry.left
    skipped = entry.left - entry.business_left
    # What is not counted is whole non-business local days (23, 24 or 25 hours with DST).
    day, lost = now.astimezone(PACIFIC).date(), timedelta(0)
    while day < local.date():
        if not CAL.is_business_day(day):
            # In UTC: Python subtracts aware times of one tzinfo as wall clocks.
            start = datetime.combine(day, time(0), tzinfo=PACIFIC).astimezone(UTC)
            end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=PACIFIC).astimezone(UTC)
            lost += min(end, deadline.at) - max(start, now)
        day += timedelta(days=1)
    assert skipped == lost


@settings(deadline=None, max_examples=200)
@given(st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)), st.integers(0, 59),
       st.integers(0, 7))
def test_the_pacific_cutoff_splits_the_day(day: date, second: int, n: int) -> None:
    """At or before 23:59:00 Pacific a business day counts; from 23:59:01 the next one does."""
    assume(CAL.is_business_day(day))
    before = datetime.combine(day, time(23, 59), tzinfo=PACIFIC)
    after = before + timedelta(seconds=second + 1)
    next_day = CAL.next_business_day(day)
    assert CAL.add_business_days(before, n) == CAL.add_business_days(
        datetime.combine(day, time(0), tzinfo=PACIFIC), n)
    assert CAL.add_business_days(after, n) == CAL.add_business_days(
        datetime.combine(next_day, time(0), tzinfo=PACIFIC), n)
    assert CAL.add_business_days(after, n) > CAL.add_business_days(before, n)


@pytest.mark.parametrize(
    ("created", "deadline"),
    [
        # Spring forward (Sun 2026-03-08): Fri 13:00 PST, Mon (1), Tue (2) at 23:59 PDT.
        (pt(2026, 3, 6, 13), datetime(2026, 3, 11, 6, 59, tzinfo=UTC)),
        # Fall back (Sun 2026-11-01): Fri 13:00 PDT, Mon (1), Tue (2) at 23:59 PST.
        (pt(2026, 10, 30, 13), datetime(2026, 11, 4, 7, 59, tzinfo=UTC)),
        # Veterans Day (Wed 2026-11-11) and Thanksgiving (Thu 2026-11-26) skipped.
        (pt(2026, 11, 10, 9), pt(2026, 11, 13, 23, 59)),
        (pt(2026, 11, 25, 9), pt(2026, 11, 30, 23, 59)),
    ],
)
def test_desk_deadlines_across_dst_and_holidays(created: datetime, deadline: datetime) -> None:
    entry = desk_entry(order(create_time=created), CAL, created)
    assert entry is not None
    assert entry.deadlines.dispatch is not None
    assert entry.deadlines.dispatch.at == deadline


def test_at_the_deadline_itself_the_order_is_not_yet_late() -> None:
    created = datetime(2026, 11, 16, 17, 0, tzinfo=UTC)  # a Monday
    first = desk_entry(order(create_time=created), CAL, created)
    assert first is not None
    assert first.deadlines.dispatch is not None
    at = first.deadlines.dispatch.at
    on_time = desk_entry(order(create_time=created), CAL, at)
    late = desk_entry(order(create_time=created), CAL, at + timedelta(seconds=1))
    assert on_time is not None
    assert late is not None
    assert on_time.left == timedelta(0)
    assert not on_time.breached
    assert late.breached
