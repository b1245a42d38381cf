"""Date helpers (review-rules.md section 1): tables of literal dates, each row naming its source."""

from datetime import date

import pytest

from review_rules import (
    Period,
    add_months_clamped,
    anniversary,
    end_of_compulsory_school,
    format_date,
    last_friday_in_june,
    window_end,
)

D = date.fromisoformat


@pytest.mark.parametrize(
    ("anchor", "expected"),
    [
        pytest.param("2024-02-29", "2025-03-01", id="29 Feb -> 1 Mar in a non-leap year (spec s1)"),
        pytest.param("2028-02-29", "2029-03-01", id="29 Feb 2028 -> 1 Mar 2029"),
        pytest.param("2023-02-28", "2024-02-28", id="28 Feb stays 28 Feb in a leap year"),
        pytest.param("2027-02-28", "2028-02-28", id="28 Feb never becomes 29 Feb"),
        pytest.param("2023-03-01", "2024-03-01", id="1 Mar before a leap year"),
        pytest.param("2025-12-31", "2026-12-31", id="year end"),
        pytest.param("2025-06-20", "2026-06-20", id="ordinary day"),
    ],
)
def test_anniversary(anchor: str, expected: str) -> None:
    assert anniversary(D(anchor)) == D(expected)


@pytest.mark.parametrize(
    ("anchor", "expected"),
    [
        pytest.param("2019-01-01", "2019-12-31", id="spec s1 example: 1 Jan -> 31 Dec"),
        pytest.param("2024-02-29", "2025-02-28", id="spec s1 example: 29 Feb (not 27 Feb via relativedelta)"),
        pytest.param("2023-03-01", "2024-02-29", id="spec s1 example: 1 Mar 2023 -> 29 Feb 2024"),
        pytest.param("2025-03-10", "2026-03-09", id="spec s1/s4 example: plan issued 10 Mar 2025"),
        pytest.param("2025-06-20", "2026-06-19", id="spec s4 example: last meeting 20 Jun 2025"),
        pytest.param("2025-07-10", "2026-07-09", id="spec s4 example: LA decision 10 Jul 2025"),
        pytest.param("2024-03-01", "2025-02-28", id="1 Mar 2024 -> 28 Feb 2025 (non-leap)"),
        pytest.param("2023-02-28", "2024-02-27", id="28 Feb 2023 -> 27 Feb 2024 (29 Feb not reached)"),
        pytest.param("2020-02-29", "2021-02-28", id="29 Feb 2020 -> 28 Feb 2021"),
        pytest.param("2025-09-01", "2026-08-31", id="start of academic year"),
    ],
)
def test_window_end_twelve_months(anchor: str, expected: str) -> None:
    assert window_end(D(anchor)) == D(expected)
    assert window_end(D(anchor), Period.TWELVE_MONTHS) == D(expected)


@pytest.mark.parametrize(
    ("anchor", "expected"),
    [
        pytest.param("2024-02-29", "2025-02-28", id="spec s1: anniversary setting clamps 29 Feb to 28 Feb"),
        pytest.param("2028-02-29", "2029-02-28", id="29 Feb 2028 clamps to 28 Feb 2029"),
        pytest.param("2023-03-01", "2024-03-01", id="1 Mar 2023 -> 1 Mar 2024 (one day later than twelve_months)"),
        pytest.param("2023-02-28", "2024-02-28", id="28 Feb -> 28 Feb"),
        pytest.param("2025-06-20", "2026-06-20", id="ordinary day -> anniversary itself"),
        pytest.param("2019-01-01", "2020-01-01", id="1 Jan -> 1 Jan"),
    ],
)
def test_window_end_anniversary_setting(anchor: str, expected: str) -> None:
    assert window_end(D(anchor), Period.ANNIVERSARY) == D(expected)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        pytest.param("2025-08-31", 6, "2026-02-28", id="spec s1 example: 31 Aug + 6 months = 28 Feb"),
        pytest.param("2023-08-31", 6, "2024-02-29", id="31 Aug + 6 months in a leap year = 29 Feb"),
        pytest.param("2025-01-31", 1, "2025-02-28", id="31 Jan + 1 month clamps"),
        pytest.param("2025-03-31", -1, "2025-02-28", id="negative months clamp too"),
        pytest.param("2024-02-29", 12, "2025-02-28", id="29 Feb + 12 months clamps to 28 Feb"),
        pytest.param("2024-02-29", -12, "2023-02-28", id="29 Feb - 12 months clamps to 28 Feb"),
        pytest.param("2025-10-31", 6, "2026-04-30", id="31 Oct + 6 months = 30 Apr"),
        pytest.param("2025-11-15", 3, "2026-02-15", id="crosses the year end"),
        pytest.param("2025-05-31", 0, "2025-05-31", id="zero months"),
        pytest.param("2025-01-15", -13, "2023-12-15", id="back over a year end"),
    ],
)
def test_add_months_clamped(start: str, months: int, expected: str) -> None:
    assert add_months_clamped(D(start), months) == D(expected)


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        pytest.param(2025, "2025-06-27", id="30 Jun 2025 is a Monday"),
        pytest.param(2026, "2026-06-26", id="30 Jun 2026 is a Tuesday"),
        pytest.param(2027, "2027-06-25", id="30 Jun 2027 is a Wednesday"),
        pytest.param(2028, "2028-06-30", id="30 Jun 2028 is itself a Friday"),
        pytest.param(2030, "2030-06-28", id="30 Jun 2030 is a Sunday"),
    ],
)
def test_last_friday_in_june(year: int, expected: str) -> None:
    assert last_friday_in_june(year) == D(expected)


@pytest.mark.parametrize(
    ("dob", "expected"),
    [
        pytest.param("2010-08-31", "2026-06-26", id="born 31 Aug: turns 16 in Aug 2026, school year 2025/26"),
        pytest.param("2010-09-01", "2027-06-25", id="born 1 Sep: turns 16 on 1 Sep 2026, school year 2026/27"),
        pytest.param("2010-06-27", "2026-06-26", id="turns 16 on Sat 27 Jun 2026, after the leaving date: s8(3)(a)"),
        pytest.param("2010-06-26", "2026-06-26", id="turns 16 on the leaving date itself: s8(3)(b)"),
        pytest.param("2011-01-15", "2027-06-25", id="turns 16 in January: the next leaving date, s8(3)(c)"),
        pytest.param("2012-02-29", "2028-06-30", id="29 Feb birthday, 16 on 29 Feb 2028"),
        pytest.param("2014-03-01", "2030-06-28", id="spec s5 example pupil"),
        pytest.param("2010-05-10", "2026-06-26", id="Year 11 pupil in 2025/26"),
    ],
)
def test_end_of_compulsory_school(dob: str, expected: str) -> None:
    assert end_of_compulsory_school(D(dob)) == D(expected)


@pytest.mark.parametrize(
    ("d", "expected"),
    [
        pytest.param("2025-11-07", "Fri 7 Nov 2025", id="brief's example format"),
        pytest.param("2026-06-19", "Fri 19 Jun 2026", id="spec s4 window end"),
        pytest.param("2024-02-29", "Thu 29 Feb 2024", id="leap day"),
    ],
)
def test_format_date(d: str, expected: str) -> None:
    assert format_date(D(d)) == expected
