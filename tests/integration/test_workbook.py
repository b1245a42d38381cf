"""The workbook adapter against real files: openpyxl builds the register, LibreOffice recalculates and re-opens it."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Hashable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.cell.rich_text import CellRichText
from openpyxl.utils import get_column_letter

from connectors.base import CellWrite, WritePlan
from connectors.workbook import EXCEL_CELL_LIMIT, WorkbookRegister
from tests.integration.conftest import (
    FIRST_PUPIL_ROW,
    HEADER_ROW,
    HYPERLINK_TEXT,
    LAST_SENDCO_COLUMN,
    build_register,
    libreoffice_csv,
)

HEADERS = ["AR status", "AR hold meeting by", "AR next action", "AR issues"]
EVIL_TEXT = '=HYPERLINK("http://evil.example","click me")'


def find_header(rows: Sequence[Sequence[object]]) -> int | None:
    return next((i for i, row in enumerate(rows, start=1) if row and row[0] == "Name"), None)


def key_of(row: Sequence[object]) -> str | None:
    return row[0] if row and isinstance(row[0], str) and row[0].strip() else None


def make_plan(rows: Mapping[Hashable, Mapping[str, CellWrite]], sheet: str = "Register") -> WritePlan:
    return WritePlan(
        sheet=sheet,
        headers=HEADERS,
        find_header_row=find_header,
        key_of=key_of,
        rows=rows,
        owned_headers=frozenset(HEADERS),  # the product's own columns, as the sweep passes sheet_schema's AR headers
    )


FIRST_RESULTS: dict[Hashable, Mapping[str, CellWrite]] = {
    "Ava Smith": {
        "AR status": CellWrite("OVERDUE", fill="F8CBAD"),
        "AR hold meeting by": CellWrite(date(2025, 11, 7), number_format="dd/mm/yyyy"),
        "AR next action": CellWrite(EVIL_TEXT),
        "AR issues": CellWrite("x" * 40_000),
    },
    "Cara Patel": {
        "AR status": CellWrite("ON TRACK", fill="C6EFCE"),
        "AR hold meeting by": CellWrite(date(2026, 2, 1), number_format="dd/mm/yyyy"),
        "AR next action": CellWrite("Send invitations by Fri 7 Nov 2025\x07"),
        "AR issues": CellWrite(None),
    },
    "Zara Left": {"AR status": CellWrite("INACTIVE", fill="D9D9D9")},
}


def snapshot(path: Path) -> dict[tuple[str, str], tuple[object, ...]]:
    """Every stored cell's value, type, fill, number format and boldness, by (sheet, coordinate)."""
    wb = load_workbook(path, rich_text=True)
    cells: dict[tuple[str, str], tuple[object, ...]] = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows(min_row=1, min_col=1, max_row=ws.max_row, max_col=ws.max_column):
            for cell in row:
                value = cell.value
                if isinstance(value, CellRichText):
                    value = ("rich", str(value), len(value))
                fill = (cell.fill.fill_type, cell.fill.fgColor.rgb if cell.fill.fill_type else None)
                cells[(ws.title, cell.coordinate)] = (value, cell.data_type, fill, cell.number_format, cell.font.b)
    return cells


def ar_columns(path: Path) -> dict[str, int]:
    ws = load_workbook(path)["Register"]
    return {str(c.value): c.column for c in ws[HEADER_ROW] if isinstance(c.value, str) and c.value.startswith("AR ")}


def sheet_xml(path: Path, part: str = "xl/worksheets/sheet1.xml") -> str:
    with zipfile.ZipFile(path) as archive:
        return archive.read(part).decode("utf-8")


def cell_xml(xml: str, ref: str) -> str:
    match = re.search(rf'<c r="{ref}"[^>]*?(?:/>|>.*?</c>)', xml, re.S)
    assert match, f"cell {ref} not in the sheet XML"
    return match.group(0)


def test_read_gives_every_sheet_from_row_1_and_column_a(register: Path) -> None:
    data = WorkbookRegister(register).read()
    assert data.source == "Register.xlsx"
    assert [s.title for s in data.sheets] == ["Register", "Key"]
    rows = data.sheets[0].rows
    assert rows[0][0] == "Oakfield Primary - EHCP annual reviews"
    assert rows[2] == [None] * len(rows[2])  # the blank row is still there: rows[i] is sheet row i + 1
    assert rows[HEADER_ROW - 1][:LAST_SENDCO_COLUMN] == [
        "Name",
        "UPN",
        "DOB",
        "Last review",
        "Notes",
        "Name length",
        "Decision",
    ]
    ava = rows[FIRST_PUPIL_ROW - 1]
    assert ava[0] == "Ava Smith"
    assert ava[2] == datetime(2015, 3, 4)
    assert rows[FIRST_PUPIL_ROW][4] == HYPERLINK_TEXT  # text the SENDCo typed, read as text
    assert rows[FIRST_PUPIL_ROW + 2][4] == "Moved from Leeds"  # rich text arrives as plain text
    assert data.sheets[1].rows == [["Colour", "Meaning"], ["Green", "Pupil on roll"]]


