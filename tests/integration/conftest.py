"""Helpers for the workbook adapter's tests: a realistic SENDCo register built with openpyxl and recalculated by
LibreOffice, zip surgery to add parts openpyxl cannot make, and a LibreOffice runner."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Mapping
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Font, PatternFill
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

# pytest's default "prepend" import mode puts this folder, not the repository, on sys.path (tests/integration has no
# __init__.py); the adapters under test live at the repository root.
REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

SOFFICE = "/usr/bin/soffice"
HYPERLINK_TEXT = '=HYPERLINK("http://x","y")'
PUPILS = [
    # name, UPN, DOB, last review, notes
    ("Ava Smith", "B801200005001", date(2015, 3, 4), date(2024, 11, 20), "Needs SALT report"),
    ("Ben Jones", "", date(2012, 9, 1), date(2025, 1, 15), HYPERLINK_TEXT),
    ("Cara Patel", "", date(2010, 12, 25), date(2024, 6, 3), None),
    ("Dev Khan", "", date(2016, 5, 17), date(2025, 3, 10), "Moved from Leeds"),
]
HEADER_ROW = 4
FIRST_PUPIL_ROW = 5
LAST_SENDCO_COLUMN = 7  # G: "Decision"


def build_register(path: Path) -> Path:
    """A register the way SENDCos keep them: a title banner, a note row, a blank row, then the table."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Register"
    ws["A1"] = "Oakfield Primary - EHCP annual reviews"
    ws["A1"].font = Font(bold=True, size=14)
    ws["A1"].fill = PatternFill("solid", start_color="BDD7EE", end_color="BDD7EE")
    ws.merge_cells("A1:G1")
    ws["A2"] = "Kept by the SENDCo. Do not sort without selecting every column."
    headers = ["Name", "UPN", "DOB", "Last review", "Notes", "Name length", "Decision"]
    for c, header in enumerate(headers, start=1):
        cell = ws.cell(row=HEADER_ROW, column=c, value=header)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", start_color="FFF2CC", end_color="FFF2CC")
    for i, (name, upn, dob, last, notes) in enumerate(PUPILS):
        r = FIRST_PUPIL_ROW + i
        ws.cell(row=r, column=1, value=name).fill = PatternFill("solid", start_color="E2EFDA", end_color="E2EFDA")
        ws.cell(row=r, column=2, value=upn or None)
        ws.cell(row=r, column=3, value=dob).number_format = "dd/mm/yyyy"
        ws.cell(row=r, column=4, value=last).number_format = "d mmm yyyy"
        if notes is not None:
            cell = ws.cell(row=r, column=5, value=notes)
            cell.data_type = "s"  # the SENDCo typed this text; it is not a formula
        ws.cell(row=r, column=6, value=f"=LEN(A{r})")
        ws.cell(row=r, column=7, value="Maintain" if i % 2 == 0 else None)
    ws["E8"] = CellRichText(["Moved from ", TextBlock(InlineFont(b=True), "Leeds")])
    validation = DataValidation(type="list", formula1='"Maintain,Amend,Cease"', allow_blank=True)
    validation.add("G5:G200")
    ws.add_data_validation(validation)
    ws.conditional_formatting.add(
        "D5:D200",
        CellIsRule(operator="lessThan", formula=["DATE(2024,9,1)"], fill=PatternFill(bgColor="FFC7CE")),
    )
    ws.freeze_panes = "B5"
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["E"].width = 40
    wb.defined_names["Pupils"] = DefinedName("Pupils", attr_text="Register!$A$5:$A$200")

    key = wb.create_sheet("Key")
    key["A1"] = "Colour"
    key["B1"] = "Meaning"
    key["A2"] = "Green"
    key["B2"] = "Pupil on roll"
    wb.save(path)
    return path


def soffice(profile: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run LibreOffice headless with a private profile, so parallel or stale instances never interfere."""
    return subprocess.run(
        [SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def libreoffice_csv(profile: Path, workbook: Path, outdir: Path) -> str:
    """The first sheet as LibreOffice sees it, as CSV text (proof that a real spreadsheet app opens the file)."""
    outdir.mkdir(parents=True, exist_ok=True)
    soffice(profile, "--convert-to", "csv", "--outdir", outdir, workbook)
    return (outdir / f"{workbook.stem}.csv").read_text(encoding="utf-8", errors="replace")


def rewrite_zip(
    path: Path, changes: Mapping[str, bytes | None], edit: dict[str, tuple[str, str]] | None = None
) -> None:
    """Add, replace (bytes) or delete (None) parts of an xlsx, and apply regex edits (pattern, replacement) to parts."""
    with zipfile.ZipFile(path) as src:
        parts = {name: src.read(name) for name in src.namelist()}
    for name, data in changes.items():
        if data is None:
            parts.pop(name, None)
        else:
            parts[name] = data
    for name, (pattern, replacement) in (edit or {}).items():
        text = parts[name].decode("utf-8")
        new, count = re.subn(pattern, replacement, text, count=1)
        assert count == 1, f"edit of {name} did not apply"
        parts[name] = new.encode("utf-8")
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, data in parts.items():
            dst.writestr(name, data)
    tmp.replace(path)


@pytest.fixture(scope="session")
def lo_profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("lo-profile")


@pytest.fixture(scope="session")
def recalculated_register(tmp_path_factory: pytest.TempPathFactory, lo_profile: Path) -> Path:
    """The register after LibreOffice has opened, recalculated and saved it: formula cells carry cached values, and
    the file is one a real spreadsheet application wrote."""
    folder = tmp_path_factory.mktemp("template")
    built = folder / "built"
    built.mkdir()
    openpyxl_file = build_register(built / "Register.xlsx")
    out = folder / "out"
    out.mkdir()
    soffice(lo_profile, "--convert-to", "xlsx", "--outdir", out, openpyxl_file)
    recalculated = out / "Register.xlsx"
    # A headless conversion does not keep the view, so freeze the panes again (rows 1-4 and column A) by hand.
    rewrite_zip(
        recalculated,
        {},
        {
            "xl/worksheets/sheet1.xml": (
                r'<selection pane="topLeft"[^>]*/>',
                '<pane xSplit="1" ySplit="4" topLeftCell="B5" activePane="bottomRight" state="frozen"/>'
                '<selection pane="bottomRight" activeCell="B5" sqref="B5"/>',
            )
        },
    )
    return recalculated


@pytest.fixture
def register(tmp_path: Path, recalculated_register: Path) -> Path:
    """A fresh copy of the realistic register in its own folder."""
    folder = tmp_path / "school"
    folder.mkdir()
    return Path(shutil.copy2(recalculated_register, folder / "Register.xlsx"))
