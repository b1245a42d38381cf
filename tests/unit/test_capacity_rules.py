"""Table tests of the plan's dates (docs/rules.md s2, s6) and of the objectives' order, on literal dates.

Calendar: England's bank holidays and the default closures (21 Jul-31 Aug, 21 Dec-3 Jan), as docs/rules.md s2."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from functions.capacity import BookedReview, Plan, ReviewToPlace, plan_year
from functions.capacity.days import PlanCalendar
from functions.capacity.matching import Claim, assign_days
from functions.capacity_settings import CapacitySettings
from review_rules import calendar_for

CAL = calendar_for(None)
ROOMY = CapacitySettings(meetings_per_day=3, meetings_per_week=10, weekly_hours=40, time_limit_seconds=3)


def _plan_cal(today: date, settings: CapacitySettings = ROOMY) -> PlanCalendar:
    return PlanCalendar(CAL.is_school_day, CAL.school_day_on_or_before, settings, today)


def _plan(reviews: list[ReviewToPlace], today: date, settings: CapacitySettings = ROOMY, booked=()) -> Plan:
    return plan_year(
        reviews,
        list(booked),
        is_school_day=CAL.is_school_day,
        on_or_before=CAL.school_day_on_or_before,
        settings=settings,
        today=today,
    )


# meeting, heavy -> requests_from, invites_by (= papers_by), report_due. Source: docs/rules.md s6 (reg 20(3), 20(4),
# 20(7)); s2 for the moves back to a school day.
STAGES = [
    # Plain: 42 / 14 days back, 14 days on, all school days.
    (date(2026, 11, 18), False, date(2026, 10, 7), date(2026, 11, 4), date(2026, 12, 2)),
    # Year 9+ / transfer: 70 days for requests.
    (date(2026, 11, 18), True, date(2026, 9, 9), date(2026, 11, 4), date(2026, 12, 2)),
    # Meeting Thu 14 Jan 2027: 31 Dec 2026 is in the Christmas closure -> Fri 18 Dec 2026.
    (date(2027, 1, 14), False, date(2026, 12, 3), date(2026, 12, 18), date(2027, 1, 28)),
    # Meeting Mon 14 Jun 2027: requests Mon 3 May 2027 is the early May bank holiday -> Fri 30 Apr; invitations
    # Mon 31 May 2027 is the spring bank holiday -> Fri 28 May; report Mon 28 Jun.
    (date(2027, 6, 14), False, date(2027, 4, 30), date(2027, 5, 28), date(2027, 6, 28)),
    # Meeting Fri 16 Jul 2027: report due 30 Jul is in the summer closure -> Tue 20 Jul 2027.
    (date(2027, 7, 16), False, date(2027, 6, 4), date(2027, 7, 2), date(2027, 7, 20)),
]


@pytest.mark.parametrize(("meeting", "heavy", "requests", "invites", "report"), STAGES)
def test_stage_dates(meeting: date, heavy: bool, requests: date, invites: date, report: date) -> None:
    stages = _plan_cal(date(2026, 9, 1)).stages(meeting, heavy)
    assert (stages.requests_from, stages.invites_by, stages.papers_by, stages.report_due) == (
        requests,
        invites,
        invites,
        report,
    )


# today -> the earliest lawful meeting: the first available school day whose invitations date (meeting - 14 days,
# moved back to a school day) is not before today (reg 20(3)).
EARLIEST = [
    (date(2026, 9, 7), ROOMY, date(2026, 9, 21)),
    # Wed 2 Dec 2026 -> Wed 16 Dec 2026 (before the Christmas closure).
    (date(2026, 12, 2), ROOMY, date(2026, 12, 16)),
    # Fri 11 Dec 2026: 25 Dec falls in the closure; Mon 4 Jan 2027's invitations move to Fri 18 Dec 2026.
    (date(2026, 12, 11), ROOMY, date(2027, 1, 4)),
    # Only Tuesdays: Mon 21 Sep would do, Tue 22 Sep is the first Tuesday.
    (date(2026, 9, 7), replace(ROOMY, days=frozenset({1})), date(2026, 9, 22)),
    # Away 21-25 Sep 2026.
    (date(2026, 9, 7), replace(ROOMY, away=((date(2026, 9, 21), date(2026, 9, 25)),)), date(2026, 9, 28)),
    # earliest = 5 Oct 2026.
    (date(2026, 9, 7), replace(ROOMY, earliest=date(2026, 10, 5)), date(2026, 10, 5)),
]


@pytest.mark.parametrize(("today", "settings", "expected"), EARLIEST)
def test_earliest_lawful(today: date, settings: CapacitySettings, expected: date) -> None:
    assert _plan_cal(today, settings).earliest_lawful() == expected


def test_capacity_of_a_week_follows_its_school_days() -> None:
    cal = _plan_cal(date(2027, 5, 24), replace(ROOMY, away=((date(2027, 6, 10), date(2027, 6, 11)),)))
    weekly = 6 * 60
    # Week of Mon 24 May 2027: all five days.
    assert cal.capacity_minutes(0, weekly) == 360
    # Week of Mon 31 May 2027: spring bank holiday -> 4/5.
    assert cal.capacity_minutes(1, weekly) == 288
    # Week of Mon 7 Jun 2027: away Thu-Fri -> 3/5.
    assert cal.capacity_minutes(2, weekly) == 216


def test_past_deadline_is_unschedulable_with_its_earliest_lawful_date() -> None:
    today = date(2026, 9, 7)
    plan = _plan(
        [
            ReviewToPlace(5, "Ava B.", date(2026, 9, 4)),  # already past
            ReviewToPlace(6, "Ben C.", date(2026, 9, 18)),  # in the future but inside the notice period
            ReviewToPlace(7, "Cal D.", date(2026, 11, 20)),
        ],
        today,
    )
    assert [(u.row, u.earliest_lawful) for u in plan.unschedulable] == [
        (5, date(2026, 9, 21)),
        (6, date(2026, 9, 21)),
    ]
    assert "past its deadline" in plan.unschedulable[0].reason
    assert "two weeks' notice" in plan.unschedulable[1].reason
    # Still scheduled, first: on the earliest lawful day, Mon 21 Sep 2026 (docs/rules.md s11), flagged overdue.
    assert [(s.row, s.suggested_meeting, s.overdue) for s in plan.suggestions] == [
        (5, date(2026, 9, 21), True),
        (6, date(2026, 9, 21), True),
        (7, date(2026, 11, 20), False),
    ]
    assert plan.suggestions[0].to_json()["overdue"] is True


def test_overdue_reviews_go_first_within_capacity() -> None:
    """One meeting a day: the overdue review takes the first lawful day, Mon 21 Sep 2026, before a Year 9 review
    that would also like an early date; nothing is placed before today's notice allows."""
    today = date(2026, 9, 7)
    one_a_day = replace(ROOMY, meetings_per_day=1)
    plan = _plan(
        [ReviewToPlace(5, "Late A.", date(2026, 6, 30)), ReviewToPlace(6, "Year9 B.", date(2026, 9, 25), pfa=True)],
        today,
        one_a_day,
    )
    by_row = {s.row: s for s in plan.suggestions}
    assert by_row[5].suggested_meeting == date(2026, 9, 21)
    assert by_row[5].overdue
    assert by_row[5].invites_by == date(2026, 9, 7)  # 14 days back, not before today
    assert date(2026, 9, 22) <= by_row[6].suggested_meeting <= date(2026, 9, 25)
    assert not by_row[6].overdue
    assert [u.row for u in plan.unschedulable] == [5]


