"""National curriculum year groups (Education Act 1996 s.579 / Education Act 2002 s.82: a year group is the pupils who
are aged n on 31 August at the start of the school year; docs/rules.md s3)."""

from __future__ import annotations

from datetime import date


def ay_start(d: date) -> int:
    """The calendar year in which the academic year containing `d` began (academic years run 1 September-31 August)."""
    return d.year if d.month >= 9 else d.year - 1


def age_on(dob: date, on: date) -> int:
    """Age in whole years on `on`. A 29 February birthday counts from 1 March in non-leap years."""
    years = on.year - dob.year
    if (on.month, on.day) < (dob.month, dob.day):
        years -= 1
    return years


def nc_year_from_dob(dob: date, on: date) -> int:
    """NC year on `on`: age on 31 August of the academic year's start, minus 4. Reception = 0, Nursery = -1."""
    return age_on(dob, date(ay_start(on), 8, 31)) - 4


def year_at(recorded_year: int, today: date, on: date) -> int:
    """A recorded year group is the pupil's year in the academic year containing `today`; shift it to `on`."""
    return recorded_year + (ay_start(on) - ay_start(today))


def pupil_year(dob: date, recorded_year: int | None, today: date, on: date) -> int:
    """The pupil's NC year on `on`: the register's recorded year shifted from today's academic year when there is one
    (pupils taught out of their chronological year group), else derived from the date of birth."""
    if recorded_year is not None:
        return year_at(recorded_year, today, on)
    return nc_year_from_dob(dob, on)
