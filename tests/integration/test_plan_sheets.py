"""`plan` on a Google Sheet: the fake Sheets API over a real socket, gspread doing the talking. The same one write
as on a workbook: AR suggested meeting on the register tab, a new Plan tab, nothing of the SENDCo's touched."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

import pytest

from connectors.sheets import RetryPolicy, open_sheet_register
from functions.capacity_settings import CapacitySettings
from functions.plan import run_plan
from functions.settings import Settings
from tests.fakes.sheets_api import FakeSheetsServer

KEY = "1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms"
FAST = RetryPolicy(timeout_s=(1.0, 0.5), deadline_s=5.0, max_attempts=5, base_delay_s=0.05, max_delay_s=0.2)
TODAY = date(2026, 9, 7)


@pytest.fixture
def server() -> Iterator[FakeSheetsServer]:
    with FakeSheetsServer() as fake:
        yield fake


def test_plan_writes_the_suggestions_and_the_plan_tab_on_a_sheet(server: FakeSheetsServer) -> None:
    rows = [
        ["Annual reviews 2026-27"],
        ["Name", "Date of birth", "Last annual review", "Notes"],
        ["Amy Adams", datetime(2018, 10, 1), datetime(2025, 11, 20), "keep"],  # hold by Thu 22 Oct 2026
        ["Bea Brown", datetime(2018, 10, 1), datetime(2025, 12, 10), "keep"],  # hold by Wed 11 Nov 2026
    ]
    server.load(KEY, {"EHCP register": rows})
    register = open_sheet_register(
        f"https://docs.google.com/spreadsheets/d/{KEY}/edit#gid=0", emulator_host=server.host, policy=FAST
    )
    run = run_plan(
        register,
        today=TODAY,
        settings=Settings(),
        capacity=CapacitySettings(meetings_per_day=1, meetings_per_week=1, time_limit_seconds=2),
    )
    suggested = {s.row: s.suggested_meeting for s in run.plan.suggestions}
    assert set(suggested) == {3, 4}
    assert suggested[3] <= date(2026, 10, 22)
    assert suggested[4] <= date(2026, 11, 11)
    grid = server.dump(KEY, "EHCP register")
    column = grid[1].index("AR suggested meeting")
    assert [row[3] for row in grid[2:4]] == ["keep", "keep"]
    # Real dates: Sheets serial numbers (days since 30 Dec 1899) with a date format.
    serials = [(suggested[r] - date(1899, 12, 30)).days for r in (3, 4)]
    assert [row[column] for row in grid[2:4]] == serials
    cells = server.dump_cells(KEY, "EHCP register")
    fmt = cells[(2, column)].get("userEnteredFormat", {}).get("numberFormat", {})
    assert fmt.get("type") == "DATE"
    plan_tab = server.dump(KEY, "Plan")
    assert plan_tab[0][0] == "Week beginning"
    assert len(plan_tab) > 10
