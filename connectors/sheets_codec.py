"""The Google Sheets wire format: cells <-> ExtendedValue, a tab as spreadsheets.get describes it, and the
updateCells requests that write the product's cells (typed values and formats).

Other Sheets-compatible servers need not answer as Google does, so answers are read tolerantly: fields beyond the mask
are ignored, absent proto3 zeros and gridProperties are defaulted, and a cell without `effectiveValue` falls back to
what was typed (never a formula's text). Text is always written as `stringValue` (never a formula and never the
user-entered input option, so a value such as `=HYPERLINK(...)` stays inert text); dates as `numberValue` serials with
a DATE number format.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from connectors.base import CellValue, CellWrite

# Sheets and Excel share the 1899-12-30 epoch (it absorbs Lotus 1-2-3's phantom 29 Feb 1900).
_SERIAL_EPOCH = date(1899, 12, 30)

DEFAULT_DATE_FORMAT = "dd/mm/yyyy"  # Excel-style "dd/mm/yyyy" is also a valid Sheets date pattern
_ERROR_TEXT = {
    "NULL_VALUE": "#NULL!",
    "DIVIDE_BY_ZERO": "#DIV/0!",
    "VALUE": "#VALUE!",
    "REF": "#REF!",
    "NAME": "#NAME?",
    "NUM": "#NUM!",
    "N_A": "#N/A",
    "ERROR": "#ERROR!",
    "LOADING": "#LOADING",
}


_NO_VALUE = object()  # an ExtendedValue holding no kind this adapter knows


def _number(value: float) -> int | float:
    """Google sends a whole number as 5, some servers (Java's JSON writers) as 5.0: both read as Google's 5."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _extended_value(value: Any) -> Any:
    """An ExtendedValue as a cell value; `_NO_VALUE` when it holds none (absent, empty, or an unknown kind)."""
    if not isinstance(value, Mapping):
        return _NO_VALUE
    if "stringValue" in value:
        text = value["stringValue"]
        return str(text) if text not in (None, "") else None
    if "numberValue" in value:
        number = value["numberValue"]
        if isinstance(number, int | float) and not isinstance(number, bool):
            return _number(number)
        try:  # proto3 JSON may spell NaN/Infinity, or a lax server a number, as a string
            return _number(float(number))
        except (TypeError, ValueError):
            return _NO_VALUE
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "errorValue" in value:
        error = value["errorValue"] if isinstance(value["errorValue"], Mapping) else {}
        return _ERROR_TEXT.get(str(error.get("type", "ERROR")), "#ERROR!")
    return _NO_VALUE


def _cell_value(cell: Any) -> CellValue:
    """A CellData's value: the computed `effectiveValue`, else (a server that sends only what was typed) the
    `userEnteredValue` of a cell that is not a formula. A formula's text is never a value: without its computed value
    the cell reads as blank, as an uncalculated formula does in Excel."""
    if not isinstance(cell, Mapping):
        return None
    value = _extended_value(cell.get("effectiveValue"))
    if value is _NO_VALUE:
        entered = cell.get("userEnteredValue")
        if isinstance(entered, Mapping) and "formulaValue" not in entered:
            value = _extended_value(entered)
    return None if value is _NO_VALUE else value


def _place(rows: list[list[CellValue]], index: int, start_col: int, values: list[CellValue]) -> None:
    while values and values[-1] is None:
        values.pop()
    if not values:
        return
    while len(rows) <= index:
        rows.append([])
    row = rows[index]
    needed = start_col + len(values)
    if len(row) < needed:
        row.extend([None] * (needed - len(row)))
    row[start_col:needed] = values


def _int(value: Any) -> int:
    """A proto3 integer: absent (zero), a JSON number, or (int64) a string."""
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def grid_rows(sheet: Mapping[str, Any]) -> list[list[CellValue]]:
    """The tab's values from row 1 / column A (blank rows and cells kept, trailing blanks trimmed).

    Tolerant of what Sheets-compatible servers legitimately leave out or add: proto3 JSON omits zero fields (a
    missing startRow is row 0), empty rows come as {} with no `values`, trailing blank cells and rows are omitted, and
    a server that ignores the `fields` mask adds formattedValue, formats and the like, which are simply not read."""
    rows: list[list[CellValue]] = []
    blocks = sheet.get("data")
    for block in blocks if isinstance(blocks, list) else []:
        if not isinstance(block, Mapping):
            continue
        start_row = _int(block.get("startRow"))
        start_col = _int(block.get("startColumn"))
        row_data = block.get("rowData")
        for offset, row in enumerate(row_data if isinstance(row_data, list) else []):
            cells = row.get("values") if isinstance(row, Mapping) else None
            values = [_cell_value(c) for c in cells] if isinstance(cells, list) else []
            _place(rows, start_row + offset, start_col, values)
    return rows


def grid_formulas(sheet: Mapping[str, Any]) -> frozenset[tuple[int, int]]:
    """The tab's formula cells, 0-based (row, column): those whose `userEnteredValue` has a `formulaValue`."""
    found: set[tuple[int, int]] = set()
    blocks = sheet.get("data")
    for block in blocks if isinstance(blocks, list) else []:
        if not isinstance(block, Mapping):
            continue
        start_row, start_col = _int(block.get("startRow")), _int(block.get("startColumn"))
        row_data = block.get("rowData")
        for offset, row in enumerate(row_data if isinstance(row_data, list) else []):
            cells = row.get("values") if isinstance(row, Mapping) else None
            for index, cell in enumerate(cells if isinstance(cells, list) else []):
                entered = cell.get("userEnteredValue") if isinstance(cell, Mapping) else None
                if isinstance(entered, Mapping) and "formulaValue" in entered:
                    found.add((start_row + offset, start_col + index))
    return frozenset(found)


def _a1_column(letters: str) -> int:
    index = 0
    for letter in letters.upper():
        index = index * 26 + ord(letter) - 64
    return max(index - 1, 0)


def split_range(text: Any) -> tuple[str | None, int, int]:
    """A returned A1 range ("'My tab'!A1:Z1000", "Tab!B3:F9", "'Tab'") as (tab title, first row, first column)."""
    if not isinstance(text, str) or not text:
        return None, 0, 0
    quoted = re.fullmatch(r"'((?:[^']|'')*)'(?:!(.*))?", text)
    if quoted:
        title, cells = quoted.group(1).replace("''", "'"), quoted.group(2) or ""
    elif "!" in text:
        title, cells = text.rsplit("!", 1)
    else:
        title, cells = text, ""
    corner = re.match(r"([A-Za-z]*)(\d*)", cells.split(":", 1)[0])
    letters, digits = (corner.group(1), corner.group(2)) if corner else ("", "")
    return title, max(int(digits) - 1, 0) if digits else 0, _a1_column(letters) if letters else 0


def _plain_value(value: Any) -> CellValue:
    """One value of a values:batchGet answer (UNFORMATTED_VALUE): a number, a string, a boolean; "" is blank."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, str):
        return value or None
    return None


def values_rows(value_range: Mapping[str, Any]) -> list[list[CellValue]]:
    """A ValueRange's values placed from row 1 / column A, as `grid_rows` gives them."""
    _title, row0, col0 = split_range(value_range.get("range"))
    values = value_range.get("values")
    grid = [list(r) if isinstance(r, list) else [] for r in values] if isinstance(values, list) else []
    if str(value_range.get("majorDimension", "ROWS")).upper() == "COLUMNS":  # a server that ignored majorDimension
        height = max((len(c) for c in grid), default=0)
        grid = [[c[r] if r < len(c) else None for c in grid] for r in range(height)]
    rows: list[list[CellValue]] = []
    for offset, row in enumerate(grid):
        _place(rows, row0 + offset, col0, [_plain_value(v) for v in row])
    return rows


def _serial(value: date | datetime) -> float | int:
    days = ((value.date() if isinstance(value, datetime) else value) - _SERIAL_EPOCH).days
    if isinstance(value, datetime):
        seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
        return days + seconds / 86400  # wall-clock time as typed; Sheets serials carry no time zone
    return days


def _colour(hex_rgb: str) -> dict[str, float]:
    hex_rgb = hex_rgb.lstrip("#")[-6:]
    red, green, blue = (round(int(hex_rgb[i : i + 2], 16) / 255, 4) for i in (0, 2, 4))
    return {"red": red, "green": green, "blue": blue}


# Every AR cell sets the same fields, as the workbook adapter does: a field the CellWrite leaves empty is reset, so a
# fill from an earlier run (OVERDUE red, now ON TRACK) or a date format on a cell that now holds text does not linger.
OWNED_CELL_FIELDS = (
    "userEnteredValue",
    "userEnteredFormat.numberFormat",
    "userEnteredFormat.backgroundColor",
    "userEnteredFormat.textFormat.bold",
)
SHEETS_CELL_LIMIT = 50_000  # characters Google Sheets holds in one cell


def cell_data(cell: CellWrite) -> dict[str, Any]:
    """The CellData for one AR cell (written under the OWNED_CELL_FIELDS mask)."""
    data: dict[str, Any] = {}
    value = cell.value
    fmt: dict[str, Any] = {}
    if value is None or value == "":
        pass  # the value is in the mask but absent from the data: the cell is cleared (Sheets keeps no empty text)
    elif isinstance(value, bool):
        data["userEnteredValue"] = {"boolValue": value}
    elif isinstance(value, date):  # datetime too
        data["userEnteredValue"] = {"numberValue": _serial(value)}
        kind = "DATE_TIME" if isinstance(value, datetime) else "DATE"
        fmt["numberFormat"] = {"type": kind, "pattern": cell.number_format or DEFAULT_DATE_FORMAT}
    elif isinstance(value, int | float):
        data["userEnteredValue"] = {"numberValue": value}
        if cell.number_format:
            fmt["numberFormat"] = {"type": "NUMBER", "pattern": cell.number_format}
    else:
        # Text is always stringValue: "=HYPERLINK(...)" or "+44..." must stay text, never become a formula.
        data["userEnteredValue"] = {"stringValue": str(value)[:SHEETS_CELL_LIMIT]}
        if cell.number_format and cell.number_format != "General":
            fmt["numberFormat"] = {"type": "TEXT", "pattern": cell.number_format}
    if cell.fill:
        fmt["backgroundColor"] = _colour(cell.fill)
    if cell.bold:
        fmt["textFormat"] = {"bold": True}
    if fmt:
        data["userEnteredFormat"] = fmt
    return data


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def a1_sheet(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


@dataclass(frozen=True)
class Tab:
    sheet_id: int
    column_count: int
    rows: list[list[CellValue]]
    merges: list[Mapping[str, Any]]
    row_count: int = 1000
    # Per row (0-based), one past the last cell with a background colour the SENDCo set; only when re-read with
    # formats (the first write of new columns), else empty.
    filled_widths: tuple[int, ...] = ()
    # The formula cells now, 0-based (row, column): the SENDCo's, never written (connectors.placement).
    formulas: frozenset[tuple[int, int]] = frozenset()


# The write-time re-read: what _READ_FIELDS holds for the tabs being written. `_FILLS_FIELDS` adds each cell's own


def filled_widths(sheet: Mapping[str, Any]) -> tuple[int, ...]:
    """Per row, one past the last cell whose userEnteredFormat has a backgroundColor (proto3 leaves black as {})."""
    widths: list[int] = []
    blocks = sheet.get("data")
    for block in blocks if isinstance(blocks, list) else []:
        if not isinstance(block, Mapping):
            continue
        start_row, start_col = _int(block.get("startRow")), _int(block.get("startColumn"))
        row_data = block.get("rowData")
        for offset, row in enumerate(row_data if isinstance(row_data, list) else []):
            cells = row.get("values") if isinstance(row, Mapping) else None
            width = 0
            for index, cell in enumerate(cells if isinstance(cells, list) else []):
                fmt = cell.get("userEnteredFormat") if isinstance(cell, Mapping) else None
                if isinstance(fmt, Mapping) and "backgroundColor" in fmt:
                    width = start_col + index + 1
            if width:
                index = start_row + offset
                widths.extend([0] * (index + 1 - len(widths)))
                widths[index] = max(widths[index], width)
    return tuple(widths)


# A new tab's grid (Google's own default size): room for the appended rows without an appendDimension.
_NEW_TAB_ROWS, _NEW_TAB_COLUMNS = 1000, 26


def tab_from(sheet: Mapping[str, Any], rows: list[list[CellValue]]) -> Tab:
    """A tab as spreadsheets.get describes it, with `rows` as they are now.

    Google always sends gridProperties for a grid tab; a server that leaves them out is taken to have at least
    Google's default 1000 x 26 grid (and never less than the cells and merges it holds), so appendDimension is sent
    only when the product's columns really go past that."""
    props = sheet.get("properties")
    props = props if isinstance(props, Mapping) else {}
    grid = props.get("gridProperties")
    merges_raw = sheet.get("merges")
    merges = [m for m in merges_raw if isinstance(m, Mapping)] if isinstance(merges_raw, list) else []
    used_rows = max([len(rows), *(_int(m.get("endRowIndex")) for m in merges)])
    used_columns = max([0, *(len(r) for r in rows), *(_int(m.get("endColumnIndex")) for m in merges)])
    if isinstance(grid, Mapping):
        row_count, column_count = _int(grid.get("rowCount")), _int(grid.get("columnCount"))
    else:
        row_count, column_count = _NEW_TAB_ROWS, _NEW_TAB_COLUMNS
    return Tab(
        sheet_id=_int(props.get("sheetId")),  # proto3: the first tab's id 0 is often omitted
        column_count=max(column_count, used_columns),
        rows=rows,
        merges=merges,
        row_count=max(row_count, used_rows),
    )


def sheet_entries(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    sheets = body.get("sheets")
    return [s for s in sheets if isinstance(s, Mapping)] if isinstance(sheets, list) else []


def title_of(sheet: Mapping[str, Any]) -> str:
    props = sheet.get("properties")
    return str(props.get("title", "")) if isinstance(props, Mapping) else ""


def is_grid(sheet: Mapping[str, Any]) -> bool:
    """False for a chart tab (sheetType OBJECT), which has no cells and no A1 range."""
    props = sheet.get("properties")
    return not isinstance(props, Mapping) or props.get("sheetType", "GRID") in ("GRID", None, "")
