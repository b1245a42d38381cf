"""Report jobs: the same evaluation as the sweep, turned into documents. They read the register and never write it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from connectors.base import Register, RegisterError
from sheet_schema.contributions import CONTRIBUTIONS_SHEET, match_pupil, parse_contributions
from sheet_schema.model import ReviewedPupil

from .settings import Settings
from .sweep import Evaluation, evaluate


def _evaluate(register: Register, today: date, settings: Settings) -> tuple[Evaluation, dict[int, list]]:
    from reports.common import ContributionLine

    data = register.read()
    evaluation = evaluate(data, today=today, settings=settings)
    rows = next((s.rows for s in data.sheets if s.title == CONTRIBUTIONS_SHEET), [])
    contributions, _ = parse_contributions(rows)
    by_row: dict[int, list[ContributionLine]] = defaultdict(list)
    for c in contributions:
        pupil = match_pupil(c, evaluation.pupils)
        if pupil is not None:
            by_row[pupil.record.row].append(
                ContributionLine(
                    role=c.role, name=c.name, requested=c.requested, received=c.received, chasers=c.chasers
                )
            )
    return evaluation, dict(by_row)


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
    register: Register, *, today: date, settings: Settings, out_dir: Path, pupil: str | None = None
) -> list[Path]:
    from reports.record import write_review_records

    evaluation, contributions = _evaluate(register, today, settings)
    chosen = select_pupils(evaluation.pupils, pupil)
    if pupil is not None and chosen[0].clock is None:
        raise RegisterError(
            f"row {chosen[0].record.row} has problems to fix before a record can be made: see its AR issues column."
        )
    return write_review_records(
        chosen,
        today=today,
        school_name=settings.school_name,
        settings=settings.rules,
        out_dir=out_dir,
        contributions=contributions,
    )


def overview_job(register: Register, *, today: date, settings: Settings, out: Path) -> Path:
    from reports.overview import write_overview

    evaluation, _ = _evaluate(register, today, settings)
    return write_overview(
        evaluation.pupils, today=today, school_name=settings.school_name, settings=settings.rules, out=out
    )


def calendar_job(register: Register, *, today: date, settings: Settings, out: Path) -> Path:
    from reports.calendar import write_calendar

    evaluation, _ = _evaluate(register, today, settings)
    return write_calendar(
        evaluation.pupils, today=today, school_name=settings.school_name, out=out, settings=settings.rules
    )
