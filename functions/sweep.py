"""The sweep: read the register -> validate rows -> compute each review's clock -> write the AR columns back.

Connectors come in as arguments (built by main.py), so tests hand in a workbook on disk or a local fake server."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from connectors.base import CellValue, CellWrite, Register, RegisterData, RegisterError, WritePlan, WriteResult
from review_rules.clock import compute_review
from review_rules.model import ReviewClock, Status
from review_rules.school_days import SchoolCalendar
from sheet_schema.ar_columns import AR_HEADERS, ar_row
from sheet_schema.header import check_required, choose_register, find_header
from sheet_schema.model import Field, HeaderMatch, PupilRecord, ReviewedPupil
from sheet_schema.validate import row_key, validate_rows

from .settings import Settings

log = logging.getLogger("review_keeper.sweep")

# The order a SENDCo wants to read them in: what is late first, what needs nothing last.
URGENCY: tuple[Status, ...] = (
    Status.OVERDUE,
    Status.DUE_SOON,
    Status.INVALID,
    Status.PREPARE,
    Status.ON_TRACK,
    Status.INACTIVE,
)


@dataclass(frozen=True)
class Evaluation:
    """The register understood: where its table is and every pupil's computed review."""

    source: str
    header: HeaderMatch
    pupils: list[ReviewedPupil]
    rows: list[list[CellValue]]


@dataclass
class SweepResult:
    today: date
    evaluation: Evaluation
    dry_run: bool
    write: WriteResult | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def pupils(self) -> list[ReviewedPupil]:
        return self.evaluation.pupils

    def counts(self) -> Counter[Status]:
        return Counter(p.status for p in self.pupils)

    def to_json(self) -> dict[str, Any]:
        """register.md section 7, exactly."""
        out: dict[str, Any] = {"today": self.today.isoformat(), "pupils": [pupil_json(p) for p in self.pupils]}
        out.update(self.extra)
        return out


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d is not None else None


def pupil_json(pupil: ReviewedPupil) -> dict[str, Any]:
    clock = pupil.clock
    record = pupil.record
    out: dict[str, Any] = {
        "row": record.row,
        "name": record.name,
        "upn": record.upn,
        "status": pupil.status.value,
        "window_end": None,
        "meeting_latest": None,
        "meeting_target": None,
        "requests_from": None,
        "contributions_due": None,
        "invites_by": None,
        "nc_year_at_review": None,
        "pfa_required": None,
        "phase_transfer": None,
        "after_meeting": None,
        "errors": list(pupil.errors),
        "warnings": list(pupil.warnings),
    }
    if clock is None:
        return out
    out.update(
        {
            "window_end": _iso(clock.window_end),
            "meeting_latest": _iso(clock.meeting_latest),
            "meeting_target": _iso(clock.meeting_target),
            "requests_from": _iso(clock.requests_from),
            "contributions_due": _iso(clock.contributions_due),
            "invites_by": _iso(clock.invites_by),
            "nc_year_at_review": clock.nc_year_at_review,
            "pfa_required": clock.pfa_required,
        }
    )
    if clock.phase_transfer is not None:
        t = clock.phase_transfer
        out["phase_transfer"] = {
            "transfer_date": _iso(t.transfer_date),
            "final_by": _iso(t.final_by),
            "meeting_latest": _iso(t.meeting_latest),
        }
    if clock.after_meeting is not None:
        a = clock.after_meeting
        out["after_meeting"] = {
            "report_due": _iso(a.report_due),
            "decision_due": _iso(a.decision_due),
            "final_plan_due": _iso(a.final_plan_due),
            "late": list(a.late),
        }
    return out


