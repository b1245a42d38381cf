"""The `plan` job: read the register, plan the year's reviews to fit the SENDCo's capacity (functions/capacity), and
write the suggestions back in one write (docs/register.md s5). Adapters and settings come in as arguments."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from connectors.base import CellValue, Register, WriteResult
from functions.capacity import BookedReview, Plan, ReviewToPlace, plan_year
from functions.capacity_settings import CapacitySettings, check_against_year
from functions.evaluate import Evaluation, evaluate
from functions.la_list import LAListError, RegisterPupil, compare, parse_la_rows
from functions.plan_writes import PLAN_SHEET, accepted, register_plan, suggested_by_row, tab_plan
from functions.settings import Settings
from review_rules.dates import format_date
from review_rules.model import Status
from review_rules.school_days import calendar_for
from sheet_schema.groups import group_columns, groups_of
from sheet_schema.suggested import suggested_meetings

_NOT_PLANNED = (Status.INVALID, Status.INACTIVE)


@dataclass
class PlanRun:
    plan: Plan
    capacity: CapacitySettings
    warnings: list[str] = field(default_factory=list)
    accepted: dict[int, date] = field(default_factory=dict)
    write: WriteResult | None = None
    dry_run: bool = False

    def to_json(self) -> dict[str, Any]:
        out = self.plan.to_json()
        out["warnings"] = list(self.warnings)
        out["accepted"] = [{"row": r, "planned_meeting": d.isoformat()} for r, d in sorted(self.accepted.items())]
        out["written"] = self.write.destination if self.write is not None else None
        return out


def capacity_settings(settings: Settings) -> CapacitySettings:
    """`[capacity]` from keeper.toml, checked in full (CapacitySettingsError names the key)."""
    return settings.capacity


def plan_inputs(evaluation: Evaluation, today: date) -> tuple[list[ReviewToPlace], list[BookedReview]]:
    """Active pupils without a planned meeting are placed; those with one are booked and use capacity."""
    columns = group_columns(evaluation.header)
    previous = suggested_meetings(evaluation.rows, evaluation.header)
    reviews: list[ReviewToPlace] = []
    booked: list[BookedReview] = []
    for pupil in evaluation.pupils:
        clock = pupil.clock
        if clock is None or pupil.status in _NOT_PLANNED:
            continue
        heavy = clock.pfa_required or clock.phase_transfer is not None
        if clock.meeting_is_planned:
            if clock.meeting_date >= today:
                booked.append(BookedReview(pupil.record.row, clock.meeting_date, heavy))
            continue
        values = evaluation.rows[pupil.record.row - 1] if pupil.record.row - 1 < len(evaluation.rows) else []
        reviews.append(
            ReviewToPlace(
                row=pupil.record.row,
                name=pupil.record.short_name,
                meeting_target=clock.meeting_target,
                pfa=clock.pfa_required,
                transfer=clock.phase_transfer is not None,
                groups=groups_of(values, columns),
                previous=previous.get(pupil.record.row),
            )
        )
    return reviews, booked


def booked_warnings(evaluation: Evaluation, today: date, is_school_day: Callable[[date], bool]) -> list[str]:
    """Booked meetings the plan counts but cannot stand behind: after the review's deadline (docs/rules.md s6), or on
    a day the school is closed (docs/rules.md s2). One sentence each, naming the row, the date and why."""
    out: list[str] = []
    for pupil in evaluation.pupils:
        clock = pupil.clock
        if clock is None or pupil.status in _NOT_PLANNED or not clock.meeting_is_planned or clock.meeting_date < today:
            continue
        why: list[str] = []
        if clock.meeting_date > clock.meeting_target:
            why.append(f"after the review's deadline ({format_date(clock.meeting_target)})")
        if not is_school_day(clock.meeting_date):
            why.append("on a day the school is closed (a weekend, bank holiday or closure)")
        fix = (
            f"choose a school day on or before {format_date(clock.meeting_target)}"
            if clock.meeting_target >= today
            else "the deadline has passed: bring it forward to the first school day two weeks' notice allows"
        )
        if why:
            out.append(
                f"row {pupil.record.row}: {pupil.record.short_name}: the planned meeting on "
                f"{format_date(clock.meeting_date)} is {' and '.join(why)}; {fix}."
            )
    return out


def la_warnings(evaluation: Evaluation, sheets: Sequence[tuple[str, list[list[CellValue]]]]) -> list[str]:
    """The LA's termly list compared with the register's active pupils (CoP 9.172). LAListError: no sheet of the file
    has a recognisable header."""
    pupils = [
        RegisterPupil(
            row=p.record.row,
            name=p.record.short_name,
            full_name=p.record.name,
            upn=p.record.upn,
            dob=p.record.facts.dob if p.record.facts else None,
            meeting_target=p.clock.meeting_target,
            window_end=p.clock.window_end,
            planned_meeting=p.clock.meeting_date if p.clock.meeting_is_planned else None,
        )
        for p in evaluation.pupils
        if p.clock is not None and p.status not in _NOT_PLANNED
    ]
    errors: list[str] = []
    for source, rows in sheets:
        try:
            entries, warnings = parse_la_rows(rows, source)
        except LAListError as exc:
            errors.append(str(exc))
            continue
        return warnings + compare(entries, pupils, source)
    raise LAListError(errors[0] if errors else "The LA's list is empty; ask the LA for the list again.")


def run_plan(
    register: Register,
    *,
    today: date,
    settings: Settings,
    capacity: CapacitySettings,
    weeks: int | None = None,
    dry_run: bool = False,
    accept: str | None = None,
    la_sheets: Sequence[tuple[str, list[list[CellValue]]]] | None = None,
    workers: int = 2,
) -> PlanRun:
    """One plan. Raises CapacitySettingsError (settings no plan can use) and LAListError (an unreadable LA list)
    before anything is written."""
    calendar = calendar_for(settings.rules.closures)
    check_against_year(capacity, calendar.is_school_day, today, where=settings.source)
    data = register.read()
    evaluation = evaluate(data, today=today, settings=settings)
    la_notes = la_warnings(evaluation, la_sheets) if la_sheets is not None else []
    reviews, booked = plan_inputs(evaluation, today)
    plan = plan_year(
        reviews,
        booked,
        is_school_day=calendar.is_school_day,
        on_or_before=calendar.school_day_on_or_before,
        settings=capacity,
        today=today,
        weeks=weeks,
        workers=workers,
    )
    run = PlanRun(plan, capacity, dry_run=dry_run)
    if not reviews and not booked:
        run.warnings.append("The register has no active pupils to plan: every row is left, ceased or has errors.")
    names = {r.row: r.name for r in reviews}
    run.warnings += booked_warnings(evaluation, today, calendar.is_school_day)
    run.warnings += [f"row {u.row}: {names.get(u.row, '')}: {u.reason}." for u in plan.unschedulable]
    run.warnings += la_notes
    upns = {p.record.row: p.record.upn for p in evaluation.pupils}
    run.accepted = accepted(plan.suggestions, accept, upns)
    if accept and not run.accepted and accept.lower() != "all":
        run.warnings.append(f"--accept {accept}: no suggestion for that row or UPN; nothing accepted.")
    if dry_run or (not reviews and not booked):
        return run
    active = [p.record.row for p in evaluation.pupils if p.clock is not None and p.status not in _NOT_PLANNED]
    existing = next((s.rows for s in data.sheets if s.title.strip().casefold() == PLAN_SHEET.casefold()), None)
    run.write = register.write(
        register_plan(
            evaluation.header, evaluation.rows, active, suggested_by_row(plan), run.accepted, dict(settings.headers)
        ),
        tab_plan(plan, existing),
    )
    return run


def next_week_line(plan: Plan, today: date) -> str:
    """For the digest: next week's planned load against capacity."""
    monday = today - timedelta(days=today.weekday()) + timedelta(weeks=1)
    week = next((w for w in plan.weeks if w.week_start == monday), None)
    if week is None:
        return f"Week of {format_date(monday)}: nothing planned."
    state = f"{week.over_hours:g} h OVER" if week.over_hours else "within capacity"
    return (
        f"Week of {format_date(monday)}: {week.meetings} meeting(s), {week.hours:g} h of review work planned against "
        f"{week.capacity_hours:g} h available ({state})."
    )