def test_late_as_allowed_and_year9_earlier() -> None:
    today = date(2026, 9, 7)
    plan = _plan(
        [
            ReviewToPlace(5, "Ordinary A.", date(2026, 11, 20)),
            ReviewToPlace(6, "Year9 B.", date(2026, 11, 20), pfa=True),
        ],
        today,
    )
    by_row = {s.row: s for s in plan.suggestions}
    # Drift: the ordinary review sits on its deadline (Fri 20 Nov 2026) so the 12-month cycle does not creep earlier.
    assert by_row[5].suggested_meeting == date(2026, 11, 20)
    # Year 9+: earlier, but with the full 70-day lead for advice: Mon 16 Nov 2026 (requests from Mon 7 Sep, today),
    # not the earliest lawful day (Mon 21 Sep 2026), whose requests would already be late (docs/rules.md s11).
    assert by_row[6].suggested_meeting == date(2026, 11, 16)
    assert not by_row[6].short_lead
    assert not by_row[5].short_lead
    assert by_row[6].hours == 10.5
    assert by_row[5].hours == 7.0


# today, deadline, transfer -> suggested meeting. Source: docs/rules.md s11 (earlier by at most six school weeks, the
# full lead for advice, a transfer review in its deadline's academic year); the trial on the demo register.
EARLIER = [
    # Year 9 review due Tue 4 May 2027: six school weeks back (the Easter week counts: it has school days) is
    # Tue 23 Mar 2027, requests from Tue 12 Jan 2027 (not before today). Was Mon 25 Jan 2027 with a short lead.
    (date(2026, 11, 29), date(2027, 5, 4), False, date(2027, 3, 23)),
    # Year 5 pupil, transfer review due Tue 21 Sep 2027: not in Year 5 (was Tue 13 Apr 2027), nor in July 2027,
    # but the first day of the 2027/28 year, Wed 1 Sep 2027.
    (date(2026, 11, 29), date(2027, 9, 21), True, date(2027, 9, 1)),
]