def _planned_meeting_warning(record: PupilRecord, clock: ReviewClock, header: HeaderMatch) -> str:
    column = header.header_text.get(Field.PLANNED_MEETING, "Planned meeting")
    return (
        f'row {record.row}: "{column}" is {clock.meeting_date:%d/%m/%Y}, after the deadline for this review '
        f"({clock.meeting_latest:%d/%m/%Y}); move the meeting earlier or record why it cannot be."
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
    records = validate_rows(rows, header, today=today)
    calendar = SchoolCalendar(settings.rules.closures)
    pupils = [review_pupil(r, header, today=today, settings=settings, calendar=calendar) for r in records]
    log.info("evaluated %d rows on sheet index %d", len(pupils), [t for t, _ in sheets].index(header.sheet))
    return Evaluation(data.source, header, pupils, rows)


def _cell(value: Any) -> CellWrite:
    return CellWrite(value.value, value.number_format, value.fill)


def _full_key(values: list[CellValue], header: HeaderMatch, duplicated: set[object]) -> object | None:
    key = row_key(values, header)
    if key is None or key not in duplicated:
        return key
    return (
        key,
        tuple("" if values[i] is None else str(values[i]) for i in sorted(header.columns.values()) if i < len(values)),
    )


def write_plan(evaluation: Evaluation, *, today: date, checked_at: datetime, settings: Settings) -> WritePlan:
    """The AR cells for every pupil, keyed the way the adapter will find their rows again at write time."""
    header = evaluation.header
    mapping = settings.headers

    # The adapter calls find_header_row on the sheet as it is at write time, then key_of on each row below it: the
    # SENDCo may have moved columns or rows since the read, so the key columns are located afresh from that header.
    current = {"header": header}

    def find_header_row(rows: list[list[CellValue]]) -> int | None:
        found = find_header(rows, sheet=header.sheet, mapping=mapping)
        if found is None:
            return None
        current["header"] = found
        return found.header_row

    def key_of(values: list[CellValue]) -> object | None:
        return _full_key(values, current["header"], duplicated)

    # Two rows with one key (a duplicated UPN, or the same name and DOB twice) are both INVALID, and each must still
    # show why on its own row: their key is widened with the row's known fields so each is matched to itself.
    base_keys = Counter(
        k for p in evaluation.pupils if (k := row_key(evaluation.rows[p.record.row - 1], header)) is not None
    )
    duplicated = {k for k, n in base_keys.items() if n > 1}
    keyed = [(_full_key(evaluation.rows[p.record.row - 1], header, duplicated), p) for p in evaluation.pupils]
    counts = Counter(k for k, _ in keyed)
    rows: dict[object, dict[str, CellWrite]] = {}
    for key, pupil in keyed:
        if key is None or counts[key] > 1:
            continue  # identical rows: neither can be told apart from the other, so neither is written
        rows[key] = {h: _cell(v) for h, v in ar_row(pupil, today=today, checked_at=checked_at).items()}
    return WritePlan(sheet=header.sheet, headers=AR_HEADERS, find_header_row=find_header_row, key_of=key_of, rows=rows)


def run_sweep(
    register: Register,
    *,
    today: date,
    settings: Settings,
    dry_run: bool = False,
    now: Callable[[], datetime] | None = None,
) -> SweepResult:
    data = register.read()
    evaluation = evaluate(data, today=today, settings=settings)
    result = SweepResult(today=today, evaluation=evaluation, dry_run=dry_run)
    if dry_run:
        return result
    checked_at = (now or _london_now)()
    plan = write_plan(evaluation, today=today, checked_at=checked_at, settings=settings)
    result.write = register.write(plan)
    log.info("wrote %d rows (%d pupils no longer found)", result.write.written_rows, len(result.write.missing_keys))
    return result


def _london_now() -> datetime:
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo("Europe/London"))


def london_today() -> date:
    return _london_now().date()


def ordered_by_urgency(pupils: Sequence[ReviewedPupil]) -> list[ReviewedPupil]:
    rank = {s: i for i, s in enumerate(URGENCY)}

    def sort_key(p: ReviewedPupil) -> tuple[int, date, int]:
        latest = p.clock.meeting_latest if p.clock else date.max
        return (rank[p.status], latest, p.record.row)

    return sorted(pupils, key=sort_key)


__all__ = ["Evaluation", "SweepResult", "evaluate", "run_sweep", "write_plan"]
