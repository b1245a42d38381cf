"""Reads the LA's termly list as LAs send it: a CSV file (UTF-8 with or without a byte-order mark, or Windows-1252;
commas, semicolons or tabs) or an Excel workbook (.xlsx / .xlsm, every sheet). Cells only: what they mean is decided
in functions/la_list.py. Problems with the file as a whole are one sentence (`LAFileError`)."""

from __future__ import annotations

import csv
import io
import zipfile
from collections import Counter
from pathlib import Path

from openpyxl import load_workbook

from connectors.base import CellValue

# A termly list is a few hundred rows at most; anything far larger is not the LA's list.
_MAX_BYTES = 20 * 1024 * 1024


class LAFileError(ValueError):
    """The LA's file cannot be read. `str(err)` names the file and the fix."""


def _decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def _csv_rows(raw: bytes) -> list[list[CellValue]]:
    """The delimiter that gives the most rows of one same width (ties: the wider): csv.Sniffer takes the comma in
    "Surname, forename" for the delimiter of a semicolon file."""
    text = _decode(raw)
    best: tuple[int, int] = (-1, -1)
    chosen: list[list[str]] = []
    for delimiter in (",", ";", "\t"):
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
        widths = Counter(len(row) for row in rows if len(row) > 1)
        if widths:
            width, count = widths.most_common(1)[0]
            if (count, width) > best:
                best, chosen = (count, width), rows
    if not chosen:
        chosen = list(csv.reader(io.StringIO(text)))
    return [[cell.strip() or None for cell in row] for row in chosen]


def read_la_file(path: Path) -> list[tuple[str, list[list[CellValue]]]]:
    """(sheet name, rows) for each sheet of the file; a CSV file is one sheet named after the file."""
    if not path.is_file():
        raise LAFileError(f"{path}: no such file; give the path of the LA's list (CSV or .xlsx).")
    if path.stat().st_size > _MAX_BYTES:
        raise LAFileError(f"{path.name}: the file is over 20 MB, too large to be a termly list.")
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise LAFileError(f"{path.name}: old-style .xls workbooks cannot be read; open it and save it as .xlsx or CSV.")
    raw = path.read_bytes()
    if suffix in (".xlsx", ".xlsm") or raw[:2] == b"PK":
        try:
            workbook = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
        except (zipfile.BadZipFile, OSError, KeyError, ValueError):
            raise LAFileError(
                f"{path.name}: this is not a workbook Excel can open; ask the LA for CSV or .xlsx."
            ) from None
        try:
            return [(ws.title, [list(row) for row in ws.iter_rows(values_only=True)]) for ws in workbook.worksheets]
        finally:
            workbook.close()
    if b"\x00" in raw[:1024]:
        raise LAFileError(f"{path.name}: this is not a text (CSV) file or an .xlsx workbook; ask the LA for either.")
    return [(path.name, _csv_rows(raw))]