@pytest.mark.parametrize(("today", "deadline", "transfer", "expected"), EARLIER)
def test_year9_and_transfer_earlier_is_bounded(today: date, deadline: date, transfer: bool, expected: date) -> None:
    plan = _plan([ReviewToPlace(5, "Heavy A.", deadline, pfa=not transfer, transfer=transfer)], today)
    (s,) = plan.suggestions
    assert s.suggested_meeting == expected
    assert not s.short_lead


def test_drift_spreads_the_earliness_capacity_forces() -> None:
    """Two meetings a week, four reviews due the same day: two weeks early each for two of them costs less than one
    held three weeks early (docs/rules.md s11: the cost steepens past two weeks)."""
    from functions.capacity.planner import drift_cost

    assert [drift_cost(d) for d in (0, 7, 14, 21)] == [0, 7, 14, 42]


def test_siblings_on_the_same_or_adjacent_days() -> None:
    today = date(2026, 9, 7)
    plan = _plan(
        [
            ReviewToPlace(5, "Sib A.", date(2026, 11, 20), groups=("family:1",)),
            ReviewToPlace(6, "Sib B.", date(2027, 1, 29), groups=("family:1",)),
        ],
        today,
    )
    a, b = sorted(plan.suggestions, key=lambda s: s.row)
    assert abs((a.suggested_meeting - b.suggested_meeting).days) <= 1
    assert a.suggested_meeting <= date(2026, 11, 20)


def test_hours_move_a_meeting_to_a_quieter_week() -> None:
    """Three reviews due the same Friday with room for one review's papers a week: the plan spreads them."""
    today = date(2026, 9, 7)
    tight = CapacitySettings(meetings_per_day=3, meetings_per_week=3, weekly_hours=3.5, time_limit_seconds=3)
    reviews = [ReviewToPlace(r, f"P{r} X.", date(2026, 11, 20)) for r in (5, 6, 7)]
    plan = _plan(reviews, today, tight)
    assert len(plan.suggestions) == 3
    assert not plan.weeks_over, plan.explanation
    assert len({s.suggested_meeting for s in plan.suggestions}) == 3


