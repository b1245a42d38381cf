"""Register rows into validated pupil records (docs/register.md s4).

One bad row never stops the run: a row with errors becomes an INVALID record carrying its messages, and every other
row is still read. Every message names the sheet row, the column as the SENDCo wrote it, and what to do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from review_rules.model import Decision, ReviewFacts
from review_rules.school_days import SchoolCalendar, calendar_for
from review_rules.year_groups import age_on, nc_year_from_dob

from .cells import (
    CellError,
    Placeholder,
    cell_text,
    is_blank,
    parse_date,
    parse_decision,
    parse_email,
    parse_flag,
    parse_on_roll,
    parse_upn,
    parse_year,
)
from .model import Field, HeaderMatch, PupilRecord
from .row_checks import (
    NAME_FIELDS,
    is_pupil_row,
    label,
    not_pupils_note,
    placeholder_words,
    planned_meeting_warnings,
    previous_cycle,
    row_list,
)

# An EHC plan can be kept until the end of the academic year in which the young person turns 25 (CFA 2014 s46).
MAX_AGE = 25

# The dates a review can sensibly have: EHC plans began in 2014 and statements long before, so 1990 is generous; 2100
# catches a year typed wrongly (31/12/9999). Outside this range a date is a typing slip, and the clock's arithmetic
# (12 months on, school days back) would run off the calendar. The date of birth has its own checks (age 0 to 25).
EARLIEST_DATE = date(1990, 1, 1)
LATEST_DATE = date(2100, 12, 31)

# What to type, per date column, in the SENDCo's words.
DATE_ADVICE: dict[Field, str] = {
    Field.DOB: "Type the pupil's date of birth, e.g. 14/09/2012.",
    Field.PLAN_ISSUED: "Type the date the EHC plan was issued, e.g. 03/04/2025.",
    Field.LAST_REVIEW: "Type the date of the last annual review meeting, e.g. 03/04/2025.",
    Field.PLANNED_MEETING: "Type the date of the next review meeting, e.g. 03/04/2025, or leave it blank.",
    Field.REPORT_SENT: "Type the date the review report went to the LA, e.g. 03/04/2025, or leave it blank.",
    Field.LA_DECISION: "Type the date of the LA's decision letter, e.g. 03/04/2025, or leave it blank.",
    Field.AMENDMENT_NOTICE: "Type the date the LA sent the proposed amendments, e.g. 03/04/2025, or leave it blank.",
    Field.FINAL_PLAN: "Type the date the final amended plan was issued, e.g. 03/04/2025, or leave it blank.",
    Field.TRANSFER_DATE: "Type the date the pupil moves to the next phase, e.g. 01/09/2026, or leave it blank.",
}
_DATE_ORDER = tuple(DATE_ADVICE)
# The column that records each after-meeting step; without it the step is never called late (docs/register.md s5).
STEP_COLUMNS: dict[str, Field] = {
    "report_due": Field.REPORT_SENT,
    "decision_due": Field.LA_DECISION,
    "final_plan_due": Field.FINAL_PLAN,
}
_MIS_ADVICE = "Check it against the pupil's record in your MIS."


@dataclass
class _Draft:
    row: int
    name: str
    first_name: str
    surname_initial: str
    upn: str | None = None
    facts: ReviewFacts | None = None
    la: str | None = None
    parent_email: str | None = None
    looked_after: bool = False
    la_ref: str | None = None
    young_person_email: str | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def record(self) -> PupilRecord:
        return PupilRecord(
            row=self.row,
            name=self.name,
            first_name=self.first_name,
            surname_initial=self.surname_initial,
            upn=self.upn,
            facts=None if self.errors else self.facts,
            la=self.la,
            parent_email=self.parent_email,
            looked_after=self.looked_after,
            la_ref=self.la_ref,
            young_person_email=self.young_person_email,
            errors=tuple(self.errors),
            warnings=tuple(self.warnings),
        )


def _cell(values: list[object], header: HeaderMatch, wanted: Field) -> object:
    column = header.columns.get(wanted)
    if column is None or column >= len(values):
        return None
    return values[column]


def _text_or_none(value: object) -> str | None:
    return None if is_blank(value) else cell_text(value)


def _initial(text: str) -> str:
    letter = next((ch for ch in text if ch.isalpha()), "")
    return f"{letter.upper()}." if letter else ""


def _first_word(text: str) -> str:
    words = text.split()
    return words[0] if words else ""


def _names(values: list[object], header: HeaderMatch) -> tuple[str, str, str]:
    """(name as written, first name, surname initial). A full name written "Surname, Forename" is read that way."""
    full = _text_or_none(_cell(values, header, Field.NAME)) or ""
    forename = _text_or_none(_cell(values, header, Field.FORENAME)) or ""
    surname = _text_or_none(_cell(values, header, Field.SURNAME)) or ""
    name = full or " ".join(part for part in (forename, surname) if part)
    first, initial = "", ""
    if full:
        before, comma, after = full.partition(",")
        if comma and after.strip():
            first, initial = _first_word(after), _initial(before)
        else:
            words = full.replace(",", " ").split()
            first = words[0] if words else ""
            initial = _initial(words[-1]) if len(words) > 1 else ""
    if forename:
        first = _first_word(forename)
    if surname:
        initial = _initial(surname)
    if not first:
        first = _first_word(name)
    return name, first, initial


def _has_known_data(values: list[object], header: HeaderMatch) -> bool:
    return any(not is_blank(values[col]) for col in header.columns.values() if col < len(values))


def _year_name(year: int) -> str:
    return {-2: "N1", -1: "Nursery", 0: "Reception"}.get(year, f"Year {year}")


def _check_row(
    values: list[object], row: int, header: HeaderMatch, today: date, year_warnings: bool, calendar: SchoolCalendar
) -> _Draft:
    name, first_name, surname_initial = _names(values, header)
    draft = _Draft(row=row, name=name, first_name=first_name, surname_initial=surname_initial)

    def say(wanted: Field, text: str) -> str:
        return f'row {row}: "{label(header, wanted)}" {text}'

    errors, warnings = draft.errors, draft.warnings
    if not name:
        present = [f for f in NAME_FIELDS if f in header.columns]
        if Field.NAME in present or len(present) != 2:
            errors.append(
                say(Field.NAME if Field.NAME in present or not present else present[0], "is blank")
                + ", but the row has other details. Type the pupil's name, or clear the row if it is not a pupil."
            )
        else:
            errors.append(
                f'row {row}: "{label(header, Field.FORENAME)}" and "{label(header, Field.SURNAME)}" are blank, but '
                "the row has other details. Type the pupil's name, or clear the row if it is not a pupil."
            )

    dates: dict[Field, date | None] = {}
    unreadable: set[Field] = set()
    for wanted in _DATE_ORDER:
        try:
            dates[wanted] = parse_date(_cell(values, header, wanted))
        except Placeholder as problem:
            dates[wanted] = None
            if wanted is Field.DOB:
                # The clock cannot run without the date of birth, so "TBC" there stays an error (docs/register.md s3).
                unreadable.add(wanted)
                errors.append(f"{say(wanted, str(problem))}: the review dates need it. {DATE_ADVICE[wanted]}")
            else:
                warnings.append(f"{say(wanted, placeholder_words(problem))}: read as no date yet.")
            continue
        except CellError as problem:
            dates[wanted] = None
            unreadable.add(wanted)
            errors.append(f"{say(wanted, str(problem))}. {DATE_ADVICE[wanted]}")
            continue
        held = dates[wanted]
        if wanted is not Field.DOB and held is not None and not EARLIEST_DATE <= held <= LATEST_DATE:
            dates[wanted] = None
            unreadable.add(wanted)
            errors.append(
                say(
                    wanted,
                    f"is {held.day:02d}/{held.month:02d}/{held.year:04d}, which cannot be right (dates here run ",
                )
                + f"from {EARLIEST_DATE.year} to {LATEST_DATE.year}); check the year. {DATE_ADVICE[wanted]}"
            )

    dob = dates[Field.DOB]
    dob_ok = False
    if dob is None and Field.DOB not in unreadable:
        if Field.DOB in header.columns:
            errors.append(f"{say(Field.DOB, 'is blank')}. {DATE_ADVICE[Field.DOB]}")
        else:
            errors.append(f"{say(Field.DOB, 'column is missing')}. Add a date of birth column to the register.")
    elif dob is not None:
        if dob > today:
            errors.append(say(Field.DOB, "is in the future. Check the pupil's date of birth and correct it."))
        elif age_on(dob, today) > MAX_AGE:
            errors.append(
                say(Field.DOB, f"makes the pupil older than {MAX_AGE}, past the age an EHC plan can last.")
                + " Check the date of birth, or mark the pupil as no longer on roll."
            )
        else:
            dob_ok = True

    plan_issued, last_review = dates[Field.PLAN_ISSUED], dates[Field.LAST_REVIEW]
    if dob is not None and dob_ok:  # with an impossible date of birth, that date is the one to fix
        for wanted in (Field.PLAN_ISSUED, Field.LAST_REVIEW):
            held = dates[wanted]
            if held is not None and held < dob:
                errors.append(
                    say(wanted, f'is before the date of birth in "{label(header, Field.DOB)}".') + " Check both dates."
                )
    if last_review is not None and last_review > today:
        # The usual slip: the date of the meeting being booked typed where the meeting already held belongs.
        if Field.PLANNED_MEETING in header.columns:
            where = f'"{label(header, Field.PLANNED_MEETING)}"'
        else:
            where = "a Next review meeting column"
        errors.append(
            say(Field.LAST_REVIEW, f"({last_review:%d/%m/%Y}) is in the future, so it looks like the planned date:")
            + f' put it in {where}, and type in "{label(header, Field.LAST_REVIEW)}" the date of the last'
            + " meeting already held."
        )
    if plan_issued is None and last_review is None and not unreadable & {Field.PLAN_ISSUED, Field.LAST_REVIEW}:
        present = [f for f in (Field.PLAN_ISSUED, Field.LAST_REVIEW) if f in header.columns] or [Field.PLAN_ISSUED]
        if len(present) == 2:
            errors.append(
                f'row {row}: "{label(header, Field.PLAN_ISSUED)}" and "{label(header, Field.LAST_REVIEW)}" are both '
                "blank. Type the date the plan was issued or the date of the last annual review meeting."
            )
        else:
            errors.append(f"{say(present[0], 'is blank')}. {DATE_ADVICE[present[0]]}")

    decision: Decision | None = None
    try:
        decision = parse_decision(_cell(values, header, Field.DECISION))
    except Placeholder as problem:
        warnings.append(f"{say(Field.DECISION, placeholder_words(problem))}: read as no decision yet.")
    except CellError as problem:
        errors.append(
            f"{say(Field.DECISION, str(problem))}. Type Maintain, Amend or Cease, or leave it blank until the LA decides."
        )

    upn, upn_problem = parse_upn(_cell(values, header, Field.UPN))
    draft.upn = upn
    if upn_problem:
        warnings.append(f"{say(Field.UPN, upn_problem)}. {_MIS_ADVICE}")

    recorded_year: int | None = None
    try:
        recorded_year = parse_year(_cell(values, header, Field.YEAR))
    except CellError as problem:
        warnings.append(
            f"{say(Field.YEAR, str(problem))}. Type a year such as 9, R for Reception or N for Nursery; until then the "
            "year is worked out from the date of birth."
        )
    if year_warnings and recorded_year is not None and dob is not None and dob_ok:
        derived = nc_year_from_dob(dob, today)
        if derived != recorded_year:
            warnings.append(
                say(Field.YEAR, f"says {_year_name(recorded_year)}, but the date of birth puts the pupil in ")
                + f"{_year_name(derived)} this school year. If the pupil is taught out of year group, leave it; "
                f'otherwise correct "{label(header, Field.YEAR)}".'
            )

    if last_review is not None:
        decision = previous_cycle(dates, decision, last_review, header, say, warnings)
    la_decision = dates[Field.LA_DECISION]
    warnings.extend(planned_meeting_warnings(dates[Field.PLANNED_MEETING], last_review, today, calendar, header, say))

    draft.la = _text_or_none(_cell(values, header, Field.LA))
    try:
        draft.parent_email = parse_email(_cell(values, header, Field.PARENT_EMAIL))
    except CellError as problem:
        # Named, never silently dropped: nobody is emailed there until it is fixed (docs/register.md s4).
        warnings.append(
            f"{say(Field.PARENT_EMAIL, str(problem))}. Type one address such as name@example.org; nobody is emailed "
            "there until then."
        )
    draft.la_ref = _text_or_none(_cell(values, header, Field.LA_REF))
    try:
        draft.young_person_email = parse_email(_cell(values, header, Field.YOUNG_PERSON_EMAIL))
    except CellError as problem:
        warnings.append(
            f"{say(Field.YOUNG_PERSON_EMAIL, str(problem))}. Type one address; nobody is emailed there until then."
        )
    draft.looked_after = parse_flag(_cell(values, header, Field.LOOKED_AFTER))
    inactive = not parse_on_roll(_cell(values, header, Field.ON_ROLL))
    if dob is not None and not errors:
        draft.facts = ReviewFacts(
            dob=dob,
            plan_issued=plan_issued,
            last_review=last_review,
            la_decision=la_decision,
            decision=decision,
            amendment_notice=dates[Field.AMENDMENT_NOTICE],
            final_plan=dates[Field.FINAL_PLAN],
            report_sent=dates[Field.REPORT_SENT],
            planned_meeting=dates[Field.PLANNED_MEETING],
            recorded_year=recorded_year,
            transfer_date=dates[Field.TRANSFER_DATE],
            inactive=inactive,
            no_column_for=frozenset(step for step, column in STEP_COLUMNS.items() if column not in header.columns),
        )
    return draft


@dataclass(frozen=True)
class RegisterRows:
    """The rows below the header: the pupils, and the rows that are not pupils (docs/register.md s1), which are
    skipped, never written to, and named once in the summary."""

    pupils: tuple[PupilRecord, ...]
    not_pupils: tuple[int, ...]  # sheet row numbers (1-based)


def read_rows(
    rows: Sequence[Sequence[object]],
    header: HeaderMatch,
    *,
    today: date,
    recorded_year_warnings: bool = True,
    calendar: SchoolCalendar | None = None,
) -> RegisterRows:
    """Every pupil row below the header, in sheet order, as a PupilRecord, and the row numbers of rows that are not
    pupils. Blank rows are skipped silently. `calendar` (the school's closures) decides whether a planned meeting
    falls on a school day; by default the spec's default closures."""
    cal = calendar if calendar is not None else calendar_for(None)
    drafts: list[_Draft] = []
    not_pupils: list[int] = []
    rows_by_upn: dict[str, list[int]] = {}
    for index in range(header.header_row, len(rows)):
        values = list(rows[index] or [])
        kind = is_pupil_row(values, header)
        if kind is False:
            not_pupils.append(index + 1)
            continue
        if kind is None and not _has_known_data(values, header):
            continue
        draft = _check_row(values, index + 1, header, today, recorded_year_warnings, cal)
        drafts.append(draft)
        if draft.upn is not None:
            rows_by_upn.setdefault(draft.upn, []).append(draft.row)
    for draft in drafts:
        same = rows_by_upn.get(draft.upn or "", [])
        if len(same) > 1:
            others = [r for r in same if r != draft.row]
            draft.errors.append(
                f'row {draft.row}: "{label(header, Field.UPN)}" is the same as on {row_list(others)}. '
                "Each pupil has their own UPN: check these rows against your MIS."
            )
    return RegisterRows(tuple(draft.record() for draft in drafts), tuple(not_pupils))


def validate_rows(
    rows: Sequence[Sequence[object]],
    header: HeaderMatch,
    *,
    today: date,
    recorded_year_warnings: bool = True,
    calendar: SchoolCalendar | None = None,
) -> list[PupilRecord]:
    """The pupil records of `read_rows` (rows that are not pupils are left out)."""
    found = read_rows(rows, header, today=today, recorded_year_warnings=recorded_year_warnings, calendar=calendar)
    return list(found.pupils)


def row_key(values: Sequence[object], header: HeaderMatch) -> tuple | None:
    """The key that finds a pupil's row again at write time, wherever the SENDCo has moved it (docs/register.md s5):
    ("upn", UPN) when a UPN reads (even with a bad check letter); else ("name", name, date of birth as ISO or as typed);
    else ("content", the known columns as text) for a row with data but no name; None for a blank row and for a row
    that is not a pupil."""
    values = list(values or [])
    if not _has_known_data(values, header) or is_pupil_row(values, header) is False:
        return None  # a row that is not a pupil is never written to (docs/register.md s1)
    upn, _ = parse_upn(_cell(values, header, Field.UPN))
    if upn is not None:
        return ("upn", upn)
    name, _, _ = _names(values, header)
    if name:
        raw_dob = _cell(values, header, Field.DOB)
        try:
            dob = parse_date(raw_dob)
            dob_text = dob.isoformat() if dob is not None else ""
        except CellError:
            dob_text = cell_text(raw_dob)
        return ("name", " ".join(name.split()).casefold(), dob_text)
    # In field order, not column order: columns may have moved between the read and the write.
    columns = [c for _, c in sorted(header.columns.items(), key=lambda item: item[0].value)]
    return ("content", tuple(cell_text(values[c]) if c < len(values) else "" for c in columns))


__all__ = ["STEP_COLUMNS", "RegisterRows", "not_pupils_note", "read_rows", "row_key", "validate_rows"]
