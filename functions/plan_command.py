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
from functions.plan import PlanRun, capacity_settings, next_week_line, run_plan
from functions.settings import Settings
from review_rules.dates import format_date

EXIT_OK, EXIT_PROBLEM = 0, 2
_SHOWN_WEEKS = 6


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


def print_plan(run: PlanRun, settings: Settings, out: TextIO) -> None:
    plan = run.plan
    print(
        f"Review Keeper plan: {settings.school_name}, from {format_date(plan.today)} to "
        f"{format_date(plan.horizon_end)}; capacity {run.capacity.describe()}.",
        file=out,
    )
    print(
        f"{len(plan.suggestions)} meeting(s) suggested, {len(plan.unschedulable)} cannot be held in time, "
        f"{len(plan.later)} due after the plan's horizon. Solver: {plan.solver.status} in {plan.solver.seconds:.1f} s "
        f"(gap {plan.solver.gap:.2f}).",
        file=out,
    )
    print(next_week_line(plan, plan.today), file=out)
    for w in [w for w in plan.weeks if w.hours or w.meetings][:_SHOWN_WEEKS]:
        flag = f"  OVER by {w.over_hours:g} h" if w.over_hours else ""
        print(
            f"  week of {format_date(w.week_start)}: {w.meetings} meeting(s), {w.hours:g} h of {w.capacity_hours:g} h"
            f"{flag}",
            file=out,
        )
    for line in plan.explanation[:1]:
        print(line, file=out)
    for warning in run.warnings:
        print(f"  ! {warning}", file=out)
    if run.accepted:
        print(
            f"Accepted {len(run.accepted)} suggestion(s) into the planned meeting column (blank cells only).", file=out
        )
    if run.dry_run:
        print("Dry run: nothing written.", file=out)
    elif run.write is not None:
        print(f"Written: AR suggested meeting and the Plan tab in {run.write.destination}.", file=out)
        for note in run.write.notes:
            print(f"  {note}", file=out)
