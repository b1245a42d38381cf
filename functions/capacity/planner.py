"""The year's plan: every unbooked review given a meeting date that is lawful and fits the SENDCo's capacity
(docs/rules.md s11). Pure: dates and settings in, a `Plan` out; the CP-SAT model lives in solver.py."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date, timedelta

from functions.capacity_settings import STAGES, CapacitySettings

from .days import PlanCalendar, academic_year
from .explain import explain, no_slot, too_late
from .matching import Claim, assign_days
from .model import (
    BookedReview,
    Plan,
    ReviewToPlace,
    SolverReport,
    StageDates,
    Suggestion,
    Unschedulable,
    WeekLoad,
)
from .solver import Problem, Slot, solve

# docs/rules.md s11: how far the "Year 9+ and transfer reviews earlier" preference may pull a review before its deadline.
# Six school weeks is half a term: enough to hold these longer reviews before the end-of-term rush and to leave the LA
# time for the amendments a transfer needs, while a cycle creeps at most that much in a year (and not at all when the
# capacity allows the full lead: see _aim).
EARLIER_SCHOOL_WEEKS = 6
# docs/rules.md s11: a review past its deadline is held within this many school weeks of the earliest lawful day (its
# own week counting), the soonest that fits the hours: it is already unlawful, so the capacity may not push it further.
OVERDUE_SCHOOL_WEEKS = 4
# docs/rules.md s11, drift: each day before the deadline costs 1, each beyond two weeks 3 more, so the plan spreads
# the earliness capacity forces over many reviews a few days each rather than moving a few cycles weeks earlier.
DRIFT_FREE_DAYS, DRIFT_STEEP = 14, 3


def drift_cost(days_early: int) -> int:
    return days_early + DRIFT_STEEP * max(0, days_early - DRIFT_FREE_DAYS)


def _stage_weeks(cal: PlanCalendar, stages: StageDates, *, booked: bool) -> dict[str, int | None]:
    """The week each stage's work lands in (the week of its deadline). Advice already late is requested at once, so
    its work lands this week; a booked review's past stages are done and count nowhere."""
    out: dict[str, int | None] = {}
    for stage, when in (
        ("requests", stages.requests_from),
        ("invitations", stages.invites_by),
        ("papers", stages.papers_by),
        ("meeting", stages.meeting),
        ("report", stages.report_due),
    ):
        if when < cal.today:
            # Advice already late is requested at once: on the next school day, in that day's week.
            out[stage] = None if booked or stage != "requests" else cal.week_index(cal.asap)
        else:
            out[stage] = cal.week_index(when)
    return out


def _minutes_by_week(weeks: dict[str, int | None], minutes: dict[str, int]) -> tuple[tuple[int, int], ...]:
    totals: dict[int, int] = defaultdict(int)
    for stage, week in weeks.items():
        if week is not None and minutes[stage]:
            totals[week] += minutes[stage]
    return tuple(sorted(totals.items()))


def _hours(minutes: int) -> float:
    return round(minutes / 60, 2)


