"""The product's columns for one pupil: the next action and the LA clock in plain words (register.md section 5).
Clocks are literal (tests/mail_fixtures.py): meeting due by Fri 14 Nov 2025, requests from Mon 6 Oct, contributions
due Fri 24 Oct, invitations by Fri 31 Oct."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest

from review_rules.model import AfterMeeting, ReviewFacts, Status
from sheet_schema.ar_columns import AR_HEADERS, after_meeting_text, ar_row, next_action
from tests.mail_fixtures import DOB, clock, pupil

FACTS = ReviewFacts(dob=DOB, last_review=date(2024, 11, 20))
# The last meeting on Wed 20 Nov 2024: report due Wed 4 Dec, LA decision due Wed 18 Dec.
AFTER = AfterMeeting(date(2024, 11, 20), date(2024, 12, 4), date(2024, 12, 18), None, ())


@pytest.mark.parametrize(
    ("today", "status", "planned", "expected"),
    [
        (date(2025, 9, 1), Status.ON_TRACK, False, "Request advice from Mon 6 Oct 2025"),
        (date(2025, 10, 6), Status.PREPARE, False, "Book the meeting (hold by Fri 14 Nov 2025) and request advice now"),
        (date(2025, 10, 6), Status.PREPARE, True, "Collect advice by Fri 24 Oct 2025"),
        (date(2025, 10, 27), Status.DUE_SOON, True, "Send invitations and papers by Fri 31 Oct 2025"),
        (date(2025, 11, 3), Status.DUE_SOON, True, "Hold the review meeting on Fri 14 Nov 2025"),
        (date(2025, 11, 17), Status.OVERDUE, False, "Hold the review meeting as soon as possible (was due by Fri 14 Nov 2025)"),
        (date(2025, 9, 1), Status.INACTIVE, False, "None: the pupil is no longer on roll"),
    ],
)  # fmt: skip
def test_next_action_follows_the_stages(today: date, status: Status, planned: bool, expected: str) -> None:
    c = replace(clock(planned=planned), status=status)
    assert next_action(c, FACTS, today) == expected


def test_a_fresh_report_comes_first_and_an_old_one_gives_way() -> None:
    c = replace(clock(), status=Status.ON_TRACK, after_meeting=AFTER)
    # Two weeks after the meeting the school's own report (reg 20(7)) is the next thing to do ...
    assert next_action(c, FACTS, date(2024, 12, 1)) == "Send the review report to the LA by Wed 4 Dec 2024"
    assert next_action(c, FACTS, date(2024, 12, 10)) == "Send the review report to the LA now (was due Wed 4 Dec 2024)"
    # ... but months later the next review's own steps lead (the lateness stays in "AR after meeting").
    assert next_action(c, FACTS, date(2025, 9, 1)) == "Request advice from Mon 6 Oct 2025"


def test_a_planned_meeting_after_the_deadline_says_move_it() -> None:
    c = replace(
        clock(planned=True, meeting_date=date(2025, 12, 1)), status=Status.ON_TRACK, planned_after_deadline=True
    )
    assert next_action(c, FACTS, date(2025, 9, 1)) == (
        "Move the planned meeting to on or before Fri 14 Nov 2025: it is after the deadline"
    )


@pytest.mark.parametrize(
    ("today", "late", "recorded", "expected"),
    [
        (date(2024, 11, 25), (), {}, "Report to LA due Wed 4 Dec 2024"),
        (date(2024, 12, 10), (), {"report_sent": date(2024, 12, 2)}, "LA decision due Wed 18 Dec 2024"),
        (date(2024, 12, 19), ("decision_due",), {"report_sent": date(2024, 12, 2)}, "LA DECISION LATE (due Wed 18 Dec 2024)"),
        (date(2025, 1, 5), (), {"report_sent": date(2024, 12, 2), "la_decision": date(2024, 12, 12)}, ""),
    ],
)  # fmt: skip
def test_after_meeting_names_the_pressing_step(today: date, late: tuple, recorded: dict, expected: str) -> None:
    c = replace(clock(), after_meeting=replace(AFTER, late=late))
    assert after_meeting_text(c, replace(FACTS, **recorded), today) == expected


def test_every_column_is_filled_for_a_valid_and_an_invalid_row() -> None:
    checked = datetime(2025, 10, 1, 7, 0)
    valid = ar_row(pupil(), today=date(2025, 10, 7), checked_at=checked)
    assert set(valid) == set(AR_HEADERS)
    assert valid["AR status"].value == "PREPARE"
    assert valid["AR status"].fill == "FFF2A8"  # yellow
    assert valid["AR hold meeting by"].value == date(2025, 11, 14)
    assert valid["AR year 9+"].value == "PfA required"
    invalid = replace(pupil(), clock=None, status=Status.INVALID, errors=('row 7: "DOB" is blank. Type it.',))
    cells = ar_row(invalid, today=date(2025, 10, 7), checked_at=checked)
    assert cells["AR status"].value == "INVALID"
    assert cells["AR issues"].value == '"DOB" is blank. Type it.'  # the row number is the cell's own row
    assert cells["AR hold meeting by"].value is None


def test_every_product_header_starts_with_the_one_prefix() -> None:
    # docs/register.md s5: the AR columns, and the Contributions tab's own column, all start with "AR ".
    from sheet_schema.ar_columns import AR_INVITED_FOR, AR_PREFIX
    from sheet_schema.contributions import INVITED_FOR
    from sheet_schema.fields import is_product_header

    assert AR_PREFIX == "AR "
    assert INVITED_FOR == AR_INVITED_FOR == "AR invited for"
    for header in (*AR_HEADERS, INVITED_FOR):
        assert header.startswith(AR_PREFIX)
        assert is_product_header(header.lower())
    assert not is_product_header("Area")


def test_only_the_exact_header_is_the_products_column() -> None:
    """issue 10 item 5: "ar status " (the SENDCo's) sits before the product's own "AR status"; only the exact one is
    read as the product's previous status, and every look-alike is named."""
    from sheet_schema.ar_columns import AR_STATUS, near_miss, near_miss_notes
    from sheet_schema.header import find_header

    row = ["Name", "DOB", "Last review", "ar status ", "A.R. checked", "AR-Status", "AR status", " AR checked "]
    header = find_header([row], sheet="Register")
    assert header is not None
    assert header.ar_columns[AR_STATUS] == 6
    assert header.ar_columns["AR checked"] == 7  # trimmed, it is exactly the product's header
    assert [near_miss(h) for h in row] == [None, None, None, "AR status", "AR checked", "AR status", None, None]
    notes = near_miss_notes(row, sheet="Register", header_row=1)
    assert [n.split('"')[3] for n in notes] == ["ar status", "A.R. checked", "AR-Status"]
