"""The register understood: find the table, validate every row and compute every review's clock. What the sweep, the
confirm page and the reports share; no I/O beyond the register data handed in."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from connectors.base import CellValue, RegisterData, RegisterError
from review_rules.clock import compute_review
from review_rules.dates import format_date
from review_rules.model import ReviewClock, Status
from review_rules.school_days import SchoolCalendar, calendar_for
from sheet_schema.ar_columns import AR_STATUS, near_miss_notes
from sheet_schema.contributions import (
    CONTRIBUTIONS_SHEET,
    PupilIndex,
    find_contributions_header,
    find_contributions_tab,
    outstanding_by_pupil,
    parse_contributions,
)
from sheet_schema.header import check_required, choose_register
from sheet_schema.model import Field, HeaderMatch, PupilRecord, ReviewedPupil
from sheet_schema.validate import read_rows

from .la_lead_times import with_la_lead_times
from .la_profiles import profiles_for
from .settings import Settings

log = logging.getLogger("review_keeper.sweep")


@dataclass(frozen=True)
class Evaluation:
    """The register understood: where its table is and every pupil's computed review."""

    source: str
    header: HeaderMatch
    pupils: list[ReviewedPupil]
    rows: list[list[CellValue]]
    not_pupils: tuple[int, ...] = ()  # rows skipped as not pupils (docs/register.md s1): named once in the summary
    # Sentences about the register as a whole (a SENDCo column that looks like one of the product's).
    notes: tuple[str, ...] = ()


def _planned_meeting_warning(record: PupilRecord, clock: ReviewClock, header: HeaderMatch) -> str:
    column = header.header_text.get(Field.PLANNED_MEETING, "Planned meeting")
    return (
        f'row {record.row}: "{column}" is {format_date(clock.meeting_date)}, after the last day this review can be '
        f"held ({format_date(clock.meeting_target)}); move the meeting earlier or record why it cannot be."
    )


def review_pupil(
    record: PupilRecord, header: HeaderMatch, *, today: date, settings: Settings, calendar: SchoolCalendar
) -> ReviewedPupil:
    """One row's clock. A rule that cannot be computed for odd data becomes an error on that row, never a crash."""
    if not record.valid or record.facts is None:
        return ReviewedPupil(record, None, Status.INVALID, record.errors, record.warnings)
    try:
        clock = compute_review(record.facts, today, settings.rules, calendar)
    except (ValueError, OverflowError) as exc:
        log.warning("row %s could not be computed: %s", record.row, type(exc).__name__)
        message = (
            f"row {record.row}: the dates on this row cannot be worked out ({exc}); check the date of birth, "
            "plan and review dates."
        )
        return ReviewedPupil(record, None, Status.INVALID, (*record.errors, message), record.warnings)
    warnings = record.warnings
    if clock.planned_after_deadline:
        warnings = (*warnings, _planned_meeting_warning(record, clock, header))
    return ReviewedPupil(record, clock, clock.status, record.errors, warnings)


def evaluate(data: RegisterData, *, today: date, settings: Settings) -> Evaluation:
    """Find the table, validate every row and compute every clock. Raises RegisterError only for a register that
    cannot be read at all (no table, no required columns); one bad row never stops the others."""
    sheets = [(s.title, s.rows) for s in data.sheets]
    if not sheets:
        raise RegisterError(f"{data.source} has no worksheets; add your register to a worksheet and run again.")
    if settings.register_sheet is not None and settings.register_sheet not in {t for t, _ in sheets}:
        names = ", ".join(f'"{t}"' for t, _ in sheets)
        raise RegisterError(
            f'{data.source} has no worksheet called "{settings.register_sheet}" (it has {names}); '
            "fix register_sheet in keeper.toml."
        )
    header = choose_register(sheets, sheet_name=settings.register_sheet, mapping=settings.headers)
    if header is None:
        if all(not any(v not in (None, "") for row in rows for v in row) for _, rows in sheets):
            raise RegisterError(f"{data.source} is empty; put your register in it (one row per pupil) and run again.")
        raise RegisterError(
            f"{data.source} has no row of column headers the product recognises in the first 15 rows of any sheet; "
            "it needs at least a Name, a Date of birth and an EHCP issued or Last review column (or map your own "
            "headers in keeper.toml under [headers])."
        )
    missing = check_required(header)
    if missing:
        raise RegisterError(f'{data.source}, sheet "{header.sheet}": ' + " ".join(missing))
    rows = next(r for t, r in sheets if t == header.sheet)
    calendar = calendar_for(settings.rules.closures)  # shared: bank holidays and closures are built once a process
    found = read_rows(rows, header, today=today, calendar=calendar)
    records = found.pupils
    pupils = [review_pupil(r, header, today=today, settings=settings, calendar=calendar) for r in records]
    pupils = with_la_lead_times(pupils, profiles_for(settings), calendar)  # an LA's own lead times (issue 14)
    log.info("evaluated %d rows on sheet index %d", len(pupils), [t for t, _ in sheets].index(header.sheet))
    notes = tuple(_look_alike_notes(data, header, rows))
    # Indexed: the email step and AR outstanding match every Contributions row to its pupil (issue 16).
    return Evaluation(data.source, header, PupilIndex(pupils), rows, found.not_pupils, notes)


def _look_alike_notes(data: RegisterData, header: HeaderMatch, rows: list[list[CellValue]]) -> list[str]:
    """The register's and the Contributions tab's columns whose headers look like the product's own (issue 10 item 5)."""
    notes = near_miss_notes(rows[header.header_row - 1], sheet=header.sheet, header_row=header.header_row)
    tab = find_contributions_tab(data.sheets)
    found = find_contributions_header(tab.rows) if tab is not None else None
    if tab is not None and found is not None:
        notes += near_miss_notes(tab.rows[found[0] - 1], sheet=tab.title, header_row=found[0])
    return notes


def _tab(data: RegisterData, name: str = CONTRIBUTIONS_SHEET) -> tuple[str | None, list[list[CellValue]]]:
    """The Contributions tab's title as typed, and its rows (sheet_schema.contributions.find_contributions_tab)."""
    sheet = find_contributions_tab(data.sheets)
    return (sheet.title, sheet.rows) if sheet is not None else (None, [])


def previous_statuses(evaluation: Evaluation) -> dict[int, CellValue]:
    """pupil row -> the "AR status" cell as the register holds it before this sweep writes (empty when the register has
    no AR status column yet: every urgent review is then new to the SENDCo)."""
    column = evaluation.header.ar_columns.get(AR_STATUS)
    if column is None:
        return {}
    out: dict[int, CellValue] = {}
    for pupil in evaluation.pupils:
        values = evaluation.rows[pupil.record.row - 1]
        out[pupil.record.row] = values[column] if column < len(values) else None
    return out


def outstanding_from_tab(data: RegisterData, evaluation: Evaluation) -> dict[int, str]:
    """pupil row -> the AR outstanding text, read from the Contributions tab as it stands (nothing planned or sent)."""
    _, rows = _tab(data)
    return outstanding_by_pupil(parse_contributions(rows)[0], evaluation.pupils)


def _london_now() -> datetime:
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo("Europe/London"))


def london_today() -> date:
    return _london_now().date()


__all__ = [
    "Evaluation",
    "evaluate",
    "london_today",
    "outstanding_from_tab",
    "previous_statuses",
    "review_pupil",
]
