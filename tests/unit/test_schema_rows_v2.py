"""Register rows, rules v2 (docs/register.md s1, s3, s4; 2026-11-29): rows that are not pupils, placeholders, email
addresses that are not addresses, planned meeting dates to look at, after-meeting dates from the previous cycle."""

from __future__ import annotations

from datetime import date

import pytest

from review_rules.model import Decision
from review_rules.school_days import SchoolCalendar
from sheet_schema.header import find_header
from sheet_schema.model import HeaderMatch, PupilRecord
from sheet_schema.validate import not_pupils_note, read_rows, row_key

TODAY = date(2025, 10, 1)
HEADERS = ["Pupil name", "D.O.B.", "EHCP issued", "Last AR", "UPN", "Next AR", "Report sent", "LA decision date",
           "Outcome", "Proposed amendments", "Final amended plan", "Parent email", "Notes"]  # fmt: skip
KEYS = dict(zip(["name", "dob", "issued", "last", "upn", "next", "report", "decided", "outcome", "notice", "final",
                 "email", "notes"], range(len(HEADERS)), strict=True))  # fmt: skip


def make_row(**cells: object) -> list[object]:
    row: list[object] = [None] * len(HEADERS)
    for key, value in cells.items():
        row[KEYS[key]] = value
    return row


def good(**over: object) -> list[object]:
    cells: dict[str, object] = {"name": "Jo Smith", "dob": "01/09/2011", "last": "12/11/2024"}
    cells.update(over)
    return make_row(**cells)


def grid_of(*rows: list[object], headers: list[str] = HEADERS) -> tuple[list[list[object]], HeaderMatch]:
    grid: list[list[object]] = [["Oakfield register"], [], list(headers), *rows]
    header = find_header(grid, sheet="Register")
    assert header is not None
    assert header.header_row == 3
    return grid, header


def one(row: list[object], calendar: SchoolCalendar | None = None) -> PupilRecord:
    grid, header = grid_of(row)
    (record,) = read_rows(grid, header, today=TODAY, calendar=calendar).pupils
    return record


# --- s1: rows that are not pupils ------------------------------------------------------------------------------------


def test_rows_that_are_not_pupils_are_skipped_and_counted() -> None:
    grid, header = grid_of(
        make_row(name="Year 7"),  # 4: a section heading inside the table
        good(),  # 5: a pupil
        make_row(notes="Total: 12 pupils"),  # 6: a totals row in an unknown column
        make_row(upn=12),  # 7: a count under the UPN column
        [],  # 8: blank: silent
        make_row(name="Key: red = overdue, amber = due soon"),  # 9: a key below the table
        make_row(name="Ann Lee", notes="joins in January"),  # 10: a name and a note only: no field of the register
        make_row(dob="01/09/2012", upn="B801200005001"),  # 11: details but no name: an error on the row
        make_row(name="Total", upn=12),  # 12: a totals row with its count beside it
        make_row(name="Year 10 ", next="TBC"),  # 13: a heading with a note in a known column
        make_row(name="Total", dob="01/09/2011", last="12/11/2024"),  # 14: a pupil named so, with a DOB: a pupil
    )
    found = read_rows(grid, header, today=TODAY)
    assert [r.row for r in found.pupils] == [5, 11, 14]
    assert found.not_pupils == (4, 6, 7, 9, 10, 12, 13)
    # Never written to: the write finds no key on them (a lone UPN cannot pass for its pupil's row).
    assert [row_key(grid[r - 1], header) for r in found.not_pupils] == [None] * len(found.not_pupils)
    assert row_key(make_row(upn="B801200005001"), header) is None
    assert found.pupils[1].errors[0].startswith('row 11: "Pupil name" is blank, but the row has other details.')


def test_product_columns_do_not_make_a_row_a_pupil() -> None:
    grid, header = grid_of(make_row(name="Year 8"), headers=[*HEADERS, "AR status"])
    grid[3].append("OVERDUE")
    assert read_rows(grid, header, today=TODAY).not_pupils == (4,)


@pytest.mark.parametrize(
    ("rows", "sentence"),
    [
        ((), ""),
        ((41,), '1 row is not a pupil: row 41. Skipped and not written to: a pupil row has a name and at least one '
                'other detail (a footnote, a heading such as "Year 7" or a totals row has one cell only).'),
        ((41, 42), "2 rows are not pupils: rows 41 and 42. Skipped"),
        (tuple(range(1, 13)), "12 rows are not pupils: rows 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 2 more. Skipped"),
    ],
)  # fmt: skip
def test_not_pupils_note(rows: tuple[int, ...], sentence: str) -> None:
    assert not_pupils_note(rows).startswith(sentence)
    if not rows:
        assert not_pupils_note(rows) == ""


# --- s3: placeholders ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cells", "warning"),
    [
        ({"next": "TBC"}, 'row 4: "Next AR" is "TBC": read as no date yet.'),
        ({"next": " to be confirmed. "}, 'row 4: "Next AR" is "to be confirmed.": read as no date yet.'),
        ({"report": "?"}, 'row 4: "Report sent" is "?": read as no date yet.'),
        ({"final": "Awaiting"}, 'row 4: "Final amended plan" is "Awaiting": read as no date yet.'),
        ({"outcome": "pending"}, 'row 4: "Outcome" is "pending": read as no decision yet.'),
        ({"outcome": "Not yet."}, 'row 4: "Outcome" is "Not yet.": read as no decision yet.'),
        ({"last": "n/a", "issued": "15/03/2025"}, 'row 4: "Last AR" is "n/a": read as no date yet.'),
    ],
)
def test_placeholders_read_as_blank_with_a_warning(cells: dict[str, object], warning: str) -> None:
    record = one(good(**cells))
    assert record.errors == ()
    assert record.warnings == (warning,)
    assert record.facts is not None
    assert record.facts.planned_meeting is None
    assert record.facts.decision is None


