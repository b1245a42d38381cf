"""A SENDCo's formula in a cell the product fills is theirs (issue 10 item 4), on both register adapters.

The Contributions "Requested" cell holds `=IFERROR(VLOOKUP(...),"")`, which shows blank. Before the fix both adapters
read it as blank and wrote a date over the formula. Each adapter now reports its formula cells (openpyxl keeps them;
Sheets sends userEnteredValue.formulaValue) and the shared placement never writes one.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from connectors.base import CellValue, CellWrite, WritePlan
from connectors.sheets import open_sheet_register
from connectors.sheets_http import RetryPolicy
from connectors.workbook import WorkbookRegister
from tests.fakes.sheets_api import SERVER_MODES, FakeSheetsServer, Formula

KEY = "1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms"
LOOKUP = '=IFERROR(VLOOKUP(A2,Sent!A:B,2,FALSE),"")'
HEADERS = ["Pupil", "Role", "Email", "Requested", "Chasers"]
FAST = RetryPolicy(timeout_s=(5.0, 10.0), deadline_s=30.0, max_attempts=3, base_delay_s=0.05, max_delay_s=0.2)


def plan() -> WritePlan:
    """What the sweep asks after emailing both contributors: Requested (blank only) and Chasers for each."""

    def key_of(values: list[CellValue]) -> str | None:
        return str(values[0]) if values and values[0] else None

    cells = {"Requested": CellWrite(date(2025, 12, 1), "dd/mm/yyyy"), "Chasers": CellWrite(1)}
    return WritePlan(
        sheet="Contributions",
        headers=("Requested", "Chasers"),
        find_header_row=lambda rows: 1,
        key_of=key_of,
        rows={"Ann Smith": cells, "Bob Jones": cells},
        blank_only=frozenset({"Requested"}),
    )


def test_the_workbook_keeps_a_formula_showing_blank(tmp_path: Path) -> None:
    path = tmp_path / "register.xlsx"
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Contributions"
    ws.append(HEADERS)
    ws.append(["Ann Smith", "EP", "x@example.org", None, None])
    ws.append(["Bob Jones", "EP", "y@example.org", LOOKUP, "=COUNTA(Sent!C:C)"])
    book.save(path)

    register = WorkbookRegister(path)
    data = register.read()
    assert data.sheets[0].formulas == frozenset({(2, 3), (2, 4)})
    register.write(plan())

    after = openpyxl.load_workbook(path)["Contributions"]
    assert after["D2"].value is not None
    assert after["E2"].value == 1
    assert (after["D3"].value, after["D3"].data_type) == (LOOKUP, "f")
    assert (after["E3"].value, after["E3"].data_type) == ("=COUNTA(Sent!C:C)", "f")


@pytest.fixture(params=["google", "lax", "minimal"])
def server(request: pytest.FixtureRequest) -> Iterator[FakeSheetsServer]:
    with FakeSheetsServer(**SERVER_MODES.get(request.param, {})) as fake:
        yield fake


def test_the_google_sheet_keeps_a_formula_showing_blank(server: FakeSheetsServer) -> None:
    server.load(
        KEY,
        {
            "Contributions": [
                HEADERS,
                ["Ann Smith", "EP", "x@example.org"],
                ["Bob Jones", "EP", "y@example.org", Formula(LOOKUP, ""), Formula("=COUNTA(Sent!C:C)", "")],
            ]
        },
    )
    register = open_sheet_register(KEY, emulator_host=server.host, policy=FAST)
    data = register.read()
    assert data.sheets[0].formulas == frozenset({(2, 3), (2, 4)})
    register.write(plan())

    cells = server.dump_cells(KEY, "Contributions")
    assert "numberValue" in cells[(1, 3)]["userEnteredValue"]  # Ann's blank Requested got the date
    assert cells[(2, 3)]["userEnteredValue"] == {"formulaValue": LOOKUP}
    assert cells[(2, 4)]["userEnteredValue"] == {"formulaValue": "=COUNTA(Sent!C:C)"}
