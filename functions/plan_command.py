"""`python main.py plan`: run the plan job and say what it found, as text or as JSON (README, "Planning the year").

A setting no plan can use, or an LA list that cannot be read, is one sentence on standard error and exit status 2,
with nothing written; a review that cannot be held in time is a warning and the rest is planned."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import TextIO

from connectors.base import Register
from connectors.la_list_file import LAFileError, read_la_file
from functions.capacity_settings import CapacitySettingsError
from functions.la_list import LAListError
from functions.plan import PlanRun, capacity_settings, run_plan
from functions.settings import Settings
from review_rules.dates import format_date

EXIT_OK, EXIT_PROBLEM = 0, 2
_SHOWN_WEEKS = 12


def plan_command(
    register: Register,
    settings: Settings,
    *,
    today: date,
    weeks: int | None,
    as_json: bool,
    dry_run: bool,
    accept: str | None,
    la_list: str | None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    try:
        capacity = capacity_settings(settings)
        if weeks is not None and not 1 <= weeks <= 52:
            raise CapacitySettingsError(f"--weeks {weeks}: give a number of school weeks from 1 to 52.")
        la_sheets = read_la_file(Path(la_list)) if la_list else None
        run = run_plan(
            register,
            today=today,
            settings=settings,
            capacity=capacity,
            weeks=weeks,
            dry_run=dry_run,
            accept=accept,
            la_sheets=la_sheets,
        )
    except (CapacitySettingsError, LAFileError, LAListError) as exc:
        print(f"Review Keeper: {exc}", file=err)
        return EXIT_PROBLEM
    if as_json:
        json.dump(run.to_json(), out, ensure_ascii=False, indent=1)
        out.write("\n")
    else:
        print_plan(run, settings, out)
    return EXIT_OK


def _flags(overdue: bool, short_lead: bool) -> str:
    flags = (["OVERDUE: past its deadline, book first"] if overdue else []) + (
        ["short lead: request advice at once"] if short_lead else []
    )
    return f"  [{'; '.join(flags)}]" if flags else ""


def print_plan(run: PlanRun, settings: Settings, out: TextIO) -> None:
    """The plan in words: each suggestion, the unschedulable, the weeks over, the weekly load, where it went."""
    plan = run.plan

    def say(line: str = "") -> None:
        print(line, file=out)

    say(
        f"Review Keeper plan: {settings.school_name}, from {format_date(plan.today)} to "
        f"{format_date(plan.horizon_end)}; capacity {run.capacity.describe()}."
    )
    overdue = sum(1 for s in plan.suggestions if s.overdue)
    say(
        f"{len(plan.suggestions)} meeting(s) suggested ({overdue} past their deadline), {len(plan.unschedulable)} "
        f"cannot be held in time, {len(plan.later)} due after the plan's horizon. Solver: {plan.solver.status} in "
        f"{plan.solver.seconds:.1f} s (gap {plan.solver.gap:.2f})."
    )
    if plan.suggestions:
        say()
        say("Suggested meetings (type the date into your planned meeting column, or use --accept):")
        for s in plan.suggestions:
            say(
                f"  row {s.row}: {s.name} {format_date(s.suggested_meeting)} (hold by "
                f"{format_date(s.meeting_target)}){_flags(s.overdue, s.short_lead)}"
            )
    if plan.unschedulable:
        say()
        say("Cannot be held in time:")
        suggested = {s.row: s.suggested_meeting for s in plan.suggestions}
        for u in plan.unschedulable:
            when = f" Suggested: {format_date(suggested[u.row])}." if u.row in suggested else ""
            say(f"  row {u.row}: {u.name}: {u.reason}.{when}")
    if plan.weeks_over:
        say()
        say(f"Weeks over capacity: {plan.explanation[0]}" if plan.explanation else "Weeks over capacity:")
        for w in plan.weeks_over:
            say(
                f"  week of {format_date(w.week_start)}: {w.hours:g} h planned, {w.capacity_hours:g} h available "
                f"({w.over_hours:g} h over)"
            )
    busy = [w for w in plan.weeks if w.hours or w.meetings]
    if busy:
        say()
        say("Weekly load:")
        for w in busy[:_SHOWN_WEEKS]:
            flag = f"  OVER by {w.over_hours:g} h" if w.over_hours else ""
            say(
                f"  week of {format_date(w.week_start)}: {w.meetings} meeting(s), {w.hours:g} h of "
                f"{w.capacity_hours:g} h{flag}"
            )
        if len(busy) > _SHOWN_WEEKS:
            say(f"  {len(busy) - _SHOWN_WEEKS} more week(s) in the Plan tab.")
    listed = {f"row {u.row}: {u.name}: {u.reason}." for u in plan.unschedulable}
    notes = [w for w in run.warnings if w not in listed]
    if notes:
        say()
        say("Warnings:")
        for warning in notes:
            say(f"  ! {warning}")
    say()
    if run.accepted:
        say(f"Accepted {len(run.accepted)} suggestion(s) into the planned meeting column (blank cells only).")
    if run.dry_run:
        say("Dry run: nothing written.")
    elif run.write is not None:
        say(f"Written: AR suggested meeting and the Plan tab in {run.write.destination}.")
        for note in run.write.notes:
            say(f"  {note}")
    else:
        say("Nothing written.")
