"""A blank result writes no new cell (issue 16: a third of a first sweep's AR cells are blank, and each empty cell cost
time to make and bytes to save), while a cell that already holds something is still cleared."""

from __future__ import annotations

from pathlib import Path

import openpyxl

from connectors.base import CellWrite, WritePlan
from connectors.workbook import WorkbookRegister


def test_blank_results_clear_old_text_and_add_no_empty_cells(tmp_path: Path) -> None:
    path = tmp_path / "register.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Register"
    for row in (["Pupil", "AR issues", "AR status"], ["Ann", "DOB missing", "OVERDUE"], ["Ben"], ["Cy"]):
        ws.append(row)
    wb.save(path)
    plan = WritePlan(
        sheet="Register",
        headers=["AR issues", "AR status"],
        find_header_row=lambda rows: 1,
        key_of=lambda row: row[0] if row and row[0] else None,
        rows={
            "Ann": {"AR issues": CellWrite(""), "AR status": CellWrite("ON TRACK")},  # fixed since: text cleared
            "Ben": {"AR issues": CellWrite(""), "AR status": CellWrite("ON TRACK")},  # never had an issue
            "Cy": {"AR issues": CellWrite(None, fill="FFC7CE"), "AR status": CellWrite("")},  # a look of its own
        },
        owned_headers=frozenset({"AR issues", "AR status"}),
    )
    register = WorkbookRegister(path)
    register.read()
    result = register.write(plan)
    assert result.written_rows == 3
    saved = openpyxl.load_workbook(path)["Register"]
    stored = set(saved._cells)  # looked at before any saved[...] below (openpyxl makes a cell it is asked for)
    assert (2, 2) in stored  # Ann's old text: the cell is kept...
    assert saved["B2"].value is None  # ...and cleared
    assert (3, 2) not in stored  # Ben's blank made no cell
    assert (4, 3) not in stored  # nor Cy's blank status
    assert (4, 2) in stored  # a blank with a fill of its own is a cell
    assert saved["B4"].fill.fgColor.rgb.endswith("FFC7CE")
    assert [saved.cell(row=r, column=3).value for r in (2, 3, 4)] == ["ON TRACK", "ON TRACK", None]
