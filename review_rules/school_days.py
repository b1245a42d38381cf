"""School days (docs/rules.md s2).

A school day is Monday-Friday, not an England-and-Wales bank holiday (Banking and Financial Dealings Act 1971 and
royal proclamations, as published in the `holidays` package: GB, subdivision ENG) and not inside a closure period.
Deadlines are only ever moved earlier to a school day, never later: a step due in the holidays must be done before them.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import holidays

from review_rules.model import DEFAULT_CLOSURES_MONTH_DAY

_ONE_DAY = timedelta(days=1)
# A deadline never needs to step back further than this; a longer run of closed days means the term dates are wrong.
_MAX_STEP_BACK_DAYS = 400
# functools.cache does not stop two threads running the loader at once, and the module is in sys.modules before it has
# run: without the lock a second thread read UnitedKingdom from a half-run module (AttributeError; bench_trust.py's
# sweeps on threads, main.py serve's pages).
_LOADING = threading.Lock()


@cache
def _united_kingdom() -> type[holidays.HolidayBase] | None:
    """The package's United Kingdom calendar, loaded from its own file: `holidays.country_holidays("GB")` first imports
    all of the package's ~280 country modules (70 ms and 8 MB, a tenth of a small sweep's memory; issue 16). None when
    the file has moved in another version of the package (then country_holidays is used)."""
    with _LOADING:
        return _load_united_kingdom()


def _load_united_kingdom() -> type[holidays.HolidayBase] | None:
    name = "holidays.countries.united_kingdom"
    if name in sys.modules:
        return sys.modules[name].UnitedKingdom  # type: ignore[no-any-return]
    spec = importlib.util.spec_from_file_location(
        name, Path(holidays.__file__).parent / "countries" / f"{name[19:]}.py"
    )
    if spec is None or spec.loader is None or not Path(str(spec.origin)).is_file():
        return None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # the package's own import of the countries later finds it and uses it as is
    try:
        spec.loader.exec_module(module)
        return module.UnitedKingdom  # type: ignore[no-any-return]
    except Exception:
        del sys.modules[name]
        return None


@cache
def bank_holidays(year: int) -> frozenset[date]:
    """England's bank holidays in `year`, including substitute days (e.g. Boxing Day observed on Mon 28 Dec 2026)."""
    united_kingdom = _united_kingdom()
    if united_kingdom is None:
        return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())
    return frozenset(united_kingdom(subdiv="ENG", years=year).keys())


def _default_closures(year: int) -> list[tuple[date, date]]:
    """The spec's default closures that touch calendar year `year`: 21 Jul-31 Aug and 21 Dec-3 Jan, both inclusive."""
    ranges: list[tuple[date, date]] = []
    for (start_month, start_day), (end_month, end_day) in DEFAULT_CLOSURES_MONTH_DAY:
        if (end_month, end_day) >= (start_month, start_day):
            ranges.append((date(year, start_month, start_day), date(year, end_month, end_day)))
        else:
            # Spans the new year: the tail that began last December and the head that runs into next January.
            ranges.append((date(year - 1, start_month, start_day), date(year, end_month, end_day)))
            ranges.append((date(year, start_month, start_day), date(year + 1, end_month, end_day)))
    return ranges


class SchoolCalendar:
    """Which days are school days, from bank holidays and the school's closure periods.

    `closures`: (first day, last day) pairs, both inclusive, from the school's term dates. None means the spec's default
    closures every year; an empty tuple means no closures at all (bank holidays and weekends still apply).
    Each calendar year is computed once into a day-by-day table, so a sweep of thousands of pupils stays fast.
    """

    def __init__(self, closures: tuple[tuple[date, date], ...] | None = None) -> None:
        if closures is not None:
            for first, last in closures:
                if first > last:
                    raise ValueError("a closure period must not end before it starts")
        self.closures = closures
        self._years: dict[int, tuple[int, bytes]] = {}

    def _closures_touching(self, year: int) -> list[tuple[date, date]]:
        if self.closures is None:
            return _default_closures(year)
        return [(first, last) for first, last in self.closures if first.year <= year <= last.year]

    def _year_table(self, year: int) -> tuple[int, bytes]:
        table = self._years.get(year)
        if table is None:
            jan_1 = date(year, 1, 1).toordinal()
            dec_31 = date(year, 12, 31).toordinal()
            flags = bytearray(dec_31 - jan_1 + 1)
            for ordinal in range(jan_1, dec_31 + 1):
                # date.weekday(): Saturday = 5, Sunday = 6.
                flags[ordinal - jan_1] = 1 if date.fromordinal(ordinal).weekday() < 5 else 0
            for holiday in bank_holidays(year):
                flags[holiday.toordinal() - jan_1] = 0
            for first, last in self._closures_touching(year):
                for ordinal in range(max(first.toordinal(), jan_1), min(last.toordinal(), dec_31) + 1):
                    flags[ordinal - jan_1] = 0
            table = (jan_1, bytes(flags))
            self._years[year] = table
        return table

    def is_school_day(self, d: date) -> bool:
        """Monday-Friday, not an England bank holiday, not in a closure period."""
        jan_1, flags = self._year_table(d.year)
        return flags[d.toordinal() - jan_1] == 1

    def school_day_on_or_before(self, d: date) -> date:
        """`d` if it is a school day, else the nearest earlier school day (deadlines are never moved later)."""
        day = d
        for _ in range(_MAX_STEP_BACK_DAYS):
            if self.is_school_day(day):
                return day
            day -= _ONE_DAY
        raise ValueError(f"no school day in the {_MAX_STEP_BACK_DAYS} days up to the deadline: check the term dates")


@cache
def calendar_for(closures: tuple[tuple[date, date], ...] | None) -> SchoolCalendar:
    """One shared calendar per closure setting, so its per-year tables are built once per process."""
    return SchoolCalendar(closures)
