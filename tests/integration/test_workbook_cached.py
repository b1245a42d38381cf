"""Formula cells' cached values read in one pass over the sheet's XML (connectors/workbook_cached.py, issue 16) give
exactly what openpyxl's own read-only, data-only load gives, on a file LibreOffice calculated and saved; and a file
the pass does not handle falls back on openpyxl."""

from __future__ import annotations

import shutil
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from connectors.workbook import WorkbookRegister
from connectors.workbook_cached import cached_values
from tests.integration.conftest import rewrite_zip, soffice

pytestmark = pytest.mark.libreoffice

# Column B..K formulas of every result type a SENDCo's register meets (A holds a date, or is blank on odd rows).
FORMULAS = [
    ("=A{r}+365", "dd/mm/yyyy"),  # a date (a serial under a date format)
    ('=IF(A{r}="","",EDATE(A{r},12))', "dd/mm/yyyy"),  # a date, or "" when A is blank
    ("=ROW()*1.5", "0.0"),  # a float
    ("=ROW()", "General"),  # an int
    ('=IF(MOD(ROW(),2)=0,"Year 9","Year 10")', "General"),  # text
    ("=A{r}>DATE(2020,1,1)", "General"),  # a boolean
    ("=1/0", "General"),  # an error
    ('=""', "General"),  # empty text
    ("=TIME(1,30,0)", "[h]:mm"),  # a duration
    ("=SUM(D{r}:E{r})", "General"),  # a number from other formulas
]


@pytest.fixture(scope="module")
def calculated(tmp_path_factory: pytest.TempPathFactory, lo_profile: Path) -> Path:
    folder = tmp_path_factory.mktemp("cached")
    built = folder / "built"
    built.mkdir()
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Register"
    other = wb.create_sheet("Key")  # a second sheet first in the package order of some writers
    other["A1"] = "=1+1"
    for r in range(1, 41):
        if r % 2:
            ws.cell(row=r, column=1, value=date(2024, 1, 1 + r % 28)).number_format = "dd/mm/yyyy"
        for c, (formula, fmt) in enumerate(FORMULAS, start=2):
            cell = ws.cell(row=r, column=c, value=formula.format(r=r))
            cell.number_format = fmt
    wb.save(built / "calc.xlsx")
    out = folder / "out"
    out.mkdir()
    soffice(lo_profile, "--convert-to", "xlsx", "--outdir", out, built / "calc.xlsx")
    return out / "calc.xlsx"


def openpyxl_values(path: Path, title: str) -> dict[tuple[int, int], object]:
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        return {
            (cell.row, cell.column): cell.value
            for row in book[title].iter_rows()
            for cell in row
            if hasattr(cell, "column")
        }
    finally:
        book.close()


def formula_cells(path: Path, title: str) -> tuple[list[tuple[int, int]], openpyxl.Workbook]:
    book = openpyxl.load_workbook(path)
    cells = [(r, c) for (r, c), cell in book[title]._cells.items() if cell.data_type == "f"]
    return cells, book


def test_the_xml_pass_gives_what_openpyxl_gives_for_every_formula(calculated: Path) -> None:
    for title in ("Register", "Key"):
        cells, _ = formula_cells(calculated, title)
        assert len(cells) == (len(FORMULAS) * 40 if title == "Register" else 1)
        fast = xml_pass(calculated, title)
        assert fast is not None, "this file should be read by the XML pass, not the fallback"
        expected = openpyxl_values(calculated, title)
        assert fast == {cell: expected.get(cell) for cell in cells}
    values = fast_register_values(calculated)
    assert isinstance(values[(1, 2)], datetime)
    assert values[(1, 2)] == datetime(2025, 1, 1)  # 2 Jan 2024 + 365
    assert values[(2, 3)] in (None, "")  # "" for a blank A: openpyxl reads empty text as None
    assert values[(3, 5)] == 3
    assert values[(3, 4)] == 4.5
    assert values[(2, 6)] == "Year 9"
    assert values[(1, 7)] is True
    assert values[(1, 8)] == "#DIV/0!"


def xml_pass(path: Path, title: str) -> dict[tuple[int, int], object] | None:
    """The XML pass over `title`'s formula cells, given what the adapter gives it (the loaded workbook's own epoch
    and date styles)."""
    cells, book = formula_cells(path, title)
    return cached_values(
        path,
        title,
        cells,
        epoch=book.epoch,
        date_styles=book._date_formats,
        duration_styles=book._timedelta_formats,
    )


def fast_register_values(path: Path) -> dict[tuple[int, int], object]:
    found = xml_pass(path, "Register")
    assert found is not None
    return found


def test_the_register_reads_cached_values_the_same_either_way(calculated: Path, tmp_path: Path) -> None:
    """The adapter's rows from the XML pass equal its rows when the pass hands over to openpyxl's read-only load
    (forced here by a cell numbered by its position, with no reference, which the pass leaves to openpyxl)."""
    copy = Path(shutil.copy2(calculated, tmp_path / "calc.xlsx"))
    fast_rows = WorkbookRegister(copy).read().sheets[0].rows
    with zipfile.ZipFile(copy) as archive:
        names = archive.namelist()
    sheet = next(n for n in names if n.startswith("xl/worksheets/sheet") and n.endswith(".xml"))
    sheet = "xl/worksheets/sheet1.xml" if "xl/worksheets/sheet1.xml" in names else sheet
    rewrite_zip(copy, {}, {sheet: (r'<c r="K40"', "<c")})  # openpyxl counts it as the cell after J40
    assert xml_pass(copy, "Register") is None
    slow_rows = WorkbookRegister(copy).read().sheets[0].rows
    assert slow_rows == fast_rows
    assert fast_rows[39][10] == 100  # K40 = SUM(D40:E40) = 60 + 40, by either road


def test_sheet_xml_cut_short_is_left_to_openpyxl(calculated: Path, tmp_path: Path) -> None:
    copy = Path(shutil.copy2(calculated, tmp_path / "calc.xlsx"))
    with zipfile.ZipFile(copy) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml")
    rewrite_zip(copy, {"xl/worksheets/sheet1.xml": xml[: len(xml) // 2]})
    found = cached_values(
        copy, "Register", [(1, 2)], epoch=datetime(1899, 12, 30), date_styles=set(), duration_styles=set()
    )
    assert found is None