def test_formula_cells_give_their_cached_value_never_the_formula(register: Path) -> None:
    rows = WorkbookRegister(register).read().sheets[0].rows
    # LibreOffice computed =LEN(A5) etc. when it saved the file.
    assert [rows[r][5] for r in range(FIRST_PUPIL_ROW - 1, FIRST_PUPIL_ROW + 3)] == [9, 9, 10, 8]
    for row in rows:
        assert not any(isinstance(v, str) and v.startswith("=LEN") for v in row)


def test_formula_without_cached_value_reads_as_none(tmp_path: Path) -> None:
    # openpyxl never calculates, so its own file has formulas with no cached value.
    path = build_register(tmp_path / "Register.xlsx")
    rows = WorkbookRegister(path).read().sheets[0].rows
    assert [rows[r][5] for r in range(FIRST_PUPIL_ROW - 1, FIRST_PUPIL_ROW + 3)] == [None] * 4


def test_first_write_appends_ar_columns_and_keeps_every_sendco_cell(register: Path) -> None:
    before = snapshot(register)
    adapter = WorkbookRegister(register, now=lambda: datetime(2025, 10, 1, 7, 30, 5))
    adapter.read()
    result = adapter.write(make_plan(FIRST_RESULTS))

    assert result.destination == str(register)
    assert result.written_rows == 2
    assert result.missing_keys == ["Zara Left"]
    assert result.notes == []
    assert result.backup == str(register.parent / ".keeper-backups" / "Register-20251001-073005.xlsx")
    assert Path(result.backup).read_bytes() != register.read_bytes()

    columns = ar_columns(register)
    assert columns == {h: LAST_SENDCO_COLUMN + 1 + i for i, h in enumerate(HEADERS)}
    after = snapshot(register)
    for (sheet, ref), state in before.items():
        column = re.match(r"[A-Z]+", ref).group(0)
        if sheet == "Register" and column in {get_column_letter(c) for c in columns.values()}:
            continue
        assert after[(sheet, ref)] == state, f"{sheet}!{ref} changed"

    wb = load_workbook(register)
    ws = wb["Register"]
    status, meeting, action, issues = (columns[h] for h in HEADERS)
    header = ws.cell(HEADER_ROW, status)
    assert header.font.b is True
    assert header.fill.fgColor.rgb.endswith("D9D9D9")
    ava = FIRST_PUPIL_ROW
    assert ws.cell(ava, status).value == "OVERDUE"
    assert ws.cell(ava, status).fill.fill_type == "solid"
    assert ws.cell(ava, status).fill.fgColor.rgb.endswith("F8CBAD")
    assert ws.cell(ava, meeting).value == datetime(2025, 11, 7)
    assert ws.cell(ava, meeting).is_date
    assert ws.cell(ava, meeting).number_format == "dd/mm/yyyy"
    assert ws.cell(ava, action).value == EVIL_TEXT
    assert ws.cell(ava, action).data_type == "s"
    assert len(ws.cell(ava, issues).value) == EXCEL_CELL_LIMIT
    cara = FIRST_PUPIL_ROW + 2
    assert ws.cell(cara, action).value == "Send invitations by Fri 7 Nov 2025"  # the bell character is stripped
    assert ws.cell(FIRST_PUPIL_ROW + 1, status).value is None  # Ben had no results

    xml = sheet_xml(register)
    for ref in (f"{get_column_letter(action)}{ava}", f"E{FIRST_PUPIL_ROW + 1}"):
        cell = cell_xml(xml, ref)
        assert 't="inlineStr"' in cell or 't="s"' in cell
        assert "<f>" not in cell
        assert "<f " not in cell
    assert "<f>LEN(A5)</f>" in xml  # the SENDCo's real formula is still a formula

    # What the SENDCo built around the cells.
    assert [str(r) for r in ws.merged_cells.ranges] == ["A1:G1"]
    assert ws.freeze_panes == "B5"
    assert [dv.formula1 for dv in ws.data_validations.dataValidation] == ['"Maintain,Amend,Cease"']
    assert "G5:G200" in str(ws.data_validations.dataValidation[0].sqref)
    assert [str(cf.sqref) for cf in ws.conditional_formatting] == ["D5:D200"]
    assert ws.column_dimensions["A"].width == pytest.approx(28, abs=1)
    assert "Pupils" in wb.defined_names
    assert wb["Key"]["B2"].value == "Pupil on roll"
    assert isinstance(load_workbook(register, rich_text=True)["Register"]["E8"].value, CellRichText)


