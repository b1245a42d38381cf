"""An independent checker of every hard constraint of the year's plan (docs/rules.md s2, s6), run on solver outputs for
generated registers. It shares no code with functions/capacity: school days come straight from the `holidays`
package and the default closures, stage dates from the regulations' day counts written out here."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import date, timedelta
from functools import cache

import holidays
import pytest

from functions.capacity import BookedReview, Plan, ReviewToPlace, plan_year
from functions.capacity_settings import CapacitySettings
from review_rules import calendar_for


@cache
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def school_day(d: date) -> bool:
    """docs/rules.md s2: Monday-Friday, not a bank holiday (England), not in 21 Jul-31 Aug or 21 Dec-3 Jan."""
    md = (d.month, d.day)
    closed = (7, 21) <= md <= (8, 31) or md >= (12, 21) or md <= (1, 3)
    return d.weekday() < 5 and d not in _bank_holidays(d.year) and not closed


def on_or_before(d: date) -> date:
    while not school_day(d):
        d -= timedelta(days=1)
    return d


def monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def available(d: date, s: CapacitySettings) -> bool:
    return school_day(d) and d.weekday() in s.days and not any(a <= d <= b for a, b in s.away)


def lawful(d: date, today: date, s: CapacitySettings) -> bool:
    # Reg 20(3), 20(4): invitations and papers two weeks before, and neither date already passed.
    return available(d, s) and d >= max(today, s.earliest or today) and on_or_before(d - timedelta(days=14)) >= today


def first_lawful(today: date, s: CapacitySettings) -> date:
    d = today
    while not lawful(d, today, s):
        d += timedelta(days=1)
    return d


def academic_year(d: date) -> int:
    return d.year if d.month >= 9 else d.year - 1


def six_school_weeks_before(d: date) -> date:
    """docs/rules.md s11: the earliest a Year 9+ / transfer review is pulled, counting only weeks with a school day."""
    back, counted = 0, 0
    while counted < 6:
        back += 1
        week = monday(d) - timedelta(weeks=back)
        counted += any(school_day(week + timedelta(days=i)) for i in range(5))
    return d - timedelta(weeks=back)


def stage_minutes(s: CapacitySettings, heavy: bool) -> dict[str, float]:
    factor = s.hours.year9_transfer_factor if heavy else 1
    h = s.hours
    return {
        "requests": h.requests * factor,
        "invitations": h.invitations * factor,
        "papers": h.papers * factor,
        "meeting": h.meeting * factor,
        "report": h.report * factor,
    }


def week_hours(meetings: list[tuple[date, bool, bool]], today: date, s: CapacitySettings) -> dict[date, float]:
    """(meeting, heavy, booked) -> hours per week (Monday): each stage in the week of its deadline; advice already
    late is requested at once (this week) for a suggestion, and a booked review's past stages count nowhere."""
    load: dict[date, float] = defaultdict(float)
    for m, heavy, booked in meetings:
        hours = stage_minutes(s, heavy)
        when = {
            "requests": on_or_before(m - timedelta(days=70 if heavy else 42)),
            "invitations": on_or_before(m - timedelta(days=14)),
            "papers": on_or_before(m - timedelta(days=14)),
            "meeting": m,
            "report": on_or_before(m + timedelta(days=14)),
        }
        for stage, d in when.items():
            if d < today:
                if booked or stage != "requests":
                    continue
                d = today
                while not school_day(d):  # requested at once: the next school day
                    d += timedelta(days=1)
            load[monday(d)] += hours[stage]
    return load


