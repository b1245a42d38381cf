"""School days (review-rules.md section 2): weekends, England bank holidays, closures; deadlines only move earlier."""

from datetime import date

import holidays
import pytest

from review_rules import SchoolCalendar, bank_holidays

D = date.fromisoformat

# Closures a school might configure from its own term dates for 2025/26 (both ends inclusive).
TERM_DATE_CLOSURES = (
    (D("2025-10-27"), D("2025-10-31")),  # autumn half term
    (D("2025-12-20"), D("2026-01-04")),  # Christmas
    (D("2026-03-30"), D("2026-04-10")),  # Easter
    (D("2026-07-22"), D("2026-09-02")),  # summer
)

DEFAULT = SchoolCalendar()
NO_CLOSURES = SchoolCalendar(closures=())
CONFIGURED = SchoolCalendar(closures=TERM_DATE_CLOSURES)


@pytest.mark.parametrize(
    "holiday",
    [
        pytest.param("2024-05-06", id="early May 2024"),
        pytest.param("2025-12-25", id="Christmas Day 2025 (Thu)"),
        pytest.param("2025-12-26", id="Boxing Day 2025 (Fri)"),
        pytest.param("2026-04-03", id="Good Friday 2026"),
        pytest.param("2026-04-06", id="Easter Monday 2026"),
        pytest.param("2026-05-04", id="early May bank holiday 2026"),
        pytest.param("2026-05-25", id="spring bank holiday 2026"),
        pytest.param("2026-08-31", id="summer bank holiday 2026"),
        pytest.param("2026-12-28", id="Boxing Day 2026 substitute (26 Dec is a Saturday)"),
        pytest.param("2027-12-27", id="Christmas Day 2027 substitute (25 Dec is a Saturday)"),
        pytest.param("2027-12-28", id="Boxing Day 2027 substitute (26 Dec is a Sunday)"),
    ],
)
def test_bank_holidays_match_the_holidays_package(holiday: str) -> None:
    d = D(holiday)
    # The literal dates above are checked against the package's own data and against ours.
    assert d in holidays.country_holidays("GB", subdiv="ENG", years=d.year)
    assert d in bank_holidays(d.year)
    assert not NO_CLOSURES.is_school_day(d)


@pytest.mark.parametrize(
    ("calendar", "day", "expected"),
    [
        pytest.param(DEFAULT, "2026-04-03", False, id="default: Good Friday"),
        pytest.param(DEFAULT, "2026-04-06", False, id="default: Easter Monday"),
        pytest.param(DEFAULT, "2026-04-07", True, id="default: Tuesday after Easter (no Easter closure by default)"),
        pytest.param(DEFAULT, "2026-05-04", False, id="default: early May bank holiday"),
        pytest.param(DEFAULT, "2026-05-25", False, id="default: spring bank holiday"),
        pytest.param(DEFAULT, "2026-07-20", True, id="default: Mon 20 Jul, day before the summer closure"),
        pytest.param(DEFAULT, "2026-07-21", False, id="default: 21 Jul, first day of the summer closure"),
        pytest.param(DEFAULT, "2026-08-31", False, id="default: 31 Aug, last day of the closure (and a bank holiday)"),
        pytest.param(DEFAULT, "2026-09-01", True, id="default: 1 Sep, term starts"),
        pytest.param(DEFAULT, "2025-12-19", True, id="default: Fri 19 Dec, before the Christmas closure"),
        pytest.param(DEFAULT, "2025-12-22", False, id="default: Mon 22 Dec, inside 21 Dec-3 Jan"),
        pytest.param(DEFAULT, "2026-01-02", False, id="default: Fri 2 Jan, inside 21 Dec-3 Jan"),
        pytest.param(DEFAULT, "2026-01-05", True, id="default: Mon 5 Jan, term starts"),
        pytest.param(DEFAULT, "2027-01-04", True, id="default: Mon 4 Jan 2027"),
        pytest.param(DEFAULT, "2025-11-08", False, id="Saturday"),
        pytest.param(DEFAULT, "2025-11-09", False, id="Sunday"),
        pytest.param(DEFAULT, "2025-11-10", True, id="ordinary Monday"),
        pytest.param(NO_CLOSURES, "2025-12-24", True, id="no closures: Christmas Eve is a school day"),
        pytest.param(NO_CLOSURES, "2025-12-25", False, id="no closures: Christmas Day"),
        pytest.param(NO_CLOSURES, "2026-07-21", True, id="no closures: 21 Jul is a school day"),
        pytest.param(NO_CLOSURES, "2026-12-28", False, id="no closures: Boxing Day substitute Monday"),
        pytest.param(NO_CLOSURES, "2026-12-29", True, id="no closures: Tue 29 Dec 2026"),
        pytest.param(NO_CLOSURES, "2026-01-02", True, id="no closures: Fri 2 Jan 2026"),
        pytest.param(CONFIGURED, "2025-10-24", True, id="configured: Friday before half term"),
        pytest.param(CONFIGURED, "2025-10-27", False, id="configured: first day of half term"),
        pytest.param(CONFIGURED, "2025-10-31", False, id="configured: last day of half term (inclusive)"),
        pytest.param(CONFIGURED, "2025-11-03", True, id="configured: back after half term"),
        pytest.param(CONFIGURED, "2025-12-19", True, id="configured: last day of autumn term"),
        pytest.param(CONFIGURED, "2026-01-05", True, id="configured: spring term starts"),
        pytest.param(CONFIGURED, "2026-04-13", True, id="configured: back after Easter"),
        pytest.param(CONFIGURED, "2026-05-04", False, id="configured: bank holidays still apply"),
        pytest.param(CONFIGURED, "2026-07-21", True, id="configured: 21 Jul is term time for this school"),
        pytest.param(CONFIGURED, "2026-09-02", False, id="configured: summer closure runs to 2 Sep"),
        pytest.param(CONFIGURED, "2026-09-03", True, id="configured: term starts 3 Sep"),
    ],
)
def test_is_school_day(calendar: SchoolCalendar, day: str, expected: bool) -> None:
    assert calendar.is_school_day(D(day)) is expected


