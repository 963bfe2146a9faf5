"""The US business calendar the SLA desk counts in: weekends and US federal holidays skipped.

The holidays come from the maintained ``holidays`` package (its US calendar: the eleven
federal holidays with their observed days, e.g. New Year's Day 2028, a Saturday, observed
on Friday 2027-12-31), never from a hand-written list: Congress adds holidays (Juneteenth,
2021) and the package follows. The pure domain receives the calendar as a predicate
(``BusinessCalendar``); the composition root (``bootstrap.Services.sla_calendar``) builds it.
"""

from __future__ import annotations

from datetime import date, time

import holidays

from orderbridge.domain.sla import DEFAULT_CUTOFF, DEFAULT_TIMEZONE, BusinessCalendar

__all__ = ["US_COUNTRY", "us_business_calendar", "us_federal_holiday"]

US_COUNTRY = "US"


def us_federal_holiday() -> holidays.HolidayBase:
    """A US federal-holiday lookup for any year (``day in it``; years are computed on use)."""
    return holidays.country_holidays(US_COUNTRY, observed=True)


def us_business_calendar(tz: str = DEFAULT_TIMEZONE, cutoff: time = DEFAULT_CUTOFF) -> BusinessCalendar:
    """Business days in ``tz`` (Pacific by default) with the daily ``cutoff`` (11:59 pm)."""
    federal = us_federal_holiday()

    def is_holiday(day: date) -> bool:
        return day in federal

    return BusinessCalendar(is_holiday, tz, cutoff)