def check_plan(
    plan: Plan,
    reviews: list[ReviewToPlace],
    booked: list[BookedReview],
    today: date,
    s: CapacitySettings,
    *,
    ample: bool = False,
) -> None:
    """`ample`: capacity never binds, so the preferences show plainly (Year 9+ / transfer within their bounds)."""
    by_row = {r.row: r for r in reviews}
    suggested = [x.row for x in plan.suggestions]
    left_out = [u.row for u in plan.unschedulable]
    assert len(set(suggested)) == len(suggested)
    assert len(set(left_out)) == len(left_out)
    assert not set(plan.later) & (set(suggested) | set(left_out))
    assert set(suggested) | set(left_out) | set(plan.later) == set(by_row), "every review is accounted for"
    earliest = first_lawful(today, s)
    per_day: Counter[date] = Counter(b.meeting for b in booked if b.meeting >= today)
    per_week: Counter[date] = Counter(monday(b.meeting) for b in booked if b.meeting >= today)
    for x in plan.suggestions:
        r, m = by_row[x.row], x.suggested_meeting
        assert x.meeting_target == r.meeting_target
        assert school_day(m), f"row {x.row}: {m} is not a school day"
        assert available(m, s), f"row {x.row}: the SENDCo is not available on {m}"
        # Overdue (fix 1): past every lawful date, so also listed as unschedulable, and held from the earliest lawful
        # day within the planner's twelve weeks; every other review on or before its deadline.
        assert x.overdue == (r.meeting_target < earliest), f"row {x.row}: overdue flag"
        if x.overdue:
            assert x.row in left_out, f"row {x.row}: overdue but not listed as unschedulable"
            assert earliest <= m <= earliest + timedelta(weeks=12), f"row {x.row}: overdue review on {m}"
        else:
            assert max(today, s.earliest or today) <= m <= r.meeting_target, f"row {x.row}: {m} outside its window"
        # Fix 3: a transfer review stays in its deadline's academic year when that year has a lawful day for it.
        if r.transfer and not x.overdue:
            d, own_year = r.meeting_target, False
            while d >= earliest and academic_year(d) == academic_year(r.meeting_target):
                own_year = own_year or lawful(d, today, s)
                d -= timedelta(days=1)
            assert not own_year or academic_year(m) >= academic_year(r.meeting_target), f"row {x.row}: transfer year"
        if ample and r.heavy and not x.overdue:
            assert m >= six_school_weeks_before(r.meeting_target), f"row {x.row}: pulled too early to {m}"
            if x.short_lead:  # only when every lawful day up to the deadline has late requests
                d = m
                while d <= r.meeting_target:
                    late = on_or_before(d - timedelta(days=70)) < today
                    assert not lawful(d, today, s) or late, f"row {x.row}: short lead though {d} had the full lead"
                    d += timedelta(days=1)
        assert x.invites_by == on_or_before(m - timedelta(days=14)) >= today, f"row {x.row}: invitations"
        assert x.papers_by == on_or_before(m - timedelta(days=14)) >= today, f"row {x.row}: papers"
        assert x.requests_from == on_or_before(m - timedelta(days=70 if r.heavy else 42))
        assert x.short_lead == (x.requests_from < today)
        per_day[m] += 1
        per_week[monday(m)] += 1
    # The SENDCo's own bookings may already exceed a day's meetings; then the plan adds none there.
    booked_day = Counter(b.meeting for b in booked if b.meeting >= today)
    booked_week = Counter(monday(b.meeting) for b in booked if b.meeting >= today)
    for day, count in per_day.items():
        assert count <= max(s.meetings_per_day, booked_day[day]), f"meetings on {day}"
        assert count == booked_day[day] or count <= s.meetings_per_day
    for week, count in per_week.items():
        assert count == booked_week[week] or count <= s.meetings_per_week, f"meetings in the week of {week}"
    meetings = [(x.suggested_meeting, by_row[x.row].heavy, False) for x in plan.suggestions]
    meetings += [(b.meeting, b.heavy, True) for b in booked if b.meeting >= today]
    load = week_hours(meetings, today, s)
    reported = {w.week_start: w for w in plan.weeks}
    for week, hours in load.items():
        assert reported[week].hours == pytest.approx(hours, abs=0.02), f"hours in the week of {week}"
    for w in plan.weeks:
        assert w.week_start.weekday() == 0
        assert w.capacity_hours <= s.weekly_hours
        if w.over_hours == 0:
            assert load.get(w.week_start, 0) <= w.capacity_hours + 0.01
        else:
            assert any(str(w.over_hours) in line or f"{w.over_hours:g}" in line for line in plan.explanation)
    assert plan.earliest_lawful == earliest
    for u in plan.unschedulable:
        r = by_row[u.row]
        assert u.earliest_lawful == earliest
        if r.meeting_target < earliest:
            continue  # past every lawful date: cannot be held in time whatever is done
        # Left out for want of a meeting slot: then every lawful day up to its deadline must be full.
        d = earliest
        while d <= r.meeting_target:
            if lawful(d, today, s):
                assert per_day[d] >= s.meetings_per_day or per_week[monday(d)] >= s.meetings_per_week, (
                    f"row {u.row} was left out but {d} had room"
                )
            d += timedelta(days=1)