def plan_year(
    reviews: Sequence[ReviewToPlace],
    booked: Sequence[BookedReview],
    *,
    is_school_day: Callable[[date], bool],
    on_or_before: Callable[[date], date],
    settings: CapacitySettings,
    today: date,
    weeks: int | None = None,
    workers: int = 2,
) -> Plan:
    """Propose a meeting date for every review in `reviews`, around the `booked` ones. `is_school_day` and
    `on_or_before` are the school's calendar (review_rules.SchoolCalendar)."""
    # The time limit covers the whole plan, not only the search: building the model counts against it.
    started = time.perf_counter()
    cal = PlanCalendar(is_school_day, on_or_before, settings, today, weeks)
    lawful_from = cal.earliest_lawful()
    weekly = round(settings.weekly_hours * 60)
    heavy_minutes, light_minutes = settings.hours.minutes(True), settings.hours.minutes(False)

    base: dict[int, int] = defaultdict(int)
    day_used: dict[int, int] = defaultdict(int)
    week_used: dict[int, int] = defaultdict(int)
    counts: dict[tuple[int, str], int] = defaultdict(int)
    for b in booked:
        if b.meeting < today:
            continue
        stage_weeks = _stage_weeks(cal, cal.stages(b.meeting, b.heavy), booked=True)
        for week, minutes in _minutes_by_week(stage_weeks, heavy_minutes if b.heavy else light_minutes):
            base[week] += minutes
        for stage, stage_week in stage_weeks.items():
            if stage_week is not None:
                counts[(stage_week, stage)] += 1
        day_used[b.meeting.toordinal()] += 1
        week_used[cal.week_index(b.meeting)] += 1

    to_place: list[ReviewToPlace] = []
    unschedulable: list[Unschedulable] = []
    later: list[int] = []
    overdue: set[int] = set()
    for r in reviews:
        if r.meeting_target > cal.horizon_end:
            later.append(r.row)
        elif lawful_from is None or r.meeting_target < lawful_from:
            # Listed as unschedulable (it cannot be held in time) and still planned: the soonest lawful date it fits.
            unschedulable.append(too_late(r, cal, lawful_from))
            if lawful_from is not None:
                to_place.append(r)
                overdue.add(r.row)
        else:
            to_place.append(r)

    overdue_end = cal.school_weeks_after(lawful_from or today, OVERDUE_SCHOOL_WEEKS)
    last_day = max([r.meeting_target for r in to_place] + ([overdue_end] if overdue else []), default=today)
    days = cal.meeting_days(lawful_from, last_day) if lawful_from else []
    own_days = [_days_of(r, days, r.row in overdue, overdue_end) for r in to_place]
    aims = [
        _aim(cal, r, ds) if r.heavy and r.row not in overdue else None for r, ds in zip(to_place, own_days, strict=True)
    ]
    slots = [
        _slots(cal, r, ds, heavy_minutes, light_minutes, overdue=r.row in overdue, aim=aim)
        for r, ds, aim in zip(to_place, own_days, aims, strict=True)
    ]
    week_count = max([cal.week_index(max(cal.horizon_end, last_day) + timedelta(days=21))] + [w + 1 for w in base]) + 1
    capacity = {w: cal.capacity_minutes(w, weekly) for w in range(week_count)}
    groups: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(to_place):
        for key in r.groups:
            groups[key].append(i)
    problem = Problem(
        slots=slots,
        heavy=[r.heavy for r in to_place],
        overdue=[r.row in overdue for r in to_place],
        meetings_left_day={d.toordinal(): max(0, settings.meetings_per_day - day_used[d.toordinal()]) for d in days},
        meetings_left_week={
            w: max(0, settings.meetings_per_week - week_used[w]) for w in {cal.week_index(d) for d in days}
        },
        base_minutes=dict(base),
        capacity_minutes=capacity,
        groups=[g for g in groups.values() if len(g) > 1],
    )
    if to_place:
        budget = max(0.5, settings.time_limit_seconds - (time.perf_counter() - started))
        solution = solve(problem, budget, workers=workers)
        # Lexicographic: the plan is as good as its first objective not proven best, so that objective's gap is the
        # plan's (each objective's own gap is in the report's stages).
        gap = next((s.gap for s in solution.stages if s.gap > 0), 0.0)
        proven = all(s.status == "OPTIMAL" or s.gap == 0 for s in solution.stages)
        seconds = time.perf_counter() - started
        report = SolverReport("OPTIMAL" if proven else "FEASIBLE", seconds, gap, solution.stages)
        choice = solution.choice
    else:
        report, choice = SolverReport("NOT_RUN", 0.0, 0.0), ()

    day_of = _days_for(to_place, slots, choice, problem.meetings_left_day, overdue, aims)
    suggestions: list[Suggestion] = []
    load = dict(base)
    meetings = defaultdict(int, week_used)
    for i, (r, k) in enumerate(zip(to_place, choice, strict=True)):
        if k is None:
            if r.row not in overdue:  # an overdue review is listed already
                unschedulable.append(no_slot(r, cal, lawful_from, settings))
            continue
        slot = slots[i][k]
        day = date.fromordinal(day_of[i])
        stages = cal.stages(day, r.heavy)
        for week, minutes in slot.minutes:
            load[week] = load.get(week, 0) + minutes
        for stage, stage_week in _stage_weeks(cal, stages, booked=False).items():
            if stage_week is not None:
                counts[(stage_week, stage)] += 1
        meetings[slot.week] += 1
        total = sum((heavy_minutes if r.heavy else light_minutes)[s] for s in STAGES)
        suggestions.append(
            Suggestion(
                row=r.row,
                name=r.name,
                suggested_meeting=day,
                meeting_target=r.meeting_target,
                requests_from=stages.requests_from,
                invites_by=stages.invites_by,
                papers_by=stages.papers_by,
                hours=_hours(total),
                heavy=r.heavy,
                short_lead=stages.requests_from < today,
                overdue=r.row in overdue,
            )
        )
    baseline = _baseline(cal, reviews, lawful_from, base, heavy_minutes, light_minutes)
    last_week = max([cal.week_index(cal.horizon_end)] + [w for w, m in load.items() if m])
    week_loads = tuple(
        WeekLoad(
            week_start=cal.week_start(w),
            hours=_hours(load.get(w, 0)),
            capacity_hours=_hours(capacity.get(w, cal.capacity_minutes(w, weekly))),
            meetings=meetings.get(w, 0),
            requests=counts[(w, "requests")],
            invitations=counts[(w, "invitations")],
            papers=counts[(w, "papers")],
            reports=counts[(w, "report")],
            baseline_hours=_hours(baseline.get(w, 0)),
        )
        for w in range(last_week + 1)
    )
    suggestions.sort(key=lambda s: (not s.overdue, s.suggested_meeting, s.row))
    unschedulable.sort(key=lambda u: u.row)
    return Plan(
        today=today,
        suggestions=tuple(suggestions),
        weeks=week_loads,
        unschedulable=tuple(unschedulable),
        solver=report,
        earliest_lawful=lawful_from,
        horizon_end=cal.horizon_end,
        asap=cal.asap,
        later=tuple(sorted(later)),
        explanation=tuple(explain(week_loads, unschedulable, settings, proven=_hours_proven(report))),
    )


