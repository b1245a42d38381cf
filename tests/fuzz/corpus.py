"""Hostile registers (issue 10, the guard): what a keyboard, a paste, a Google Sheet or a broken export can put in a
cell, in every field the product reads, written as real .xlsx files.

Each row of the main register is a valid pupil with ONE field replaced by one hostile value, so every value meets every
parser on a row that otherwise computes (and reaches the reports); a few rows are hostile in every field. The
workbook also has a merged title banner, merged and hidden cells in the data, a hidden column, duplicate headers, a
look-alike AR header and a Contributions tab as hostile as the register. Infinity cannot be written by openpyxl, so it
is patched into the sheet's XML afterwards as `<v>1E999</v>` (read back as a float infinity); a NaN cannot be read from
an .xlsx at all (`<v>NaN</v>` makes the workbook unreadable, a RegisterError), so NaN is left to the Hypothesis run,
which hands the parsers cell values directly.
"""

from __future__ import annotations

import math
import re
import shutil
import zipfile
from datetime import date, datetime, time, timedelta
from pathlib import Path

import openpyxl
from openpyxl.styles import PatternFill

LONG = 32_767  # Excel's largest cell
INF_MARK, NEG_INF_MARK = 434343.25, 454545.25

HOSTILE: tuple[object, ...] = (
    # Control characters an .xlsx can hold (C0 ones cannot be stored: tests/e2e/test_register_text_cli.py brings a BEL
    # through a Google Sheet), and the escape Excel itself decodes to a BEL.
    "Ann\x7f\x85 Bell\u200b\ufffd",
    "Ann_x0007_ Bell",
    "=1+1 Ito",
    '=HYPERLINK("http://evil.example","click")',
    "+44 7700 900123",
    "@SUM(A1:A2)",
    "-2",
    "😀 Émoji 👩‍👩‍👧 Ñame",
    "\u202eevil\u202c RTL",
    "שלום עולם",
    "x" * LONG,
    "Y" + "a" * (LONG - 1),
    "(" * LONG,
    "a-" * (LONG // 2),
    "x@" + "a." * 5_000 + " ",
    "#REF!",
    "#N/A",
    "#DIV/0!",
    True,
    False,
    INF_MARK,
    NEG_INF_MARK,
    1e308,
    -1,
    0,
    10**15,
    2_958_466,  # one past the last Excel serial date
    "²",
    "3 chasers",
    " ",
    "\t\n",
    "TBC",
    "31/02/2025",
    "2025-13-45",
    "Thu 3 Apr 2025",
    date(1900, 1, 1),
    datetime(9999, 12, 31, 23, 59),
    time(12, 30),
    "\ufeffBOM name",
    "A" * 300 + " Smith",
    "Year 9 " + "9" * 200,
    "=1/0",  # a formula with no computed value
)

HEADER = (
    "Name", "DOB", "UPN", "Year", "EHCP issued", "Last review", "Next review meeting", "Report sent",
    "LA decision date", "Decision", "Proposed amendments", "Final amended plan", "Transfer date", "LA", "Status",
    "Looked after", "Parent email", "Name", "ar status ",
)  # fmt: skip
REQUIRED = (0, 1, 5)  # Name, DOB, Last review: without them a row computes nothing
CONTRIBUTION_HEADER = ("Pupil", "Role", "Name", "Email", "Requested", "Received", "Chasers", "Last chased", "Notes")


def valid_row(i: int, today: date) -> list[object]:
    dob = date(2010, 9, 1) + timedelta(days=37 * i % 2_900)
    last = today - timedelta(days=100 + 7 * i % 300)
    return [
        f"Pupil{i} Test", dob, "", "", last - timedelta(days=400), last, None, None, None, None, None, None, None,
        "Kent" if i % 2 else " kent", "", "", f"parent{i}@example.org", f"dup{i}", "theirs",
    ]  # fmt: skip


def _set(cell: openpyxl.cell.cell.Cell, value: object) -> None:
    cell.value = value
    if isinstance(value, str) and not value.startswith("=") and cell.data_type == "f":
        cell.data_type = "s"


def write_hostile_register(path: Path, today: date) -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Register"
    ws.append(["Annual reviews: hostile register"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=6)
    ws.append(list(HEADER))
    rows: list[list[object]] = []
    n = len(HOSTILE)
    for k in range(n):
        # Every optional field hostile at once, each value once per field across these rows (a Latin square): the
        # row still has a name, a date of birth and a last review, so it computes and reaches every report.
        row = valid_row(k, today)
        for column in range(len(HEADER)):
            if column not in REQUIRED:
                row[column] = HOSTILE[(k + column) % n]
        rows.append(row)
    for column in REQUIRED:
        for k, value in enumerate(HOSTILE):
            row = valid_row(n + k, today)
            row[column] = value  # one required field hostile: the row is INVALID or computes, never a crash
            rows.append(row)
    rows.extend([[value] * len(HEADER) for value in HOSTILE[:6]])  # hostile in every field
    for r, row in enumerate(rows, start=3):
        for c, value in enumerate(row, start=1):
            _set(ws.cell(r, c), value)
    ws.merge_cells(start_row=5, start_column=14, end_row=6, end_column=14)  # two pupils' LA cells merged
    ws.column_dimensions["C"].hidden = True
    ws.row_dimensions[8].hidden = True
    tab = book.create_sheet("Contributions")
    tab.append(list(CONTRIBUTION_HEADER))
    for j in range(n):  # the same Latin square over the Contributions columns
        row = [HOSTILE[(j + column) % n] for column in range(len(CONTRIBUTION_HEADER))]
        row[0] = f"Pupil{j} Test" if j % 3 else row[0]  # most rows name a real pupil, so they are planned and emailed
        for c, cell_value in enumerate(row, start=1):
            _set(tab.cell(j + 2, c), cell_value)
    for j in range(n):  # rows a contributor's link finds: their own pupil, role and email, one hostile cell each
        row = [f"Pupil{j} Test", "EP" if j % 2 else "Class teacher", "Dr X", f"ep{j}@example.org"]
        row += [None] * (len(CONTRIBUTION_HEADER) - 4)
        row[4 + j % (len(CONTRIBUTION_HEADER) - 4)] = HOSTILE[j]
        for c, cell_value in enumerate(row, start=1):
            _set(tab.cell(n + j + 2, c), cell_value)
    book.save(path)
    _patch_non_finite(path)
    return path


def write_formatted_empty_rows(path: Path, today: date, rows: int = 50_000) -> Path:
    """Five pupils, then 50,000 rows with nothing in them but a fill and a number format (a "format to the bottom")."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Register"
    ws.append(list(HEADER))
    for i in range(5):
        ws.append(valid_row(i, today))
    fill = PatternFill("solid", start_color="FFF2CC")
    for r in range(7, 7 + rows):
        cell = ws.cell(r, 1)
        cell.fill = fill
        cell.number_format = "dd/mm/yyyy"
    book.save(path)
    return path


def write_empty_register(path: Path) -> Path:
    book = openpyxl.Workbook()
    book.active.append(list(HEADER))
    book.save(path)
    return path


def _patch_non_finite(path: Path) -> None:
    """Put infinities where the marks are, as another library may write them."""
    marks = {repr(INF_MARK): "1E999", repr(NEG_INF_MARK): "-1E999"}
    tmp = path.with_suffix(".tmp.xlsx")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                text = data.decode("utf-8")
                for mark, word in marks.items():
                    text = re.sub(rf"<v>{re.escape(mark)}</v>", f"<v>{word}</v>", text)
                data = text.encode("utf-8")
            dst.writestr(item, data)
    shutil.move(tmp, path)


def has_non_finite(path: Path) -> bool:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return any(
            isinstance(v, float) and not math.isfinite(v)
            for ws in book.worksheets
            for row in ws.iter_rows(values_only=True)
            for v in row
        )
    finally:
        book.close()