def generated(seed: int, size: int, today: date) -> tuple[list[ReviewToPlace], list[BookedReview]]:
    rng = random.Random(seed)
    reviews = []
    for i in range(size):
        target = on_or_before(today + timedelta(days=rng.randint(-20, 330)))
        groups = (f"family:{rng.randrange(size // 4 + 1)}",) if rng.random() < 0.25 else ()
        reviews.append(
            ReviewToPlace(i + 3, f"P{i} X.", target, pfa=rng.random() < 0.3, transfer=rng.random() < 0.1, groups=groups)
        )
    booked = [
        BookedReview(1000 + i, on_or_before(today + timedelta(days=rng.randint(15, 200))), rng.random() < 0.3)
        for i in range(size // 5)
    ]
    return reviews, booked


CASES = [
    # seed, reviews, today, settings
    (1, 15, date(2026, 9, 7), CapacitySettings(meetings_per_day=1, meetings_per_week=2, weekly_hours=6)),
    # Today a Saturday: advice already late is requested on Monday, in next week's hours.
    (5, 25, date(2026, 10, 24), CapacitySettings(meetings_per_day=2, meetings_per_week=3, weekly_hours=10)),
    (2, 40, date(2026, 11, 25), CapacitySettings(meetings_per_day=2, meetings_per_week=4, days=frozenset({1, 3}))),
    (
        3,
        30,
        date(2027, 1, 6),
        CapacitySettings(
            meetings_per_day=1,
            meetings_per_week=3,
            weekly_hours=8,
            away=((date(2027, 2, 1), date(2027, 2, 19)),),
            earliest=date(2027, 1, 25),
        ),
    ),
    # Too little capacity: reviews left out for want of a slot, weeks over the hours.
    (4, 60, date(2026, 6, 1), CapacitySettings(meetings_per_day=1, meetings_per_week=1, weekly_hours=3)),
]


# The solver runs up to its time limit on the larger cases: those are in the slow tier (tests/conftest.py).
_TIERED = [pytest.param(*case, marks=pytest.mark.slow) if n in (1, 2, 3) else case for n, case in enumerate(CASES)]


@pytest.mark.parametrize(("seed", "size", "today", "settings"), _TIERED)
def test_every_hard_constraint_holds_on_generated_registers(
    seed: int, size: int, today: date, settings: CapacitySettings
) -> None:
    settings = replace(settings, time_limit_seconds=3)
    reviews, booked = generated(seed, size, today)
    cal = calendar_for(None)
    plan = plan_year(
        reviews,
        booked,
        is_school_day=cal.is_school_day,
        on_or_before=cal.school_day_on_or_before,
        settings=settings,
        today=today,
    )
    assert plan.solver.status in ("OPTIMAL", "FEASIBLE")
    assert plan.solver.stages[0].status == "OPTIMAL" or plan.solver.stages[0].gap == 0
    assert plan.suggestions, "something was scheduled"
    check_plan(plan, reviews, booked, today, settings)


def test_preferences_hold_where_capacity_is_ample() -> None:
    """Fixes 1 and 3 of the demo trial: overdue reviews scheduled from their earliest lawful day; Year 9+ and transfer
    reviews no more than six school weeks early, in their deadline's academic year, with the full lead for advice."""
    today = date(2026, 11, 30)
    settings = CapacitySettings(meetings_per_day=6, meetings_per_week=30, weekly_hours=200, time_limit_seconds=3)
    reviews, booked = generated(7, 30, today)
    cal = calendar_for(None)
    plan = plan_year(
        reviews,
        booked,
        is_school_day=cal.is_school_day,
        on_or_before=cal.school_day_on_or_before,
        settings=settings,
        today=today,
    )
    overdue = [x for x in plan.suggestions if x.overdue]
    assert overdue, "the generated register has reviews past their deadline"
    assert all(x.suggested_meeting == first_lawful(today, settings) for x in overdue)
    assert any(r.heavy for r in reviews)
    check_plan(plan, reviews, booked, today, settings, ample=True)


def test_the_tight_case_explains_itself() -> None:
    seed, size, today, settings = CASES[4]
    reviews, booked = generated(seed, size, today)
    cal = calendar_for(None)
    plan = plan_year(
        reviews,
        booked,
        is_school_day=cal.is_school_day,
        on_or_before=cal.school_day_on_or_before,
        settings=replace(settings, time_limit_seconds=3),
        today=today,
    )
    slots = [u for u in plan.unschedulable if "no meeting slot" in u.reason]
    past = [u for u in plan.unschedulable if "deadline" in u.reason and u.meeting_target < u.earliest_lawful]
    assert slots
    assert past
    assert plan.weeks_over
    assert any(line.startswith(f"{len(plan.weeks_over)} week(s) need more") for line in plan.explanation)