def _days_of(r: ReviewToPlace, days: Sequence[date], overdue: bool, overdue_end: date) -> list[date]:
    """The days a review may take: up to its deadline (an overdue one: the first OVERDUE_SCHOOL_WEEKS school weeks). A phase
    transfer review stays in its deadline's academic year (reg 18: the transfer review is that year's review), unless
    that year has no lawful day left before the deadline."""
    if overdue:
        return [d for d in days if d <= overdue_end]
    own = [d for d in days if d <= r.meeting_target]
    if r.transfer:
        same_year = [d for d in own if academic_year(d) >= academic_year(r.meeting_target)]
        return same_year or own
    return own


def _aim(cal: PlanCalendar, r: ReviewToPlace, days: Sequence[date]) -> date | None:
    """Where "Year 9+ and transfer reviews earlier" aims (docs/rules.md s11): the earliest day that is no more than
    EARLIER_SCHOOL_WEEKS school weeks before the deadline and leaves the full ten weeks for advice; the latest day
    when no day does (the longest lead there is)."""
    if not days:
        return None
    floor = cal.school_weeks_before(r.meeting_target, EARLIER_SCHOOL_WEEKS)
    full_lead = next((d for d in days if d >= floor and cal.stages(d, True).requests_from >= cal.today), None)
    return days[-1] if full_lead is None else max(days[0], full_lead)


def _slots(
    cal: PlanCalendar,
    r: ReviewToPlace,
    days: Sequence[date],
    heavy: dict[str, int],
    light: dict[str, int],
    *,
    overdue: bool = False,
    aim: date | None = None,
) -> list[Slot]:
    """The review's lawful days grouped into slots: same week, same preparation weeks (solver.py). `earliness` is an
    overdue review's days after its first lawful day, or a Year 9+ / transfer review's days from its aim; `lateness`
    the drift cost of another review's days before its deadline."""
    grouped: dict[tuple[int, tuple[tuple[int, int], ...]], list[date]] = defaultdict(list)
    for d in days:
        weeks = _stage_weeks(cal, cal.stages(d, r.heavy), booked=False)
        grouped[(cal.week_index(d), _minutes_by_week(weeks, heavy if r.heavy else light))].append(d)
    first = days[0] if days else r.meeting_target

    def earliness(ds: Sequence[date]) -> int:
        if overdue:
            return (ds[0] - first).days
        if aim is None:
            return 0
        return max(0, (ds[0] - aim).days, (aim - ds[-1]).days)

    plain = not overdue and aim is None
    return [
        Slot(
            days=tuple(d.toordinal() for d in ds),
            week=week,
            minutes=minutes,
            earliness=earliness(ds),
            lateness=drift_cost((r.meeting_target - ds[-1]).days) if plain else 0,
            moves=r.previous is not None and r.previous not in ds,
        )
        for (week, minutes), ds in sorted(grouped.items(), key=lambda item: item[1][0])
    ]


