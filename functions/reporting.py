"""Report jobs: the same evaluation as the sweep, turned into documents. They read the register and never write it.

Where a document goes is checked before anything is read (`overview_target`, `calendar_target`, `records_folder`): a
report never replaces the register, a file that is not one of ours, or a file open in Excel, Word or LibreOffice.
"""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from connectors.base import Register, RegisterError
from connectors.storage_base import EvidenceStore
from reports.common import contribution_lines
from sheet_schema.ar_columns import AR_ISSUES
from sheet_schema.contributions import find_contributions_tab, parse_contributions
from sheet_schema.model import ReviewedPupil

from .evaluate import Evaluation, evaluate
from .evidence_records import evidence_by_row
from .settings import Settings

OVERVIEW_NAME = "report.xlsx"
CALENDAR_NAME = "reviews.ics"
# The first heading line write_overview puts on its Summary sheet: how a previous overview is recognised.
OVERVIEW_MARK = "Annual reviews: caseload overview"
CALENDAR_MARK = b"PRODID:-//Review Keeper//"


class OutputError(Exception):
    """A report cannot be written where it was asked to go. `str(err)` is one sentence naming the file and the fix."""


def lock_files(path: Path) -> list[Path]:
    """The owner files Excel/Word (~$name, or ~$ over the first two letters of a long name) and LibreOffice
    (.~lock.name#) keep beside a document while it is open."""
    names = {f"~${path.name}", f"~${path.name[2:]}", f".~lock.{path.name}#"}
    return [path.parent / n for n in sorted(names) if (path.parent / n).exists()]


def _refuse_if_open(path: Path) -> None:
    if lock_files(path):
        raise OutputError(f"{path} is open in Excel, Word or LibreOffice; close it and run again.")


def _is_register(path: Path, register_ref: str | None) -> bool:
    if not register_ref:
        return False
    register = Path(register_ref)
    if not register.exists():
        return False  # a Google Sheet (or nothing on this computer): no file to overwrite
    try:
        return path.resolve() == register.resolve() or (path.exists() and path.samefile(register))
    except OSError:
        return False


def _target(out: Path, default_name: str, suffix: str, register_ref: str | None) -> Path:
    """`out` as a file to write: a folder gets `default_name` inside it; the register is refused."""
    text = str(out)
    if out.is_dir() or text.endswith(("/", os.sep)):
        out = out / default_name
    if _is_register(out, register_ref):
        raise OutputError(f"{out} is the register itself; give --out another name, e.g. {default_name}.")
    if out.suffix.lower() != suffix:
        raise OutputError(f"{out} does not end in {suffix}: give --out a file name ending {suffix}, or a folder.")
    if out.exists() and not out.is_file():
        raise OutputError(f"{out} is not a file that can be replaced; give --out another name or a folder.")
    _refuse_if_open(out)
    return out


def _is_previous_overview(path: Path) -> bool:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return False
    try:
        if "Summary" not in book.sheetnames or "Compliance" not in book.sheetnames:
            return False
        first = next(book["Summary"].iter_rows(min_row=1, max_row=1, max_col=1, values_only=True), (None,))[0]
        return isinstance(first, str) and first.startswith(OVERVIEW_MARK)
    finally:
        book.close()


def overview_target(out: Path, register_ref: str | None = None) -> Path:
    """Where the overview goes: an existing workbook is replaced only if it is an earlier overview."""
    path = _target(out, OVERVIEW_NAME, ".xlsx", register_ref)
    if path.exists() and not _is_previous_overview(path):
        raise OutputError(
            f"{path} already exists and is not a caseload overview made by Review Keeper, so it was left alone; "
            "give --out another name."
        )
    return path


def calendar_target(out: Path, register_ref: str | None = None) -> Path:
    """Where the calendar goes: an existing .ics is replaced only if Review Keeper wrote it."""
    path = _target(out, CALENDAR_NAME, ".ics", register_ref)
    if path.exists():
        try:
            ours = CALENDAR_MARK in path.read_bytes()[:4096]
        except OSError:
            ours = False
        if not ours:
            raise OutputError(
                f"{path} already exists and is not a calendar made by Review Keeper, so it was left alone; "
                "give --out another name."
            )
    return path


def records_folder(out_dir: Path) -> Path:
    """The folder for the review records: an existing file of that name is refused."""
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"{out_dir} is a file, not a folder; give --out a folder for the review records.")
    return out_dir


def _evaluate(register: Register, today: date, settings: Settings) -> tuple[Evaluation, dict[int, list]]:
    data = register.read()
    evaluation = evaluate(data, today=today, settings=settings)
    tab = find_contributions_tab(data.sheets)
    contributions, _ = parse_contributions(tab.rows if tab is not None else [])
    return evaluation, contribution_lines(contributions, evaluation.pupils)


