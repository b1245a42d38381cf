"""The plan as the digest shows it, read back from the AR suggested meeting column with no solving."""

from __future__ import annotations

from datetime import date, datetime

from connectors.base import RegisterData, SheetData
from functions.capacity_settings import CapacitySettings
from functions.evaluate import evaluate
from functions.plan_digest import digest_lines, pending_suggestions, planned_weeks
from functions.settings import Settings
from review_rules import calendar_for
from sheet_schema.ar_columns import AR_SUGGESTED

TODAY = date(2026, 9, 9)  # a Wednesday
ROWS = [
    ["Name", "Date of birth", "Last annual review", "Next review meeting", AR_SUGGESTED],
    # Suggested for Tue 15 Sep 2026 (next week), not accepted.
    ["Amy Adams", datetime(2018, 10, 1), datetime(2025, 11, 20), None, datetime(2026, 9, 15)],
    # Accepted: the planned meeting is typed, so the suggestion is no longer pending; it is booked.
    ["Bea Brown", datetime(2018, 10, 1), datetime(2025, 12, 10), datetime(2026, 9, 16), datetime(2026, 9, 16)],
    # A suggestion someone typed over with text: not a date, not a suggestion.
    ["Cal Cole", datetime(2018, 10, 1), datetime(2026, 2, 2), None, "ask Cal's mum"],
]


def test_next_week_load_and_pending_suggestions() -> None:
    evaluation = evaluate(RegisterData("test", [SheetData("EHCP", ROWS)]), today=TODAY, settings=Settings())
    pending = pending_suggestions(evaluation.pupils, evaluation.rows, evaluation.header, TODAY)
    assert [(s.row, s.name, s.meeting) for s in pending] == [(2, "Amy A.", date(2026, 9, 15))]
    weeks = planned_weeks(
        evaluation.pupils, pending, calendar=calendar_for(None), capacity=CapacitySettings(), today=TODAY
    )
    next_week = next(w for w in weeks if w.week_start == date(2026, 9, 14))
    # Two meetings (1.5 h each) in the week of Mon 14 Sep; Amy's requests were due long ago and go this week instead.
    assert next_week.meetings == 2
    assert next_week.hours == 3.0
    assert digest_lines(weeks, pending, TODAY) == [
        "Next week (from Mon 14 Sep 2026): 2 review meeting(s), 3 h of review work planned against 6 h available.",
        "Suggested meetings not yet accepted: Amy A. Tue 15 Sep 2026. Type the date into your planned meeting column, "
        "or run plan --accept.",
    ]


def test_suggested_meetings_as_tentative_events(tmp_path) -> None:
    from icalendar import Calendar

    from reports.plan_events import add_tentative_meetings
    from sheet_schema.suggested import suggested_meetings

    evaluation = evaluate(RegisterData("test", [SheetData("EHCP", ROWS)]), today=TODAY, settings=Settings())
    cal = Calendar()
    suggested = suggested_meetings(evaluation.rows, evaluation.header)
    assert add_tentative_meetings(cal, evaluation.pupils, suggested, today=TODAY) == 1
    [event] = cal.walk("VEVENT")
    assert str(event["status"]) == "TENTATIVE"
    assert str(event["summary"]) == "Suggested review meeting (tentative): Amy A."
    assert event.decoded("dtstart") == date(2026, 9, 15)
    again = Calendar()
    add_tentative_meetings(again, evaluation.pupils, {2: date(2026, 9, 22)}, today=TODAY)
    # A new plan moves the event: same UID, new date.
    assert again.walk("VEVENT")[0]["uid"] == event["uid"]


def test_weekly_load_sheet_in_a_workbook(tmp_path) -> None:
    import openpyxl

    from reports.load_chart import WeekPoint, add_load_sheet

    book = openpyxl.Workbook()
    points = [WeekPoint(date(2026, 9, 7 + 7 * i), 4.0, 3.0 + 2 * i, 6.0) for i in range(3)]
    add_load_sheet(book, points, title="Weekly hours")
    book.save(tmp_path / "o.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "o.xlsx")["Weekly load"]
    assert [c.value for c in ws[2]] == [
        "Week beginning",
        "Hours before the plan",
        "Hours with the plan",
        "Hours available",
    ]
    assert ws["C5"].value == 7.0
    assert ws["C5"].fill.start_color.rgb.endswith("F4B6B6")
    assert len(ws._images) == 1