def _days_for(
    reviews: Sequence[ReviewToPlace],
    slots: Sequence[Sequence[Slot]],
    choice: Sequence[int | None],
    room: dict[int, int],
    overdue: set[int],
    aims: Sequence[date | None],
) -> dict[int, int]:
    """Each scheduled review's day (date ordinal), week by week (matching.py): overdue reviews their earliest day,
    Year 9+ and transfer reviews the nearest their aim, others their latest."""
    by_week: dict[int, list[Claim]] = defaultdict(list)
    for i, k in enumerate(choice):
        if k is not None:
            slot = slots[i][k]
            previous = reviews[i].previous
            keep = previous.toordinal() if previous is not None and previous.toordinal() in slot.days else None
            aim = aims[i]
            by_week[slot.week].append(
                Claim(
                    i,
                    slot.days,
                    reviews[i].row in overdue,
                    reviews[i].groups,
                    keep,
                    aim.toordinal() if aim is not None else None,
                )
            )
    day_of: dict[int, int] = {}
    for claims in by_week.values():
        day_of.update(assign_days(claims, room))
    return day_of


def _hours_proven(report: SolverReport) -> bool:
    stage = next((s for s in report.stages if s.objective == "over_minutes"), None)
    return stage is None or stage.gap == 0


def _baseline(
    cal: PlanCalendar,
    reviews: Sequence[ReviewToPlace],
    lawful_from: date | None,
    base: dict[int, int],
    heavy_minutes: dict[str, int],
    light_minutes: dict[str, int],
) -> dict[int, int]:
    """The load before planning: every unbooked review still lawful held on its deadline, as reminders alone would."""
    out = dict(base)
    for r in reviews:
        if lawful_from is None or not lawful_from <= r.meeting_target <= cal.horizon_end:
            continue
        weeks = _stage_weeks(cal, cal.stages(r.meeting_target, r.heavy), booked=False)
        for week, minutes in _minutes_by_week(weeks, heavy_minutes if r.heavy else light_minutes):
            out[week] = out.get(week, 0) + minutes
    return out


def loads_for(
    meetings: Sequence[tuple[date, bool]],
    booked: Sequence[BookedReview],
    *,
    is_school_day: Callable[[date], bool],
    on_or_before: Callable[[date], date],
    settings: CapacitySettings,
    today: date,
    baseline: Sequence[tuple[date, bool]] = (),
) -> tuple[WeekLoad, ...]:
    """Week loads for meetings already chosen (meeting, heavy), with no solving: what the digest and the overview show
    from the `AR suggested meeting` column. `baseline`: the same reviews on their deadlines, for "before the plan"."""
    cal = PlanCalendar(is_school_day, on_or_before, settings, today)
    weekly = round(settings.weekly_hours * 60)
    heavy_minutes, light_minutes = settings.hours.minutes(True), settings.hours.minutes(False)

    def total(items: Sequence[tuple[date, bool]], *, fixed: bool) -> tuple[dict[int, int], dict[int, int]]:
        load: dict[int, int] = defaultdict(int)
        meetings_in: dict[int, int] = defaultdict(int)
        for day, heavy in items:
            if day < today:
                continue
            weeks = _stage_weeks(cal, cal.stages(day, heavy), booked=fixed)
            for week, minutes in _minutes_by_week(weeks, heavy_minutes if heavy else light_minutes):
                load[week] += minutes
            meetings_in[cal.week_index(day)] += 1
        return load, meetings_in

    fixed, fixed_meetings = total([(b.meeting, b.heavy) for b in booked], fixed=True)
    planned, planned_meetings = total(meetings, fixed=False)
    before, _ = total(baseline, fixed=False)
    last = max([cal.week_index(cal.horizon_end), *planned, *fixed, *before])
    return tuple(
        WeekLoad(
            week_start=cal.week_start(w),
            hours=_hours(fixed.get(w, 0) + planned.get(w, 0)),
            capacity_hours=_hours(cal.capacity_minutes(w, weekly)),
            meetings=fixed_meetings.get(w, 0) + planned_meetings.get(w, 0),
            baseline_hours=_hours(fixed.get(w, 0) + before.get(w, 0)),
        )
        for w in range(last + 1)
    )
