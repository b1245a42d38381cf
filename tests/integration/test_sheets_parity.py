"""Parity: the same register swept from an Excel workbook and from a Google Sheet (the fake Sheets API, over a real
socket, through open_sheet_register(emulator_host=...)) gives the same sweep JSON and writes the same AR cells.

Every test runs against each server variation in SERVER_MODES (Google's behaviour, a server that ignores `fields` and
`ranges`, one that sends no grid data, a proto3-minimal one), since a Sheets-compatible server other than Google need
not answer as Google does."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest

from connectors.sheets import open_sheet_register
from connectors.workbook import WorkbookRegister
from functions.settings import Settings
from functions.sweep import run_sweep
from tests.fakes.sheets_api import SERVER_MODES, FakeSheetsServer, made_up_register

KEY = "1ParityParityParityParityParityParityPari"
TODAY = date(2025, 10, 1)
CHECKED_AT = datetime(2025, 10, 1, 7, 0)  # a wall-clock stamp for the "AR checked" cell
SERIAL_EPOCH = date(1899, 12, 30)


@pytest.fixture(params=list(SERVER_MODES))
def server(request: pytest.FixtureRequest) -> Iterator[FakeSheetsServer]:
    with FakeSheetsServer(**SERVER_MODES[request.param]) as fake:
        yield fake


def as_sheets_value(value: object) -> object:
    """An Excel cell value as the Sheets API reports it (dates as serial numbers)."""
    if isinstance(value, datetime):
        delta = value - datetime(1899, 12, 30)
        return delta.days + delta.seconds / 86400
    if isinstance(value, date):
        return (value - SERIAL_EPOCH).days
    if value == "":
        return None
    return value


def trimmed(rows: list[list[object]]) -> list[list[object]]:
    out = [list(row) for row in rows]
    for row in out:
        while row and row[-1] is None:
            row.pop()
    while out and not out[-1]:
        out.pop()
    return out


def write_register(path: Path, pupils: int, *, seed: int = 7) -> Path:
    """The made-up register as a SENDCo's workbook: a merged title banner, real date cells with a UK format, their
    own fill colours, and a second tab."""
    from openpyxl.styles import Font, PatternFill

    rows = made_up_register(pupils, TODAY, seed=seed)
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "EHCP register"
    for r, values in enumerate(rows, start=1):
        for c, value in enumerate(values, start=1):
            if value is None:
                continue
            cell = ws.cell(row=r, column=c, value=value)
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # the SENDCo's formula-like text stays text, as in the sheet
            if isinstance(value, date):
                cell.number_format = "dd/mm/yyyy"
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=6)
    ws["A1"].font = Font(bold=True)
    for r in range(4, len(rows) + 1, 3):
        ws.cell(row=r, column=1).fill = PatternFill("solid", fgColor="FF9999")
    key = wb.create_sheet("Key")
    key["A1"] = "Red names: chase this week"
    wb.save(path)
    return path


def sweep_both(workbook: Path, server: FakeSheetsServer, *, dry_run: bool = False) -> tuple[dict, dict]:
    server.load_workbook(KEY, workbook)
    sheet_result = run_sweep(
        open_sheet_register(KEY, emulator_host=server.host),
        today=TODAY,
        settings=Settings(),
        dry_run=dry_run,
        now=lambda: CHECKED_AT,
    )
    excel_result = run_sweep(
        WorkbookRegister(workbook, backup_dir=workbook.parent / "backups"),
        today=TODAY,
        settings=Settings(),
        dry_run=dry_run,
        now=lambda: CHECKED_AT,
    )
    return excel_result.to_json(), sheet_result.to_json()


@pytest.mark.parametrize("pupils", [25, 300])
def test_excel_and_sheets_sweeps_agree_and_write_the_same_ar_cells(
    tmp_path: Path, server: FakeSheetsServer, pupils: int
) -> None:
    source = write_register(tmp_path / "register.xlsx", pupils)
    workbook = tmp_path / "work" / "register.xlsx"
    workbook.parent.mkdir()
    shutil.copyfile(source, workbook)

    excel_json, sheet_json = sweep_both(workbook, server)
    assert excel_json == sheet_json
    assert len(sheet_json["pupils"]) >= 10
    assert {p["status"] for p in sheet_json["pupils"]} - {"INVALID"}  # real clocks were computed, not all errors
    assert server.request_count == server.sweep_requests  # 3 (4 where the server sends no grid data)
    assert server.request_count == (4 if server.no_grid_data else 3)
    assert [r.method for r in server.log].count("POST") == 1
    endpoints = [r.path.rsplit("/", 1)[-1] for r in server.log]
    if server.no_grid_data:  # the read falls back to one values:batchGet; the re-read is one values:batchGet
        assert endpoints == [KEY, "values:batchGet", "values:batchGet", f"{KEY}:batchUpdate"]
    else:
        assert endpoints == [KEY, KEY, f"{KEY}:batchUpdate"]
    batch = server.log[-1].body["requests"]
    assert "formulaValue" not in json.dumps(batch)

    # The written registers agree cell for cell (dates compared as serials); the SENDCo's cells are as they were.
    title = openpyxl.load_workbook(source).worksheets[0].title
    before = openpyxl.load_workbook(source, data_only=True)[title]
    after = openpyxl.load_workbook(workbook, data_only=True)[title]
    excel_after = trimmed([[as_sheets_value(v) for v in row] for row in after.iter_rows(values_only=True)])
    sheet_after = trimmed(server.dump(KEY, title))
    differences = [
        (r, c, sheet_after[r][c] if c < len(sheet_after[r]) else None, row[c] if c < len(row) else None)
        for r, row in enumerate(excel_after)
        for c in range(max(len(row), len(sheet_after[r])))
        if (sheet_after[r][c] if c < len(sheet_after[r]) else None) != (row[c] if c < len(row) else None)
    ]
    assert differences == []
    assert len(sheet_after) == len(excel_after)
    sendco_width = before.max_column
    original = trimmed([[as_sheets_value(v) for v in row] for row in before.iter_rows(values_only=True)])
    assert trimmed([row[:sendco_width] for row in sheet_after]) == original
    header = next(row for row in sheet_after if "AR status" in row)
    assert all(str(h).startswith("AR ") for h in header[sendco_width:])
    # Formula-like text, the SENDCo's and the product's, is stored as stringValue, never as a formula.
    cells = server.dump_cells(KEY, title)
    texts = [cell["userEnteredValue"] for cell in cells.values() if "userEnteredValue" in cell]
    assert {kind for value in texts for kind in value} <= {"stringValue", "numberValue", "boolValue"}
    hyperlinks = [v for v in texts if str(v.get("stringValue", "")).startswith("=")]
    assert hyperlinks  # the made-up register's '=HYPERLINK(...)' notes are still there, as text


def test_dry_run_agrees_and_writes_nothing(tmp_path: Path, server: FakeSheetsServer) -> None:
    workbook = write_register(tmp_path / "register.xlsx", 20)
    excel_json, sheet_json = sweep_both(workbook, server, dry_run=True)
    assert excel_json == sheet_json
    assert server.request_count == server.read_requests  # the read only (with values:batchGet without grid data)
    assert {r.method for r in server.log} == {"GET"}


def test_a_row_inserted_mid_sweep_gets_no_other_pupils_results(tmp_path: Path, server: FakeSheetsServer) -> None:
    workbook = write_register(tmp_path / "register.xlsx", 20)
    server.load_workbook(KEY, workbook)
    title = openpyxl.load_workbook(workbook).worksheets[0].title
    header_index = next(i for i, row in enumerate(server.dump(KEY, title)) if row and row[0] == "Pupil name")
    newcomer = ["Zed Newcomer", None, (TODAY - timedelta(days=3000) - SERIAL_EPOCH).days]
    # A colleague inserts a pupil at the top of the table between the sweep's read and its write.
    server.after_request(server.read_requests, lambda: server.insert_row(KEY, title, header_index + 2, newcomer))
    result = run_sweep(
        open_sheet_register(KEY, emulator_host=server.host), today=TODAY, settings=Settings(), now=lambda: CHECKED_AT
    )
    assert result.write is not None
    assert result.write.missing_keys == []
    rows = server.dump(KEY, title)
    header = rows[header_index]
    status_col = header.index("AR status")
    inserted = rows[header_index + 1]
    assert inserted[0] == "Zed Newcomer"
    assert len(inserted) <= status_col  # no AR cell was written on the newcomer's row
    by_row = {p["row"]: p for p in result.to_json()["pupils"]}
    for read_row, pupil in by_row.items():
        now_row = rows[read_row]  # read_row is 1-based; every old row moved down one
        assert (now_row[0] or "") == (pupil["name"] or "")
        if pupil["name"]:  # a nameless row has no key, so it gets no AR cells at all
            assert now_row[status_col].replace(" ", "_") == pupil["status"]
    assert sum(1 for p in by_row.values() if p["name"]) >= 15
