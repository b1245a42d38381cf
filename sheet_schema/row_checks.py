"""Row checks beside validate.py (docs/register.md s1, s4; docs/rules.md s8): which rows are pupils, after-meeting
dates from the previous cycle, planned meeting dates the SENDCo should look at, and the sentences that say so."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date

from review_rules.dates import format_date
from review_rules.model import Decision
from review_rules.school_days import SchoolCalendar, bank_holidays

from .cells import Placeholder, cell_text, is_blank
from .fields import FIELD_LABELS
from .model import Field, HeaderMatch

NAME_FIELDS = (Field.NAME, Field.FORENAME, Field.SURNAME)
# Text in the name column that heads or totals a block of rows rather than naming a pupil.
_HEADING = re.compile(
    r"\s*(?:(?:grand\s+|sub-?\s*)?totals?\b.*|count(?:\s*:.*)?|number of pupils.*|key(?:\s*:.*)?|notes?\s*:.*"
    r"|(?:year|yr|y)\s*-?\d{1,2}\b.*|reception\b.*|nursery\b.*|key stage\s*\d.*|ks\s*\d.*|sixth form\b.*)\s*"
)
# After-meeting dates (docs/rules.md s8): one earlier than the last meeting belongs to the previous cycle.
AFTER_MEETING_DATES = (Field.REPORT_SENT, Field.LA_DECISION, Field.AMENDMENT_NOTICE, Field.FINAL_PLAN)


def label(header: HeaderMatch, wanted: Field) -> str:
    return header.header_text.get(wanted, FIELD_LABELS[wanted])


def row_list(rows: list[int]) -> str:
    if len(rows) == 1:
        return f"row {rows[0]}"
    return "rows " + ", ".join(str(r) for r in rows[:-1]) + f" and {rows[-1]}"


def placeholder_words(problem: Placeholder) -> str:
    """'is "TBC", which is not a date' -> 'is "TBC"' (the warning then says how it is read)."""
    return str(problem).split(", which is not", 1)[0]


def previous_cycle(
    dates: dict[Field, date | None],
    decision: Decision | None,
    held: date,
    header: HeaderMatch,
    say: Callable[[Field, str], str],
    warnings: list[str],
) -> Decision | None:
    """After-meeting dates earlier than the last meeting belong to the previous cycle (docs/rules.md s8): each is read
    as blank for this cycle, with a warning; an outcome decided before the meeting is the previous one too."""
    last = label(header, Field.LAST_REVIEW)
    for wanted in AFTER_MEETING_DATES:
        recorded = dates[wanted]
        if recorded is None or recorded >= held:
            continue
        dates[wanted] = None
        outcome = ""
        if wanted is Field.LA_DECISION and decision is not None:
            outcome = f', and "{label(header, Field.DECISION)}" with it'
            decision = None
        warnings.append(
            say(wanted, f'({recorded:%d/%m/%Y}) is earlier than "{last}" ({held:%d/%m/%Y}), so it belongs to the ')
            + f"previous review and does not count for this one{outcome}. Record this review's date when it comes, "
            "or check both dates."
        )
    return decision


def planned_meeting_warnings(
    planned: date | None,
    last_review: date | None,
    today: date,
    calendar: SchoolCalendar,
    header: HeaderMatch,
    say: Callable[[Field, str], str],
) -> list[str]:
    """A planned meeting on a day the school is shut, or already past with no later review recorded (docs/register.md
    s4). Warnings only: the SENDCo may know better (a Saturday meeting is unusual, not unlawful)."""
    if planned is None:
        return []
    out: list[str] = []
    when = format_date(planned)
    if not calendar.is_school_day(planned):
        if planned.weekday() >= 5:
            why = f"a {planned:%A}"
        elif planned in bank_holidays(planned.year):
            why = "a bank holiday"
        else:
            why = "in a school closure (holidays)"
        out.append(
            say(Field.PLANNED_MEETING, f"is {when}, {why}, not a school day.")
            + " Check the date, or move the meeting to a school day."
        )
    if planned < today and (last_review is None or last_review < planned):
        out.append(
            say(Field.PLANNED_MEETING, f"is {when}, which has passed, and no later last review is recorded.")
            + f' Record it as the last review once held (in "{label(header, Field.LAST_REVIEW)}"), or re-book.'
        )
    return out


def is_pupil_row(values: list[object], header: HeaderMatch) -> bool | None:
    """True for a pupil row, False for a row that is not a pupil, None for a blank row or a row with data but no name
    (which is an error on that row) (docs/register.md s1). A pupil row has a name and at least one other field of the
    register; a row with text in one cell only (a footnote, a key, a heading such as "Year 7", a total) never is."""
    product, name_columns, known = header.row_sets  # worked out once per header: called for every row (issue 16)
    width = len(values)
    names_at, fields_at = header.name_and_field_columns
    # The usual row, a pupil's, is recognised from its name and one other field alone (issue 16: every cell of every
    # row was looked at before); anything else goes through every cell below.
    if not (
        any(not is_blank(values[i]) for i in names_at if i < width)
        and any(not is_blank(values[i]) for i in fields_at if i < width)
    ):
        filled = [i for i, v in enumerate(values) if v is not None and i not in product and not is_blank(v)]
        if not filled:
            return None
        has_name = any(i in name_columns for i in filled)
        other_fields = any(i in known and i not in name_columns for i in filled)
        if not has_name and len(filled) > 1 and other_fields:
            return None  # data but no name: validated, so the missing name is reported on the row
        return False
    names = " ".join(cell_text(values[i]) for i in sorted(name_columns) if i < width).casefold()
    dob_column = header.columns.get(Field.DOB)
    no_dob = dob_column is None or dob_column >= width or is_blank(values[dob_column])
    # A heading or totals row with a count beside it ("Total | 12", "Year 7 | 7") is not a pupil either, though it
    # has two cells: its "name" is a heading and it has no date of birth.
    return not (no_dob and _HEADING.fullmatch(names))


def not_pupils_note(rows: Sequence[int]) -> str:
    """One sentence for the summary naming the rows that are not pupils; "" when there are none."""
    if not rows:
        return ""
    shown = list(rows[:10])
    more = f" and {len(rows) - len(shown)} more" if len(rows) > len(shown) else ""
    listed = row_list(shown) if not more else "rows " + ", ".join(str(r) for r in shown) + more
    verb = "1 row is not a pupil" if len(rows) == 1 else f"{len(rows)} rows are not pupils"
    return (
        f"{verb}: {listed}. Skipped and not written to: a pupil row has a name and at least one other detail "
        '(a footnote, a heading such as "Year 7" or a totals row has one cell only).'
    )