@pytest.mark.parametrize(
    ("calendar", "deadline", "expected"),
    [
        pytest.param(DEFAULT, "2026-04-06", "2026-04-02", id="Easter Monday -> Thu before Good Friday"),
        pytest.param(DEFAULT, "2026-04-05", "2026-04-02", id="Easter Sunday -> Thu before Good Friday"),
        pytest.param(DEFAULT, "2026-05-25", "2026-05-22", id="spring bank holiday -> Friday"),
        pytest.param(DEFAULT, "2026-05-04", "2026-05-01", id="early May bank holiday -> Friday"),
        pytest.param(DEFAULT, "2026-08-15", "2026-07-20", id="summer closure -> Mon 20 Jul"),
        pytest.param(DEFAULT, "2026-09-01", "2026-09-01", id="a school day stays put"),
        pytest.param(DEFAULT, "2026-01-01", "2025-12-19", id="New Year's Day in the closure -> Fri 19 Dec"),
        pytest.param(DEFAULT, "2026-01-04", "2025-12-19", id="Sun 4 Jan -> over the closure to Fri 19 Dec"),
        pytest.param(DEFAULT, "2025-11-09", "2025-11-07", id="Sunday -> Friday"),
        pytest.param(DEFAULT, "2027-01-03", "2026-12-18", id="3 Jan 2027 -> Fri 18 Dec 2026"),
        pytest.param(NO_CLOSURES, "2025-12-26", "2025-12-24", id="no closures: Boxing Day -> Christmas Eve"),
        pytest.param(NO_CLOSURES, "2026-12-28", "2026-12-24", id="no closures: substitute day, weekend, Christmas"),
        pytest.param(NO_CLOSURES, "2027-12-28", "2027-12-24", id="no closures: two substitute days in 2027"),
        pytest.param(NO_CLOSURES, "2026-01-01", "2025-12-31", id="no closures: New Year's Day -> 31 Dec"),
        pytest.param(NO_CLOSURES, "2026-08-31", "2026-08-28", id="no closures: summer bank holiday -> Friday"),
        pytest.param(NO_CLOSURES, "2026-04-06", "2026-04-02", id="no closures: Easter Monday -> Thursday"),
        pytest.param(CONFIGURED, "2025-10-31", "2025-10-24", id="configured: half term -> Friday before"),
        pytest.param(CONFIGURED, "2026-04-10", "2026-03-27", id="configured: Easter closure -> Fri 27 Mar"),
        pytest.param(CONFIGURED, "2026-09-02", "2026-07-21", id="configured: summer closure -> Tue 21 Jul"),
        pytest.param(CONFIGURED, "2026-01-04", "2025-12-19", id="configured: Christmas closure -> Fri 19 Dec"),
    ],
)
def test_school_day_on_or_before(calendar: SchoolCalendar, deadline: str, expected: str) -> None:
    assert calendar.school_day_on_or_before(D(deadline)) == D(expected)


def test_closure_that_ends_before_it_starts_is_rejected() -> None:
    with pytest.raises(ValueError, match="closure"):
        SchoolCalendar(closures=((D("2026-04-10"), D("2026-03-30")),))


def test_a_whole_sweep_of_lookups_is_fast() -> None:
    import time

    calendar = SchoolCalendar()
    start = time.perf_counter()
    days = [date.fromordinal(D("2024-01-01").toordinal() + i % 1500) for i in range(40_000)]
    school_days = sum(calendar.is_school_day(d) for d in days)
    stepped = [calendar.school_day_on_or_before(d) for d in days[:10_000]]
    elapsed = time.perf_counter() - start
    assert school_days > 0
    assert all(calendar.is_school_day(d) for d in stepped)
    assert elapsed < 2.0