def test_second_write_finds_moved_ar_columns_and_changes_only_ar_cells(register: Path) -> None:
    first = WorkbookRegister(register, now=lambda: datetime(2025, 10, 1, 7, 0, 0))
    first.read()
    first.write(make_plan(FIRST_RESULTS))

    # The SENDCo drags "AR status" to the far right and types a note of their own where it was.
    wb = load_workbook(register)
    ws = wb["Register"]
    status = ar_columns(register)["AR status"]
    far = 15
    ws.move_range(f"{get_column_letter(status)}{HEADER_ROW}:{get_column_letter(status)}{ws.max_row}", cols=far - status)
    ws.cell(HEADER_ROW, status, "My notes")
    ws.cell(FIRST_PUPIL_ROW, status, "Called mum")
    wb.save(register)
    before = snapshot(register)

    second = WorkbookRegister(register, now=lambda: datetime(2025, 10, 2, 7, 0, 0))
    second.read()
    result = second.write(
        make_plan(
            {
                "Ava Smith": {
                    "AR status": CellWrite("DUE SOON", fill="FFEB9C"),
                    "AR next action": CellWrite("Hold the meeting"),
                },
                "Ben Jones": {"AR status": CellWrite("ON TRACK")},
            }
        )
    )
    assert result.written_rows == 2
    columns = ar_columns(register)
    assert columns["AR status"] == far
    assert len(columns) == len(HEADERS)  # nothing appended again
    after = snapshot(register)
    changed = {key for key in after if before.get(key) != after[key]}
    letters = {get_column_letter(c) for c in columns.values()}
    assert changed, "the second write changed nothing"
    assert all(re.match(r"[A-Z]+", ref).group(0) in letters for _, ref in changed), changed
    ws = load_workbook(register)["Register"]
    assert ws.cell(FIRST_PUPIL_ROW, far).value == "DUE SOON"
    assert ws.cell(FIRST_PUPIL_ROW, status).value == "Called mum"
    ben_status = ws.cell(FIRST_PUPIL_ROW + 1, far)
    assert ben_status.value == "ON TRACK"
    assert ben_status.fill.fill_type is None


def test_status_fill_is_cleared_when_a_later_run_gives_none(register: Path) -> None:
    for status, fill in (("OVERDUE", "F8CBAD"), ("ON TRACK", None)):
        adapter = WorkbookRegister(register)
        adapter.read()
        adapter.write(make_plan({"Ava Smith": {"AR status": CellWrite(status, fill=fill)}}))
    ws = load_workbook(register)["Register"]
    cell = ws.cell(FIRST_PUPIL_ROW, ar_columns(register)["AR status"])
    assert cell.value == "ON TRACK"
    assert cell.fill.fill_type is None


def test_rows_are_found_again_when_the_sendco_saves_between_read_and_write(register: Path) -> None:
    adapter = WorkbookRegister(register)
    adapter.read()
    # While the sweep is sending emails the SENDCo inserts a new pupil above Ava and saves.
    wb = load_workbook(register)
    ws = wb["Register"]
    ws.insert_rows(FIRST_PUPIL_ROW)
    ws.cell(FIRST_PUPIL_ROW, 1, "New Pupil")
    wb.save(register)

    result = adapter.write(make_plan({"Ava Smith": {"AR status": CellWrite("OVERDUE")}}))
    assert result.written_rows == 1
    ws = load_workbook(register)["Register"]
    status = ar_columns(register)["AR status"]
    assert ws.cell(FIRST_PUPIL_ROW, 1).value == "New Pupil"  # the SENDCo's edit survived
    assert ws.cell(FIRST_PUPIL_ROW, status).value is None
    assert ws.cell(FIRST_PUPIL_ROW + 1, 1).value == "Ava Smith"
    assert ws.cell(FIRST_PUPIL_ROW + 1, status).value == "OVERDUE"


def test_write_without_a_findable_header_raises_and_writes_nothing(register: Path) -> None:
    from connectors.base import RegisterError

    original = register.read_bytes()
    adapter = WorkbookRegister(register)
    adapter.read()
    plan = WritePlan(
        sheet="Register", headers=HEADERS, find_header_row=lambda rows: None, key_of=key_of, rows=FIRST_RESULTS
    )
    with pytest.raises(RegisterError, match="header row"):
        adapter.write(plan)
    with pytest.raises(RegisterError, match="no worksheet called"):
        adapter.write(make_plan(FIRST_RESULTS, sheet="Pupils"))
    assert register.read_bytes() == original


@pytest.mark.libreoffice
def test_written_workbook_reopens_in_libreoffice(register: Path, lo_profile: Path, tmp_path: Path) -> None:
    adapter = WorkbookRegister(register)
    adapter.read()
    adapter.write(make_plan(FIRST_RESULTS))
    csv = libreoffice_csv(lo_profile, register, tmp_path / "csv")
    ava = next(line for line in csv.splitlines() if line.startswith("Ava Smith"))
    assert "OVERDUE" in ava
    assert "07/11/2025" in ava or "11/07/2025" in ava  # LibreOffice writes CSV dates in its own locale
    assert "=HYPERLINK" in ava  # shown as the text it is, not evaluated into a link
    assert "AR status" in csv
    assert "Cara Patel" in csv
    assert "ON TRACK" in csv
