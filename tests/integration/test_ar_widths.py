"""The product's columns readable on first sight (issue 9 item 2, docs/register.md s5): widths for their dates and
sentences, set only on the product's own columns, in the workbook (openpyxl, re-opened), on Google Sheets (the fake
over a socket, same one batchUpdate) and as LibreOffice renders the swept demo (PDF, pdftotext, one page to PNG)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Hashable, Iterator
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from connectors.base import CellValue, CellWrite, WritePlan
from connectors.sheets import open_sheet_register
from connectors.workbook import WorkbookRegister
from sheet_schema.ar_columns import AR_HEADERS, AR_INVITED_FOR, AR_SUGGESTED, AR_WIDTHS, column_width
from tests.fakes.sheets_api import FakeSheetsServer

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts"
SOFFICE = "/usr/bin/soffice"
KEY = "1WidthsWidthsWidthsWidthsWidthsWidthsWidt"
HEADERS = ["AR status", "AR hold meeting by", "AR next action"]


def header_row(rows: list[list[CellValue]]) -> int | None:
    return next((i + 1 for i, row in enumerate(rows) if row and row[0] == "Name"), None)


def first_cell(row: list[CellValue]) -> Hashable | None:
    return row[0] if row and row[0] not in (None, "") else None


def plan(names: list[str]) -> WritePlan:
    cells = {
        "AR status": CellWrite("OVERDUE", fill="F4B6B6"),
        "AR hold meeting by": CellWrite(date(2026, 1, 2), "dd/mm/yyyy"),
        "AR next action": CellWrite("Hold the review meeting as soon as possible (was due by Fri 16 Oct 2026)"),
    }
    return WritePlan(
        sheet="Register",
        headers=HEADERS,
        find_header_row=header_row,
        key_of=first_cell,
        rows={n: cells for n in names},
        owned_headers=frozenset(HEADERS),
        column_widths={h: AR_WIDTHS[h] for h in HEADERS},
    )


def test_widths_fit_dates_and_whole_headers() -> None:
    for header, width in AR_WIDTHS.items():
        assert width >= len(header) + 2, header  # the bold header is never cut
    # dd/mm/yyyy is 10 characters; 8.43 (the default) is what made LibreOffice show "###"
    assert AR_WIDTHS["AR hold meeting by"] >= 12
    assert AR_WIDTHS["AR window ends"] >= 12
    assert AR_WIDTHS["AR checked"] >= 17  # "dd/mm/yyyy hh:mm"
    assert AR_WIDTHS["AR next action"] >= 60
    assert AR_WIDTHS["AR issues"] >= 60
    assert column_width("Email") >= 30
    assert column_width("Chasers") >= 9
    assert set(AR_HEADERS) | {AR_INVITED_FOR, AR_SUGGESTED} == set(AR_WIDTHS)
    assert AR_WIDTHS[AR_SUGGESTED] >= len(AR_SUGGESTED) + 2


def test_workbook_sets_widths_on_product_columns_only(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "Register"
    ws.append(["Name", "DOB", "Notes", "AR status"])  # an earlier run's AR status, still at the default width
    ws.append(["Ava", date(2015, 3, 4), "n", "PREPARE"])
    ws.append(["Ben", date(2012, 9, 1), None, None])
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["C"].width = 6  # the SENDCo's narrow Notes column
    ws.freeze_panes = "B2"
    path = tmp_path / "register.xlsx"
    wb.save(path)

    register = WorkbookRegister(path)
    register.read()
    register.write(plan(["Ava", "Ben"]))
    ws = load_workbook(path)["Register"]
    assert [c.value for c in ws[1]] == ["Name", "DOB", "Notes", "AR status", "AR hold meeting by", "AR next action"]
    assert ws.column_dimensions["A"].width == 28
    assert ws.column_dimensions["C"].width == 6
    assert "B" not in ws.column_dimensions  # their DOB column still has no width of its own
    assert ws.column_dimensions["D"].width == AR_WIDTHS["AR status"]  # owned, was at the default: set
    assert ws.column_dimensions["E"].width == AR_WIDTHS["AR hold meeting by"]
    assert ws.column_dimensions["F"].width == AR_WIDTHS["AR next action"]
    assert ws.freeze_panes == "B2"  # the SENDCo's frozen panes kept

    # The SENDCo narrows an AR column: the next run keeps their width.
    wb = load_workbook(path)
    wb["Register"].column_dimensions["F"].width = 20
    wb.save(path)
    register = WorkbookRegister(path)
    register.read()
    register.write(plan(["Ava", "Ben"]))
    ws = load_workbook(path)["Register"]
    assert ws.column_dimensions["F"].width == 20
    assert ws.column_dimensions["E"].width == AR_WIDTHS["AR hold meeting by"]


def test_a_column_range_the_sendco_styled_is_never_split(tmp_path: Path) -> None:
    """A <col min max> range over the AR columns (a style over A:Z) stays one range: a second entry overlapping it
    makes Excel call the file damaged."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Register"
    ws.append(["Name", "DOB"])
    ws.append(["Ava", date(2015, 3, 4)])
    ws.column_dimensions.group("A", "Z", hidden=False)
    ws.column_dimensions["A"].width = 15
    path = tmp_path / "register.xlsx"
    wb.save(path)
    register = WorkbookRegister(path)
    register.read()
    register.write(plan(["Ava"]))
    dims = load_workbook(path)["Register"].column_dimensions
    spans = [(d.min, d.max) for d in dims.values() if d.min is not None]
    assert spans == [(1, 26)]


