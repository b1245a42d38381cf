"""The register side of the plan: group columns (siblings, shared professionals), the AR suggested meeting column read
back, the Plan tab's rows and colours, --accept, and the load chart."""

from __future__ import annotations

from datetime import date, datetime

from functions.capacity import Plan, SolverReport, Suggestion, WeekLoad
from functions.plan_writes import FULL_FILL, OK_FILL, OVER_FILL, accepted, tab_rows
from reports.load_chart import WeekPoint, load_chart_png
from sheet_schema.ar_columns import AR_SUGGESTED
from sheet_schema.groups import group_columns, groups_of
from sheet_schema.header import find_header
from sheet_schema.suggested import suggested_meetings

ROWS = [
    ["EHCP register"],
    ["Name", "DOB", "Last review", "Siblings", "EP", "Speech and language therapist", AR_SUGGESTED],
    ["Aisha Khan", "02/03/2015", "10/11/2025", "Khan", "Dr Okafor; J Bell", "", datetime(2026, 10, 14)],
    ["Omar Khan", "02/03/2017", "10/12/2025", "khan ", "", "S Lee", "see me"],
    ["Ben Carter", "09/07/2014", "10/01/2026", "n/a", "dr  okafor", None, None],
]


def test_group_columns_and_keys() -> None:
    header = find_header(ROWS, sheet="EHCP register")
    assert header is not None
    columns = group_columns(header)
    assert sorted(columns.values()) == ["ep", "family", "salt"]
    assert groups_of(ROWS[2], columns) == ("family:khan", "ep:dr okafor", "ep:j bell")
    assert groups_of(ROWS[3], columns) == ("family:khan", "salt:s lee")
    assert groups_of(ROWS[4], columns) == ("ep:dr okafor",)


def test_suggested_meetings_read_back_only_dates() -> None:
    header = find_header(ROWS, sheet="EHCP register")
    assert header is not None
    assert suggested_meetings(ROWS, header) == {3: date(2026, 10, 14)}


def _suggestion(row: int, meeting: date, requests: date, invites: date, short: bool = False) -> Suggestion:
    return Suggestion(row, f"P{row} X.", meeting, meeting, requests, invites, invites, 7.0, False, short)


PLAN = Plan(
    today=date(2026, 9, 9),
    suggestions=(
        _suggestion(5, date(2026, 10, 14), date(2026, 9, 2), date(2026, 9, 30), short=True),
        _suggestion(6, date(2026, 10, 15), date(2026, 9, 3), date(2026, 10, 1), short=True),
    ),
    weeks=(
        WeekLoad(date(2026, 9, 7), 1.0, 3.6, 0, requests=2),
        WeekLoad(date(2026, 9, 28), 5.5, 6.0, 0, invitations=2, papers=2),
        WeekLoad(date(2026, 10, 12), 7.0, 6.0, 2),
    ),
    unschedulable=(),
    solver=SolverReport("OPTIMAL", 0.1, 0.0),
    earliest_lawful=date(2026, 9, 23),
    horizon_end=date(2027, 9, 5),
)


def test_plan_tab_rows_name_the_week_and_colour_the_load() -> None:
    rows = tab_rows(PLAN)
    first, busy, over = rows[date(2026, 9, 7)], rows[date(2026, 9, 28)], rows[date(2026, 10, 12)]
    assert first["Requests for advice"].value == "P5 X. (short lead), P6 X. (short lead)"
    assert first["Hours planned"].fill == OK_FILL
    assert busy["Invitations and papers"].value == "P5 X., P6 X."
    assert busy["Load"].value == "92%"
    assert busy["Hours planned"].fill == FULL_FILL
    assert over["Meetings"].value == "Wed 14 Oct: P5 X.; Thu 15 Oct: P6 X."
    assert over["Load"].value == "OVER by 1 h"
    assert over["Hours planned"].fill == OVER_FILL
    assert over["Hours planned"].value == "7 h"


def test_accept_by_row_upn_or_all() -> None:
    upns = {5: "A801200000001", 6: None}
    assert accepted(PLAN.suggestions, "6", upns) == {6: date(2026, 10, 15)}
    assert accepted(PLAN.suggestions, "a801200000001", upns) == {5: date(2026, 10, 14)}
    assert accepted(PLAN.suggestions, "ALL", upns) == {5: date(2026, 10, 14), 6: date(2026, 10, 15)}
    assert accepted(PLAN.suggestions, "99", upns) == {}
    assert accepted(PLAN.suggestions, None, upns) == {}


def test_load_chart_is_a_png_and_the_same_bytes_twice() -> None:
    points = [WeekPoint(date(2026, 9, 7 + 7 * i), 3.0 + i, 2.0 + i % 3, 6.0) for i in range(4)]
    png = load_chart_png(points, title="Weekly hours")
    assert png.startswith(b"\x89PNG")
    assert load_chart_png(points, title="Weekly hours") == png
