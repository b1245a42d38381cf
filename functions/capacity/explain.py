"""The plan's explanations in sentences (docs/rules.md s11): reviews that cannot be held in time, reviews left
without a slot, weeks over the hours available."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from functions.capacity_settings import CapacitySettings
from review_rules.dates import format_date

from .days import PlanCalendar
from .model import ReviewToPlace, Unschedulable, WeekLoad


def too_late(r: ReviewToPlace, cal: PlanCalendar, lawful_from: date | None) -> Unschedulable:
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


def no_slot(r: ReviewToPlace, cal: PlanCalendar, lawful_from: date | None, s: CapacitySettings) -> Unschedulable:
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