@pytest.fixture
def server() -> Iterator[FakeSheetsServer]:
    with FakeSheetsServer() as fake:
        yield fake


def test_sheets_widths_ride_in_the_one_batch(server: FakeSheetsServer) -> None:
    rows: list[list[object]] = [["Register 2025-26"], ["Name", "DOB", "Notes"], ["Ava", 40000, "n"], ["Ben", 40001]]
    server.load(KEY, {"Register": rows}, min_columns=3)
    register = open_sheet_register(f"https://docs.google.com/spreadsheets/d/{KEY}/edit", emulator_host=server.host)
    register.read()
    register.write(plan(["Ava", "Ben"]))
    assert server.request_count == server.sweep_requests == 3  # read, re-read, one batchUpdate: unchanged
    (post,) = [r for r in server.log if r.method == "POST"]
    sizes = [r["updateDimensionProperties"] for r in post.body["requests"] if "updateDimensionProperties" in r]
    assert [(s["range"]["startIndex"], s["range"]["endIndex"]) for s in sizes] == [(3, 4), (4, 5), (5, 6)]
    sheet = server.sheet(KEY, "Register")
    assert sheet.column_pixels == {3: 88, 4: 158, 5: round(AR_WIDTHS["AR next action"] * 7 + 5)}
    assert 0 not in sheet.column_pixels  # the SENDCo's columns keep Google's width

    # The next sweep finds the columns in place and resizes nothing (the SENDCo may have resized them since).
    register.read()
    register.write(plan(["Ava", "Ben"]))
    posts = [r for r in server.log if r.method == "POST"]
    assert not any("updateDimensionProperties" in r for r in posts[-1].body["requests"])


def soffice_to_pdf(source: Path, out_dir: Path) -> Path:
    """Convert with a private profile (parallel runs and a user's own LibreOffice never interfere) and a timeout."""
    profile = Path("/tmp") / f"lo-widths-{uuid.uuid4().hex}"
    try:
        result = subprocess.run(
            [SOFFICE, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore", "--convert-to", "pdf",
             "--outdir", str(out_dir), str(source)],
            capture_output=True, text=True, timeout=180, check=False,
        )  # fmt: skip
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    pdf = out_dir / (source.stem + ".pdf")
    assert result.returncode == 0, result.stderr
    assert pdf.exists(), result.stderr
    return pdf


@pytest.mark.libreoffice
def test_the_swept_demo_renders_without_hashes_in_libreoffice(tmp_path: Path) -> None:
    out = tmp_path / "demo" / "register.xlsx"
    done = subprocess.run(
        [sys.executable, "main.py", "demo", "--out", str(out), "--today", "2025-10-01"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "KEEPER_TODAY_ANCHOR": "2025-10-01"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    pdf = soffice_to_pdf(out, tmp_path)
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert "###" not in text  # a date or number too wide for its column renders as ### in LibreOffice and Excel
    for header in (*AR_HEADERS, AR_INVITED_FOR):
        assert re.search(rf"(?<![\w]){re.escape(header)}(?![\w])", text), f"{header!r} is cut or missing"
    assert re.search(r"\b\d\d/\d\d/20\d\d\b", text)  # the dates are there, as dd/mm/yyyy
    # The page holding "AR status" and "AR hold meeting by", for a person to look at.
    pages = text.split("\f")
    page = next(i for i, p in enumerate(pages, start=1) if "AR hold meeting by" in p)
    ARTIFACTS.mkdir(exist_ok=True)
    prefix = ARTIFACTS / "swept-demo-ar-columns"
    subprocess.run(
        ["pdftoppm", "-png", "-r", "70", "-f", str(page), "-l", str(page), "-singlefile", str(pdf), str(prefix)],
        check=True, timeout=120,
    )  # fmt: skip
    assert prefix.with_suffix(".png").stat().st_size > 5_000
