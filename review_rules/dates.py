"""Calendar-date helpers for the statutory clock (docs/rules.md s1).

All arithmetic is on calendar dates: no times, no time zones.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from review_rules.model import Period

ONE_DAY = timedelta(days=1)


def anniversary(d: date) -> date:
    """Same day and month one year later; 29 February maps to 1 March when the next year is not a leap year."""
    try:
        return d.replace(year=d.year + 1)
    except ValueError:
        # 29 February with no 29 February next year: the anniversary falls on the day after 28 February.
        return date(d.year + 1, 3, 1)


def add_months_clamped(d: date, n: int) -> date:
    """`n` calendar months later (or earlier when negative), the day clamped to the month's end.

    31 August + 6 months = 28 February (29 February in a leap year).
    """
    month_index = d.year * 12 + (d.month - 1) + n
    year, month0 = divmod(month_index, 12)
    last_day = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(d.day, last_day))


def window_end(d: date, period: Period = Period.TWELVE_MONTHS) -> date:
    """The last day on which a review started from `d` is in time.

    TWELVE_MONTHS (default): the last day of "the period of 12 months starting with" `d` (CFA 2014 s44(1)), i.e. the
    anniversary minus one day. 2024-02-29 -> 2025-02-28; 2023-03-01 -> 2024-02-29. Note that
    `d + relativedelta(years=1) - 1 day` wrongly gives 2025-02-27 for 2024-02-29.

    ANNIVERSARY (a school setting, for LAs that count "by the anniversary"): `d` + 12 months, 29 February clamped to
    28 February.
    """
    if period is Period.ANNIVERSARY:
        return add_months_clamped(d, 12)
    return anniversary(d) - ONE_DAY


def last_friday_in_june(year: int) -> date:
    """The school leaving date of a calendar year (Education (School Leaving Date) Order 1997, SI 1997/1970)."""
    june_30 = date(year, 6, 30)
    # date.weekday(): Monday = 0 ... Friday = 4.
    return june_30 - timedelta(days=(june_30.weekday() - 4) % 7)


def sixteenth_birthday(dob: date) -> date:
    """The day the pupil attains 16. A 29 February birthday counts from 1 March in non-leap years (as `age_on` does)."""
    try:
        return dob.replace(year=dob.year + 16)
    except ValueError:
        return date(dob.year + 16, 3, 1)


def end_of_compulsory_school(dob: date) -> date:
    """The end of compulsory school age: the last Friday in June of the school year in which the pupil turns 16.

    Education Act 1996 s8(3): a pupil ceases to be of compulsory school age on the school leaving date (last Friday in
    June) if they turn 16 after it but before the next school year begins, or on it, or otherwise on the next school
    leaving date after turning 16. All three cases are the June of the academic year (1 Sept-31 Aug) that contains
    the 16th birthday; that June lies in calendar year ay_start + 1. Born 31 Aug 2010 -> Fri 26 Jun 2026; born
    1 Sep 2010 -> Fri 25 Jun 2027.
    """
    birthday = sixteenth_birthday(dob)
    academic_year_start = birthday.year if birthday.month >= 9 else birthday.year - 1
    return last_friday_in_june(academic_year_start + 1)


_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_date(d: date) -> str:
    """A date as the SENDCo reads it: "Fri 7 Nov 2025". English names whatever the machine's locale (and far faster
    than strftime, which matters: every pupil's explanations name a dozen dates)."""
    return f"{_WEEKDAYS[d.weekday()]} {d.day} {_MONTHS[d.month - 1]} {d.year}"