def test_booked_meetings_use_the_day() -> None:
    today = date(2026, 9, 7)
    one_a_day = replace(ROOMY, meetings_per_day=1)
    plan = _plan(
        [ReviewToPlace(5, "Ann A.", date(2026, 11, 20))], today, one_a_day, [BookedReview(9, date(2026, 11, 20))]
    )
    assert plan.suggestions[0].suggested_meeting == date(2026, 11, 19)


def test_the_year_that_cannot_fit_says_which_weeks_and_by_how_much() -> None:
    today = date(2026, 9, 7)
    settings = CapacitySettings(meetings_per_day=2, meetings_per_week=10, weekly_hours=1, time_limit_seconds=2)
    plan = _plan([ReviewToPlace(r, f"P{r} X.", date(2026, 10, 2)) for r in (5, 6)], today, settings)
    assert plan.weeks_over
    first = plan.weeks_over[0]
    assert any(f"{first.over_hours:g} h over" in line for line in plan.explanation)
    assert plan.explanation[0].startswith(f"{len(plan.weeks_over)} week(s) need more than the hours available")


def test_no_reviews_is_not_an_error() -> None:
    plan = _plan([], date(2026, 9, 7))
    assert plan.solver.status == "NOT_RUN"
    assert plan.suggestions == ()
    assert plan.unschedulable == ()


def test_matching_finds_a_day_for_everyone_when_hall_allows() -> None:
    # Day 1 takes one meeting, day 2 two; review 0 can only go on day 1, so review 1 must be moved to day 2.
    claims = [Claim(1, (1, 2), early=True), Claim(0, (1,), early=False), Claim(2, (1, 2), early=False)]
    days = assign_days(claims, {1: 1, 2: 2})
    assert days[0] == 1
    assert days[1] == 2
    assert days[2] == 2


def test_loads_for_the_plans_own_dates_gives_the_plans_weeks() -> None:
    """What the digest and the overview recompute from the AR suggested meeting column matches the plan."""
    from functions.capacity import loads_for

    today = date(2026, 9, 7)
    reviews = [
        ReviewToPlace(5, "A B.", date(2026, 11, 20)),
        ReviewToPlace(6, "C D.", date(2027, 1, 15), pfa=True),
        ReviewToPlace(7, "E F.", date(2026, 10, 16)),
    ]
    booked = [BookedReview(9, date(2026, 10, 1), heavy=False)]
    plan = _plan(reviews, today, booked=booked)
    heavy = {r.row: r.heavy for r in reviews}
    weeks = loads_for(
        [(s.suggested_meeting, heavy[s.row]) for s in plan.suggestions],
        booked,
        is_school_day=CAL.is_school_day,
        on_or_before=CAL.school_day_on_or_before,
        settings=ROOMY,
        today=today,
        baseline=[(r.meeting_target, r.heavy) for r in reviews],
    )
    assert [(w.week_start, w.hours, w.meetings, w.baseline_hours) for w in weeks if w.hours or w.baseline_hours] == [
        (w.week_start, w.hours, w.meetings, w.baseline_hours) for w in plan.weeks if w.hours or w.baseline_hours
    ]


def test_a_previous_suggestion_is_kept_when_it_is_as_good() -> None:
    """Two identical reviews, one meeting a day: who gets Friday and who Thursday is a tie the last plan settles."""
    today = date(2026, 9, 7)
    one_a_day = replace(ROOMY, meetings_per_day=1)
    first = _plan([ReviewToPlace(r, f"P{r} X.", date(2026, 11, 20)) for r in (5, 6)], today, one_a_day)
    days = {s.row: s.suggested_meeting for s in first.suggestions}
    assert sorted(days.values()) == [date(2026, 11, 19), date(2026, 11, 20)]
    swapped = {5: days[6], 6: days[5]}
    again = _plan(
        [ReviewToPlace(r, f"P{r} X.", date(2026, 11, 20), previous=swapped[r]) for r in (5, 6)], today, one_a_day
    )
    assert {s.row: s.suggested_meeting for s in again.suggestions} == swapped
    assert again.solver.stages[-1].objective == "moved"
    assert again.solver.stages[-1].value == 0