def test_a_placeholder_date_of_birth_is_still_an_error() -> None:
    record = one(good(dob="TBC"))
    assert record.errors == (
        'row 4: "D.O.B." is "TBC", which is not a date: the review dates need it. Type the pupil\'s date of birth, '
        "e.g. 14/09/2012.",
    )
    assert not record.valid


def test_placeholders_in_both_anchor_dates_leave_the_row_without_an_anchor() -> None:
    record = one(good(last="TBC", issued="tba"))
    assert len(record.warnings) == 2
    assert record.errors == (
        'row 4: "EHCP issued" and "Last AR" are both blank. Type the date the plan was issued or the date of the '
        "last annual review meeting.",
    )


# --- s4: email addresses ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["jsmith@example", "N/A", "mum and dad", "a@x.org, b@y.org"])
def test_a_parent_email_that_is_not_an_address_is_named(cell: str) -> None:
    record = one(good(email=cell))
    assert record.valid
    assert record.parent_email is None
    (warning,) = record.warnings
    assert warning.startswith(f'row 4: "Parent email" is "{cell}", which is not ')
    assert warning.endswith("nobody is emailed there until then.")


def test_a_good_parent_email_is_kept() -> None:
    record = one(good(email=" parent@example.org "))
    assert record.parent_email == "parent@example.org"
    assert record.warnings == ()


# --- s4: planned meetings --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("planned", "calendar", "why"),
    [
        ("07/03/2026", None, "Sat 7 Mar 2026, a Saturday, not a school day."),
        ("25/05/2026", None, "Mon 25 May 2026, a bank holiday, not a school day."),
        ("22/12/2025", None, "Mon 22 Dec 2025, in a school closure (holidays), not a school day."),
        ("16/02/2026", SchoolCalendar(((date(2026, 2, 16), date(2026, 2, 20)),)),
         "Mon 16 Feb 2026, in a school closure (holidays), not a school day."),
    ],
)  # fmt: skip
def test_a_planned_meeting_on_a_day_the_school_is_shut(planned: str, calendar: SchoolCalendar | None, why: str) -> None:
    record = one(good(next=planned), calendar)
    assert record.warnings == (f'row 4: "Next AR" is {why} Check the date, or move the meeting to a school day.',)


def test_half_term_is_a_school_day_without_term_dates() -> None:
    assert one(good(next="16/02/2026")).warnings == ()


@pytest.mark.parametrize(
    ("last", "planned", "warned"),
    [
        ("12/11/2024", "15/09/2025", True),  # held? nothing later recorded
        (None, "15/09/2025", True),  # plan issued only
        ("15/09/2025", "15/09/2025", False),  # recorded as held that day
        ("12/11/2024", "01/10/2025", False),  # today: not yet passed
        ("12/11/2024", "20/10/2025", False),
    ],
)
def test_a_planned_meeting_that_has_passed(last: str | None, planned: str, warned: bool) -> None:
    record = one(good(last=last, issued="15/03/2024", next=planned))
    expected = (
        'row 4: "Next AR" is Mon 15 Sep 2025, which has passed, and no later last review is recorded. Record it as '
        'the last review once held (in "Last AR"), or re-book.'
    )
    assert record.warnings == ((expected,) if warned else ())


# --- s4 / rules s8: after-meeting dates from the previous cycle ------------------------------------------------------


def test_after_meeting_dates_before_the_last_meeting_belong_to_the_previous_cycle() -> None:
    record = one(
        good(report="01/11/2024", decided="20/10/2024", outcome="Amend", notice="01/11/2024", final="12/11/2024",
             last="12/11/2024")
    )  # fmt: skip
    assert record.valid
    assert record.facts is not None
    f = record.facts
    assert (f.report_sent, f.la_decision, f.decision, f.amendment_notice, f.final_plan) == (
        None, None, None, None, date(2024, 11, 12)
    )  # fmt: skip
    assert [w.split(" (", 1)[0] for w in record.warnings] == [
        'row 4: "Report sent"',
        'row 4: "LA decision date"',
        'row 4: "Proposed amendments"',
    ]
    assert record.warnings[1] == (
        'row 4: "LA decision date" (20/10/2024) is earlier than "Last AR" (12/11/2024), so it belongs to the previous '
        'review and does not count for this one, and "Outcome" with it. Record this review\'s date when it comes, or '
        "check both dates."
    )


def test_an_outcome_without_a_decision_date_is_kept() -> None:
    record = one(good(outcome="Amend"))
    assert record.facts is not None
    assert record.facts.decision is Decision.AMEND
    assert record.warnings == ()


def test_steps_without_a_column_are_named_in_the_facts() -> None:
    grid, header = grid_of(good()[:4], headers=HEADERS[:4])
    (record,) = read_rows(grid, header, today=TODAY).pupils
    assert record.facts is not None
    assert record.facts.no_column_for == frozenset({"report_due", "decision_due", "final_plan_due"})
    assert one(good()).facts.no_column_for == frozenset()  # type: ignore[union-attr]
