"""The values Excel last computed for a sheet's formula cells, read straight from the sheet's XML (issue 16).

The register is loaded with its formulas (so a save keeps them), which leaves formula cells without their cached value;
the product reads that value instead (docs/register.md s3). A second, read-only openpyxl load of the sheet gave it, at
the cost of parsing every cell again into objects: 0.37 s for a 2,000-pupil register with one formula column, a third
of a bare openpyxl load and save. Here one pass over the sheet's XML keeps only the cells asked for, converted exactly as
openpyxl's reader converts them (numbers, dates by the cell's own number format, booleans, errors, text). Anything this
does not handle (a cached value held in the shared strings, an ISO date, a cell without a reference, a part that cannot
be found) returns None, and the caller falls back on openpyxl's read-only load.
"""

from __future__ import annotations

import zipfile
from collections.abc import Collection, Set
from datetime import datetime
from pathlib import Path

from openpyxl.utils.cell import get_column_letter
from openpyxl.utils.datetime import from_excel
from openpyxl.xml.constants import SHEET_MAIN_NS
from openpyxl.xml.functions import iterparse

_CELL, _ROW = f"{{{SHEET_MAIN_NS}}}c", f"{{{SHEET_MAIN_NS}}}row"
_VALUE = f"{{{SHEET_MAIN_NS}}}v"


class _Unhandled(Exception):
    """A cell this reader does not convert itself: the caller uses openpyxl's read-only load instead."""


def sheet_part(archive: zipfile.ZipFile, title: str) -> str | None:
    """The zip member holding the worksheet called `title`, found through the package's own relationships."""
    from openpyxl.packaging.manifest import Manifest
    from openpyxl.reader.excel import _find_workbook_part
    from openpyxl.reader.workbook import WorkbookParser
    from openpyxl.xml.constants import ARC_CONTENT_TYPES
    from openpyxl.xml.functions import fromstring

    package = Manifest.from_tree(fromstring(archive.read(ARC_CONTENT_TYPES)))
    parser = WorkbookParser(archive, _find_workbook_part(package).PartName[1:], keep_links=False)
    parser.parse()
    for sheet, rel in parser.find_sheets():
        if sheet.name == title:
            return str(rel.target).lstrip("/")
    return None


def cached_values(
    path: Path,
    title: str,
    wanted: Collection[tuple[int, int]],
    *,
    epoch: datetime,
    date_styles: Set[int],
    duration_styles: Set[int],
) -> dict[tuple[int, int], object] | None:
    """(row, column) -> the cached value, for every wanted cell (None where the file holds no value); None when a
    cell or the file is one this reader leaves to openpyxl. `epoch` and the style indexes that format dates and
    durations are the loaded workbook's own (`wb.epoch`, `wb._date_formats`, `wb._timedelta_formats`), which openpyxl's
    reader uses for the same decision."""
    # Matched by the cell's reference as written ("Z5"): no parsing of the tens of thousands of other references.
    by_ref = {f"{get_column_letter(c)}{r}": (r, c) for r, c in wanted}
    try:
        with zipfile.ZipFile(path) as archive:
            part = sheet_part(archive, title)
            if part is None:
                return None
            found: dict[tuple[int, int], object] = dict.fromkeys(by_ref.values())
            with archive.open(part) as stream:
                for _, element in iterparse(stream, events=("end",)):
                    if element.tag == _CELL:
                        ref = element.get("r")
                        if ref is None:
                            return None  # cells numbered by position: openpyxl counts them
                        cell = by_ref.get(ref)
                        if cell is not None:
                            style = int(element.get("s", 0) or 0)
                            found[cell] = _convert(
                                element.get("t", "n"),
                                element.findtext(_VALUE),
                                date=style in date_styles,
                                duration=style in duration_styles,
                                epoch=epoch,
                            )
                    elif element.tag == _ROW:
                        element.clear()  # a row done with: its cells are not kept (a 10,000-row sheet stays small)
            return found
    except _Unhandled:
        return None
    except (KeyError, OSError, ValueError, SyntaxError, zipfile.BadZipFile, AttributeError, TypeError):
        return None  # an unusual package (SyntaxError: XML it cannot parse): openpyxl's own reader decides


def _convert(kind: str, text: str | None, *, date: bool, duration: bool, epoch: datetime) -> object:
    """The value openpyxl's reader gives a cell of type `kind` holding `text` (openpyxl/worksheet/_reader.py)."""
    if not text:
        return None
    if kind == "n":
        number: int | float = float(text) if ("." in text or "E" in text or "e" in text) else int(text)
        if not date:
            return number
        try:
            return from_excel(number, epoch, timedelta=duration)
        except (OverflowError, ValueError):
            return "#VALUE!"  # openpyxl's reading of a date serial out of range
    if kind == "b":
        return bool(int(text))
    if kind in ("str", "e"):
        return text
    raise _Unhandled(kind)  # "s" (shared strings), "d" (ISO dates), "inlineStr": openpyxl's reader