def select_pupils(pupils: Sequence[ReviewedPupil], which: str | None) -> list[ReviewedPupil]:
    """`--pupil` takes a sheet row number or a UPN."""
    if which is None:
        return list(pupils)
    text = which.strip()
    if text.isdigit():
        chosen = [p for p in pupils if p.record.row == int(text)]
    else:
        chosen = [p for p in pupils if p.record.upn and p.record.upn == text.upper()]
    if not chosen:
        raise RegisterError(f"no pupil at row or with UPN {text}; give a row number shown in the register.")
    return chosen


def records_job(
    register: Register,
    *,
    today: date,
    settings: Settings,
    out_dir: Path,
    pupil: str | None = None,
    store: EvidenceStore | None = None,
) -> list[Path]:
    """`store`: where the contributors' full texts and files are (docs/register.md s8); the record then holds what
    they sent, the child's views first."""
    from reports.record import write_review_records

    out_dir = records_folder(out_dir)
    data = register.read()
    evaluation = evaluate(data, today=today, settings=settings)
    tab = find_contributions_tab(data.sheets)
    contributions = contribution_lines(parse_contributions(tab.rows if tab is not None else [])[0], evaluation.pupils)
    chosen = select_pupils(evaluation.pupils, pupil)
    if pupil is not None and chosen[0].clock is None:
        row = chosen[0].record.row
        if AR_ISSUES in evaluation.header.ar_columns:
            raise RegisterError(f"row {row} has problems to fix before a record can be made: see its AR issues column.")
        # A register never swept has no AR issues column to point to: the problems themselves, then.
        problems = " ".join(re.sub(r"^row \d+: ", "", e) for e in chosen[0].errors)
        raise RegisterError(f"row {row} has problems to fix before a record can be made: {problems}")
    from reports.record import RecordFailure, record_file_name

    for p in chosen:
        if p.clock is not None:
            _refuse_if_open(out_dir / record_file_name(p))
    failures: list[RecordFailure] = []
    paths = write_review_records(
        chosen,
        today=today,
        school_name=settings.school_name,
        settings=settings.rules,
        out_dir=out_dir,
        contributions=contributions,
        failures=failures,
        evidence=evidence_by_row(data, evaluation.pupils, store),
    )
    if failures:
        rows = ", ".join(f"row {f.row} ({f.reason})" for f in failures)
        raise OutputError(
            f"wrote {len(paths)} of {len(paths) + len(failures)} review records to {out_dir}, but not those for "
            f"{rows}; check the folder (space, permissions) and run again for those rows with --pupil."
        )
    return paths


def overview_job(
    register: Register, *, today: date, settings: Settings, out: Path, register_ref: str | None = None
) -> Path:
    """`register_ref`: the register as given on the command line, so --out can never name it."""
    from reports.overview import write_overview

    out = overview_target(out, register_ref)
    from .la_profiles import la_aliases, profiles_for

    evaluation, _ = _evaluate(register, today, settings)
    written = write_overview(
        evaluation.pupils, today=today, school_name=settings.school_name, settings=settings.rules, out=out,
        la_aliases=la_aliases(profiles_for(settings)),  # issue 14: "KCC" counted as Kent where keeper.toml says so
    )  # fmt: skip
    add_plan_sheet(evaluation, written, today=today, settings=settings)
    return written


def calendar_job(
    register: Register, *, today: date, settings: Settings, out: Path, register_ref: str | None = None
) -> Path:
    from reports.calendar import write_calendar
    from sheet_schema.suggested import suggested_meetings

    out = calendar_target(out, register_ref)
    evaluation, _ = _evaluate(register, today, settings)
    return write_calendar(
        evaluation.pupils,
        today=today,
        school_name=settings.school_name,
        out=out,
        settings=settings.rules,
        suggested=suggested_meetings(evaluation.rows, evaluation.header),
    )


def add_plan_sheet(evaluation: Evaluation, out: Path, *, today: date, settings: Settings) -> None:
    """The overview's "Weekly load" sheet: hours per week against capacity before the plan (every unbooked review on
    its deadline) and with the plan's suggested meetings (the AR suggested meeting column), for the year ahead."""
    from openpyxl import load_workbook

    from functions.plan_digest import pending_suggestions, planned_weeks
    from reports.load_chart import WeekPoint, add_load_sheet
    from review_rules.school_days import calendar_for
    from sheet_schema.ar_columns import AR_SUGGESTED

    if AR_SUGGESTED not in evaluation.header.ar_columns:
        return  # no plan made yet: "with the plan" would leave out every unbooked review
    capacity = settings.capacity
    pending = pending_suggestions(evaluation.pupils, evaluation.rows, evaluation.header, today)
    weeks = planned_weeks(
        evaluation.pupils, pending, calendar=calendar_for(settings.rules.closures), capacity=capacity, today=today
    )
    points = [WeekPoint(w.week_start, w.baseline_hours, w.hours, w.capacity_hours) for w in weeks]
    book = load_workbook(out)
    add_load_sheet(book, points, title=f"Review hours per week against capacity ({settings.school_name})")
    book.save(out)
