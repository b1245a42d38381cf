"""Never LATE without a way to record it (docs/register.md s5, issue 9 item 4): a register row read, its clock computed,
and the "AR after meeting" cell written, for registers with and without the after-meeting columns.

Last meeting H = Wed 20 Nov 2024: report due Wed 4 Dec, LA decision due Wed 18 Dec 2024, H + 84 = Wed 12 Feb 2025."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from review_rules import RuleSettings, compute_review
from sheet_schema.ar_columns import AR_AFTER, after_meeting_text, ar_row
from sheet_schema.header import find_header
from sheet_schema.model import ReviewedPupil
from sheet_schema.validate import read_rows

BASE = ["Name", "DOB", "Last review"]
PUPIL = ["Jo Smith", date(2011, 9, 1), date(2024, 11, 20)]


def after_cell(extra_headers: list[str], extra_cells: list[object], today: date) -> tuple[str, tuple, tuple, object]:
    grid: list[list[object]] = [[*BASE, *extra_headers], [*PUPIL, *extra_cells]]
    header = find_header(grid, sheet="S")
    assert header is not None
    (record,) = read_rows(grid, header, today=today).pupils
    assert record.facts is not None
    clock = compute_review(record.facts, today, RuleSettings())
    pupil = ReviewedPupil(record, clock, clock.status, record.errors, record.warnings)
    cell = ar_row(pupil, today=today, checked_at=datetime(2025, 1, 1, 7))[AR_AFTER]
    assert clock.after_meeting is not None
    assert after_meeting_text(clock, record.facts, today) == cell.value
    return str(cell.value), clock.after_meeting.late, clock.after_meeting.due_without_column, cell.fill


@pytest.mark.parametrize(
    ("headers", "cells", "today", "text", "late"),
    [
        # No after-meeting columns at all: nothing is LATE; each passed step says which column to add.
        ([], [], date(2024, 12, 19),
         "LA decision was due Wed 18 Dec 2024: add a column 'LA decision date' to record it; "
         "Report to LA was due Wed 4 Dec 2024: add a column 'Report sent' to record it", ()),
        ([], [], date(2024, 12, 10),
         "Report to LA was due Wed 4 Dec 2024: add a column 'Report sent' to record it", ()),
        ([], [], date(2024, 12, 1), "Report to LA due Wed 4 Dec 2024", ()),
        # A Report sent column but no LA decision column.
        (["Report sent"], [None], date(2024, 12, 19),
         "REPORT LATE (due Wed 4 Dec 2024); LA decision was due Wed 18 Dec 2024: add a column 'LA decision date' to "
         "record it", ("report_due",)),
        (["Report sent"], [date(2024, 12, 2)], date(2024, 12, 19),
         "LA decision was due Wed 18 Dec 2024: add a column 'LA decision date' to record it", ()),
        # Both columns: LATE as before.
        (["Report sent", "LA decision date"], [date(2024, 12, 2), None], date(2024, 12, 19),
         "LA DECISION LATE (due Wed 18 Dec 2024)", ("decision_due",)),
        # An amend decision with no Final amended plan column.
        (["Report sent", "LA decision date", "Decision"], [date(2024, 12, 2), date(2024, 12, 12), "Amend"],
         date(2025, 2, 13),
         "Amended plan was due Wed 12 Feb 2025: add a column 'Final amended plan' to record it", ()),
        # A report sent before the meeting is the last cycle's: this cycle's report is late.
        (["Report sent", "LA decision date"], [date(2024, 11, 1), date(2024, 12, 12)], date(2024, 12, 19),
         "REPORT LATE (due Wed 4 Dec 2024)", ("report_due",)),
    ],
)  # fmt: skip
def test_after_meeting_cell(headers: list[str], cells: list[object], today: date, text: str, late: tuple) -> None:
    shown, computed_late, _, fill = after_cell(headers, cells, today)
    assert shown == text
    assert computed_late == late
    assert fill is None  # never coloured, late or not


def test_without_a_column_the_step_is_listed_apart_not_late() -> None:
    _, late, without, _ = after_cell([], [], date(2025, 3, 1))
    assert late == ()
    assert without == ("report_due", "decision_due")
