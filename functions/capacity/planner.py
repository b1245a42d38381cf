"""The year's plan: every unbooked review given a meeting date that is lawful and fits the SENDCo's capacity
(docs/rules.md s11). Pure: dates and settings in, a `Plan` out; the CP-SAT model lives in solver.py."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date, timedelta

from functions.capacity_settings import STAGES, CapacitySettings
from review_rules.dates import format_date

from .days import PlanCalendar
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
    for r in reviews:
        if r.meeting_target > cal.horizon_end:
            later.append(r.row)
        elif lawful_from is None or r.meeting_target < lawful_from:
            unschedulable.append(_too_late(r, cal, lawful_from))
        else:
            to_place.append(r)

    last_day = max((r.meeting_target for r in to_place), default=today)
    days = cal.meeting_days(lawful_from, last_day) if lawful_from else []
    slots = [_slots(cal, r, [d for d in days if d <= r.meeting_target], heavy_minutes, light_minutes) for r in to_place]
    week_count = max([cal.week_index(cal.horizon_end + timedelta(days=21))] + [w + 1 for w in base]) + 1
    capacity = {w: cal.capacity_minutes(w, weekly) for w in range(week_count)}
    groups: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(to_place):
        for key in r.groups:
            groups[key].append(i)
    problem = Problem(
        slots=slots,
        heavy=[r.heavy for r in to_place],
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

    day_of = _days_for(to_place, slots, choice, problem.meetings_left_day)
    suggestions: list[Suggestion] = []
    load = dict(base)
    meetings = defaultdict(int, week_used)
    for i, (r, k) in enumerate(zip(to_place, choice, strict=True)):
        if k is None:
            unschedulable.append(_no_slot(r, cal, lawful_from, settings))
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
    suggestions.sort(key=lambda s: (s.suggested_meeting, s.row))
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


def _slots(
    cal: PlanCalendar, r: ReviewToPlace, days: Sequence[date], heavy: dict[str, int], light: dict[str, int]
) -> list[Slot]:
    """The review's lawful days grouped into slots: same week, same preparation weeks (solver.py)."""
    grouped: dict[tuple[int, tuple[tuple[int, int], ...]], list[date]] = defaultdict(list)
    for d in days:
        weeks = _stage_weeks(cal, cal.stages(d, r.heavy), booked=False)
        grouped[(cal.week_index(d), _minutes_by_week(weeks, heavy if r.heavy else light))].append(d)
    first = days[0] if days else r.meeting_target
    return [
        Slot(
            days=tuple(d.toordinal() for d in ds),
            week=week,
            minutes=minutes,
            earliness=(ds[0] - first).days,
            lateness=(r.meeting_target - ds[-1]).days,
            moves=r.previous is not None and r.previous not in ds,
        )
        for (week, minutes), ds in sorted(grouped.items(), key=lambda item: item[1][0])
    ]


def _days_for(
    reviews: Sequence[ReviewToPlace],
    slots: Sequence[Sequence[Slot]],
    choice: Sequence[int | None],
    room: dict[int, int],
) -> dict[int, int]:
    """Each scheduled review's day (date ordinal), week by week (matching.py)."""
    by_week: dict[int, list[Claim]] = defaultdict(list)
    for i, k in enumerate(choice):
        if k is not None:
            slot = slots[i][k]
            previous = reviews[i].previous
            keep = previous.toordinal() if previous is not None and previous.toordinal() in slot.days else None
            by_week[slot.week].append(Claim(i, slot.days, reviews[i].heavy, reviews[i].groups, keep))
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


def _too_late(r: ReviewToPlace, cal: PlanCalendar, lawful_from: date | None) -> Unschedulable:
    earliest = lawful_from or cal.earliest_lawful(cal.horizon_end + timedelta(weeks=26))
    when = format_date(earliest) if earliest else "no day in the coming year"
    if r.meeting_target < cal.today:
        reason = (
            f"past its deadline ({format_date(r.meeting_target)}): hold it as soon as possible; earliest lawful {when}"
        )
    else:
        reason = (
            f"cannot be held by its deadline ({format_date(r.meeting_target)}): with two weeks' notice (reg 20(3), "
            f"20(4)) on a day you are available, the earliest lawful meeting is {when}"
        )
    return Unschedulable(r.row, r.name, reason, earliest, r.meeting_target)


def _no_slot(r: ReviewToPlace, cal: PlanCalendar, lawful_from: date | None, s: CapacitySettings) -> Unschedulable:
    return Unschedulable(
        r.row,
        r.name,
        f"no meeting slot left between {format_date(lawful_from or cal.today)} and its deadline "
        f"({format_date(r.meeting_target)}): meetings_per_day = {s.meetings_per_day} and meetings_per_week = "
        f"{s.meetings_per_week} are full on every day you are available",
        lawful_from,
        r.meeting_target,
    )


def explain(
    weeks: Sequence[WeekLoad], unschedulable: Sequence[Unschedulable], s: CapacitySettings, *, proven: bool = True
) -> list[str]:
    """Why the year does not fit, in sentences: which weeks are over and by how much, which reviews are left out.
    `proven`: the solver proved the hours over cannot be reduced (else: the best plan found in the time limit)."""
    lines: list[str] = []
    over = [w for w in weeks if w.over_hours > 0]
    if over:
        total = round(sum(w.over_hours for w in over), 2)
        lines.append(
            f"{len(over)} week(s) need more than the hours available ({total:g} h over in all); "
            + (
                f"no lawful plan fits them inside weekly_hours = {s.weekly_hours:g}."
                if proven
                else f"the best plan found in {s.time_limit_seconds:g} s does not fit them inside weekly_hours = "
                f"{s.weekly_hours:g} (a longer capacity.time_limit_seconds may do better)."
            )
        )
        lines.extend(
            f"Week of {format_date(w.week_start)}: {w.hours:g} h planned, {w.capacity_hours:g} h available "
            f"({w.over_hours:g} h over)."
            for w in over
        )
    for u in unschedulable:
        lines.append(f"Row {u.row}: {u.reason}.")
    return lines


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
