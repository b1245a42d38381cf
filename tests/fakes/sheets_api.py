"""A small fake of the Google Sheets API v4, served over a real socket, for the connector's tests.

It speaks only what the product uses, and checks it strictly:
- GET  /v4/spreadsheets/{id}?includeGridData=...&ranges=...&fields=...   (spreadsheets.get, partial-response masks)
- GET  /v4/spreadsheets/{id}/values:batchGet?ranges='Tab'&valueRenderOption=UNFORMATTED_VALUE  (whole tabs only)
- POST /v4/spreadsheets/{id}:batchUpdate  with updateCells, appendDimension and addSheet requests, applied atomically
Everything else (notably every values.* write, so any USER_ENTERED write) answers 400 and is recorded.

Other Sheets-compatible servers answer spreadsheets.get differently, and the adapter must not depend on the ways
Google (and this fake, by default) does it. `SERVER_MODES` names the variations, each a set of constructor flags:
- "lax": the `fields` mask and the `ranges` parameter are ignored, so every tab comes back with everything
  (userEnteredValue, formattedValue, formats, row metadata...);
- "no_grid_data": includeGridData is ignored, so spreadsheets.get sends no `data`; values come from values:batchGet;
- "minimal": only what was typed (userEnteredValue, no effectiveValue; a formula is its text only), no gridProperties,
  merges or sheetType, proto3 zeros left out (the first tab's sheetId is 0, so absent), masks not implemented, the
  grid grows to fit whatever is written, and batchUpdate answers an empty object.

Faults are queued: each `Fault` is consumed by the next request that matches it. Hooks run after the n-th request, to
change the sheet between the sweep's read and its write (a colleague inserting a row, re-sorting).

    with FakeSheetsServer() as server:
        server.load("KEY", {"Register": [["Name", "DOB"], ["Ann", 40000]]})
        server.faults.append(Fault(status=429, retry_after=0.1))
        ...
        server.dump("KEY", "Register")  # [[...values...]]
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import unquote

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

_EPOCH = datetime(1899, 12, 30)


@dataclass(frozen=True)
class Formula:
    """A formula cell with the value Sheets computed for it."""

    text: str
    value: Any


@dataclass
class Fault:
    """Answer the next matching request badly. `kind` is "get", "batchUpdate" or None (any)."""

    status: int | None = None  # e.g. 429, 500
    json_body: bool = True  # False: a bare text body, as a proxy or the Google front end may send
    retry_after: float | None = None
    delay: float = 0.0  # seconds to wait before answering (a slow server); then the request is served normally
    kind: str | None = None


@dataclass
class RequestRecord:
    method: str
    path: str
    args: dict[str, list[str]]
    body: Any
    status: int = 0
    authorization: str | None = None  # the Authorization header as sent (anonymous credentials send none)


@dataclass
class FakeSheet:
    sheet_id: int
    title: str
    row_count: int
    column_count: int
    cells: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)  # (row, col) -> CellData
    merges: list[dict[str, int]] = field(default_factory=list)  # GridRange dicts, 0-based, end exclusive
    column_pixels: dict[int, int] = field(default_factory=dict)  # 0-based column -> pixelSize set by the API


class BadRequest(Exception):
    pass


def _extended(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, datetime):
        delta = value - _EPOCH
        return {"numberValue": delta.days + delta.seconds / 86400}
    if isinstance(value, date):
        return {"numberValue": (value - _EPOCH.date()).days}
    if isinstance(value, int | float):
        return {"numberValue": value}
    return {"stringValue": str(value)}


def _cell_from_python(value: Any) -> dict[str, Any] | None:
    if value is None or value == "":
        return None
    if isinstance(value, Formula):
        return {"userEnteredValue": {"formulaValue": value.text}, "effectiveValue": _extended(value.value)}
    cell: dict[str, Any] = {"userEnteredValue": _extended(value), "effectiveValue": _extended(value)}
    if isinstance(value, date):
        cell["userEnteredFormat"] = {"numberFormat": {"type": "DATE", "pattern": "dd/mm/yyyy"}}
    return cell


def _python_value(cell: dict[str, Any] | None) -> Any:
    if not cell:
        return None
    value = cell.get("effectiveValue") or {}
    for kind in ("stringValue", "numberValue", "boolValue"):
        if kind in value:
            return value[kind]
    if "errorValue" in value:
        return "#" + value["errorValue"].get("type", "ERROR")
    return None


def _formatted(cell: dict[str, Any]) -> str:
    """The cell as shown (formattedValue): dates as dd/mm/yyyy, so a reader that used it would break parity."""
    value = cell.get("effectiveValue") or {}
    number_format = (cell.get("userEnteredFormat") or {}).get("numberFormat") or {}
    if "numberValue" in value and number_format.get("type") in ("DATE", "DATE_TIME"):
        return (_EPOCH + timedelta(days=float(value["numberValue"]))).strftime("%d/%m/%Y")
    if "boolValue" in value:
        return "TRUE" if value["boolValue"] else "FALSE"
    if "errorValue" in value:
        return "#" + str(value["errorValue"].get("type", "ERROR"))
    return str(next(iter(value.values()), ""))


_ERROR_TEXT = {"N_A": "#N/A", "DIVIDE_BY_ZERO": "#DIV/0!", "VALUE": "#VALUE!", "REF": "#REF!", "NAME": "#NAME?"}


def _unformatted(cell: dict[str, Any] | None) -> Any:
    """A cell as values:batchGet gives it with UNFORMATTED_VALUE: the computed value, "" when blank."""
    value = (cell or {}).get("effectiveValue") or {}
    for kind in ("stringValue", "numberValue", "boolValue"):
        if kind in value:
            return value[kind]
    if "errorValue" in value:
        return _ERROR_TEXT.get(value["errorValue"].get("type"), "#ERROR!")
    return ""


def _column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


# The server variations the adapter is tested against (see the module docstring), by name.
SERVER_MODES: dict[str, dict[str, bool]] = {
    "google": {},
    "lax": {"ignore_fields": True, "ignore_ranges": True},
    "no_grid_data": {"no_grid_data": True},
    "minimal": {"minimal": True},
}


# ---- partial-response field masks: "a.b,c(d,e/f)" ----


def _parse_mask(text: str) -> dict[str, Any]:
    """A tree {name: subtree or None (everything)}."""
    pos = 0

    def parse_list() -> dict[str, Any]:
        nonlocal pos
        tree: dict[str, Any] = {}
        while True:
            match = re.compile(r"[A-Za-z_*][A-Za-z0-9_]*(?:[./][A-Za-z_*][A-Za-z0-9_]*)*").match(text, pos)
            if not match:
                raise BadRequest(f"Invalid field selection at {text[pos:]!r}")
            pos = match.end()
            names = re.split(r"[./]", match.group(0))
            sub: dict[str, Any] | None = None
            if pos < len(text) and text[pos] == "(":
                pos += 1
                sub = parse_list()
                if pos >= len(text) or text[pos] != ")":
                    raise BadRequest("Unbalanced parentheses in fields")
                pos += 1
            node = tree
            for name in names[:-1]:
                existing = node.get(name, {})
                node[name] = existing if isinstance(existing, dict) else None
                if node[name] is None:
                    break
                node = node[name]
            else:
                last = names[-1]
                if sub is None or (node.get(last, {}) is None and last in node):
                    node[last] = None
                else:
                    merged = node.get(last) or {}
                    merged.update(sub)
                    node[last] = merged
            if pos < len(text) and text[pos] == ",":
                pos += 1
                continue
            return tree

    tree = parse_list()
    if pos != len(text):
        raise BadRequest(f"Invalid field selection at {text[pos:]!r}")
    return tree


def _apply_mask(value: Any, mask: dict[str, Any] | None, known: bool = True) -> Any:
    if mask is None or "*" in mask:
        return value
    if isinstance(value, list):
        return [_apply_mask(v, mask) for v in value]
    if not isinstance(value, dict):
        return value
    return {k: _apply_mask(v, mask[k]) for k, v in value.items() if k in mask}


# ---- A1 ranges: 'Sheet name'!A1:C9 or Sheet1 ----


def _sheet_of_range(text: str) -> str:
    text = text.strip()
    if text.startswith("'"):
        match = re.fullmatch(r"'((?:[^']|'')*)'(?:!.*)?", text)
        if not match:
            raise BadRequest(f"Unable to parse range: {text}")
        return match.group(1).replace("''", "'")
    return text.split("!", 1)[0]


# CellFormat and TextFormat fields (Sheets API v4 reference), so a misspelt key is refused, not ignored.
_CELL_FORMAT_KEYS = {
    "numberFormat",
    "backgroundColor",
    "backgroundColorStyle",
    "borders",
    "padding",
    "horizontalAlignment",
    "verticalAlignment",
    "wrapStrategy",
    "textDirection",
    "textFormat",
    "hyperlinkDisplayType",
    "textRotation",
}
_TEXT_FORMAT_KEYS = {
    "foregroundColor",
    "foregroundColorStyle",
    "fontFamily",
    "fontSize",
    "bold",
    "italic",
    "strikethrough",
    "underline",
    "link",
}


def _first_null(value: Any, where: str = "$") -> str | None:
    """Where the first JSON null in a request body is, if any."""
    if value is None:
        return where
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, inner in items:
        found = _first_null(inner, f"{where}.{key}")
        if found:
            return found
    return None


_UPDATE_FIELDS = {
    "userEnteredValue",
    "userEnteredFormat",
    "userEnteredFormat.numberFormat",
    "userEnteredFormat.backgroundColor",
    "userEnteredFormat.textFormat",
    "userEnteredFormat.textFormat.bold",
    "note",
}


class FakeSpreadsheets:
    """The state and the API logic, independent of HTTP (so tests may also poke it directly)."""

    def __init__(
        self,
        *,
        allow_formulas: bool = False,
        ignore_fields: bool = False,
        ignore_ranges: bool = False,
        no_grid_data: bool = False,
        minimal: bool = False,
    ) -> None:
        self.books: dict[str, dict[str, Any]] = {}
        self.allow_formulas = allow_formulas
        self.ignore_fields = ignore_fields
        self.ignore_ranges = ignore_ranges
        self.no_grid_data = no_grid_data
        self.minimal = minimal
        self.lock = threading.RLock()

    # -- test helpers --

    def load(
        self, key: str, sheets: dict[str, Sequence[Sequence[Any]]], *, title: str = "Register", min_columns: int = 26
    ) -> None:
        with self.lock:
            book: dict[str, Any] = {"title": title, "sheets": []}
            for number, (name, rows) in enumerate(sheets.items()):
                width = max((len(r) for r in rows), default=0)
                sheet = FakeSheet(
                    sheet_id=(0 if self.minimal else 1000) + number,
                    title=name,
                    row_count=max(1000, len(rows)),
                    column_count=max(min_columns, width),
                )
                for r, row in enumerate(rows):
                    for c, value in enumerate(row):
                        cell = _cell_from_python(value)
                        if cell:
                            sheet.cells[(r, c)] = cell
                book["sheets"].append(sheet)
            self.books[key] = book

    def load_workbook(self, key: str, path: Any, *, title: str | None = None) -> None:
        """The same register as an Excel workbook holds: every tab's values (formulas as their cached values) and
        merged ranges, so a sweep of the sheet can be compared with a sweep of the workbook."""
        from openpyxl import load_workbook

        workbook = load_workbook(path, data_only=True)
        tabs: dict[str, Sequence[Sequence[Any]]] = {}
        for ws in workbook.worksheets:
            tabs[ws.title] = [list(row) for row in ws.iter_rows(values_only=True)]
        self.load(key, tabs, title=title or str(getattr(path, "name", path)))
        for ws in workbook.worksheets:
            self.sheet(key, ws.title).merges = [
                {
                    "startRowIndex": m.min_row - 1,
                    "endRowIndex": m.max_row,
                    "startColumnIndex": m.min_col - 1,
                    "endColumnIndex": m.max_col,
                }
                for m in ws.merged_cells.ranges
            ]

    def sheet(self, key: str, title: str) -> FakeSheet:
        for sheet in self.books[key]["sheets"]:
            if sheet.title == title:
                return sheet
        raise KeyError(title)

    def dump(self, key: str, title: str) -> list[list[Any]]:
        """Effective values from A1, trailing blanks trimmed."""
        with self.lock:
            sheet = self.sheet(key, title)
            if not sheet.cells:
                return []
            rows = max(r for r, _ in sheet.cells) + 1
            cols = max(c for _, c in sheet.cells) + 1
            out = [[_python_value(sheet.cells.get((r, c))) for c in range(cols)] for r in range(rows)]
            for row in out:
                while row and row[-1] is None:
                    row.pop()
            return out

    def dump_cells(self, key: str, title: str) -> dict[tuple[int, int], dict[str, Any]]:
        """Every stored CellData (userEnteredValue, effectiveValue, userEnteredFormat) by 0-based (row, column)."""
        with self.lock:
            return copy.deepcopy(self.sheet(key, title).cells)

    def insert_row(self, key: str, title: str, before_row: int, values: Sequence[Any]) -> None:
        """Insert a row before the 1-based `before_row`, as a colleague would, shifting everything below down."""
        with self.lock:
            sheet = self.sheet(key, title)
            index = before_row - 1
            moved = {((r + 1 if r >= index else r), c): cell for (r, c), cell in sheet.cells.items()}
            for c, value in enumerate(values):
                cell = _cell_from_python(value)
                if cell:
                    moved[(index, c)] = cell
                else:
                    moved.pop((index, c), None)
            sheet.cells = moved
            sheet.row_count += 1

    def delete_row(self, key: str, title: str, row: int) -> None:
        with self.lock:
            sheet = self.sheet(key, title)
            index = row - 1
            sheet.cells = {((r - 1 if r > index else r), c): cell for (r, c), cell in sheet.cells.items() if r != index}
            sheet.row_count -= 1

    def sort_rows(
        self, key: str, title: str, first_row: int, sort_key: Callable[[list[Any]], Any], *, reverse: bool = False
    ) -> None:
        """Re-sort the rows from the 1-based `first_row` down (whole rows move, formats with them)."""
        with self.lock:
            sheet = self.sheet(key, title)
            start = first_row - 1
            last = max((r for r, _ in sheet.cells), default=-1)
            width = max((c for _, c in sheet.cells), default=-1) + 1
            block = [[sheet.cells.get((r, c)) for c in range(width)] for r in range(start, last + 1)]
            block.sort(key=lambda cells: sort_key([_python_value(cell) for cell in cells]), reverse=reverse)
            kept = {(r, c): cell for (r, c), cell in sheet.cells.items() if r < start}
            for offset, cells in enumerate(block):
                for c, cell in enumerate(cells):
                    if cell:
                        kept[(start + offset, c)] = cell
            sheet.cells = kept

    # -- the API --

    @property
    def read_requests(self) -> int:
        """Requests the adapter's read() costs against this server: one more without grid data (values:batchGet)."""
        return 2 if self.no_grid_data else 1

    @property
    def sweep_requests(self) -> int:
        """Requests a whole sweep costs: the read, one re-read and one batchUpdate."""
        return self.read_requests + 2

    def get(self, key: str, args: dict[str, list[str]]) -> dict[str, Any]:
        book = self.books.get(key)
        if book is None:
            raise LookupError(key)
        grid = args.get("includeGridData", ["false"])[-1].lower() == "true" and not self.no_grid_data
        ranges = [] if self.ignore_ranges else args.get("ranges", [])
        wanted = {_sheet_of_range(r) for r in ranges}
        for name in wanted:
            if not any(s.title == name for s in book["sheets"]):
                raise BadRequest(f"Unable to parse range: {name}")
        sheets = []
        for index, sheet in enumerate(book["sheets"]):
            if wanted and sheet.title not in wanted:
                continue
            props: dict[str, Any] = {
                "sheetId": sheet.sheet_id,
                "title": sheet.title,
                "index": index,
                "sheetType": "GRID",
                "gridProperties": {"rowCount": sheet.row_count, "columnCount": sheet.column_count},
            }
            if self.minimal:
                del props["sheetType"], props["gridProperties"]
            for name in ("sheetId", "index"):  # proto3 JSON omits zeros
                if props[name] == 0:
                    del props[name]
            entry: dict[str, Any] = {"properties": props}
            if sheet.merges and not self.minimal:
                entry["merges"] = [{"sheetId": sheet.sheet_id, **m} for m in sheet.merges]
            if grid:
                entry["data"] = [self._grid_data(sheet)]
            if self.ignore_fields:
                entry["conditionalFormats"] = []
                entry["protectedRanges"] = []
            sheets.append(entry)
        body = {
            "spreadsheetId": key,
            "properties": {"title": book["title"], "locale": "en_GB", "timeZone": "Europe/London"},
            "sheets": sheets,
            "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{key}/edit",
        }
        fields = args.get("fields", [None])[-1]
        if fields:
            mask = _parse_mask(fields)  # still parsed: a malformed mask is refused by every server
            if not (self.ignore_fields or self.minimal):
                body = _apply_mask(body, mask)
        return body

    def _render_cell(self, cell: dict[str, Any]) -> dict[str, Any]:
        if self.minimal:  # only what was typed
            return {k: copy.deepcopy(v) for k, v in cell.items() if k == "userEnteredValue"}
        out = copy.deepcopy(cell)
        if self.ignore_fields and cell:
            out["formattedValue"] = _formatted(cell)
            if "userEnteredFormat" in cell:
                out["effectiveFormat"] = copy.deepcopy(cell["userEnteredFormat"])
        return out

    def _grid_data(self, sheet: FakeSheet) -> dict[str, Any]:
        rows = max((r for r, _ in sheet.cells), default=-1) + 1
        by_row: dict[int, dict[int, dict[str, Any]]] = {}
        for (r, c), cell in sheet.cells.items():
            by_row.setdefault(r, {})[c] = cell
        row_data: list[dict[str, Any]] = []
        for r in range(rows):
            cells = by_row.get(r, {})
            if not cells:
                row_data.append({})
                continue
            width = max(cells) + 1
            row_data.append({"values": [self._render_cell(cells.get(c, {})) for c in range(width)]})
        block: dict[str, Any] = {"rowData": row_data}  # startRow/startColumn are 0, so omitted as Google does
        if self.ignore_fields:
            block["rowMetadata"] = [{"pixelSize": 21} for _ in range(rows)]
            block["columnMetadata"] = [{"pixelSize": 100}]
        return block

    def values_batch_get(self, key: str, args: dict[str, list[str]]) -> dict[str, Any]:
        """values:batchGet as the adapter's fallback uses it: whole tabs, unformatted values, dates as serials."""
        book = self.books.get(key)
        if book is None:
            raise LookupError(key)
        if args.get("valueRenderOption", ["FORMATTED_VALUE"])[-1] != "UNFORMATTED_VALUE":
            raise BadRequest("this fake serves valueRenderOption=UNFORMATTED_VALUE only (formatted text breaks dates)")
        if args.get("dateTimeRenderOption", ["SERIAL_NUMBER"])[-1] != "SERIAL_NUMBER":
            raise BadRequest("this fake serves dateTimeRenderOption=SERIAL_NUMBER only")
        if args.get("majorDimension", ["ROWS"])[-1] != "ROWS":
            raise BadRequest("this fake serves majorDimension=ROWS only")
        ranges = args.get("ranges", [])
        if not ranges:
            raise BadRequest("ranges is required")
        value_ranges = []
        for text in ranges:
            name = _sheet_of_range(text)
            if text.strip() not in (name, "'" + name.replace("'", "''") + "'"):
                raise BadRequest(f"this fake serves whole tabs only, not {text!r}")
            try:
                sheet = self.sheet(key, name)
            except KeyError:
                raise BadRequest(f"Unable to parse range: {text}") from None
            last = f"{_column_letters(sheet.column_count - 1)}{sheet.row_count}"
            entry: dict[str, Any] = {
                "range": f"'{name.replace(chr(39), chr(39) * 2)}'!A1:{last}",
                "majorDimension": "ROWS",
            }
            if sheet.cells:
                height = max(r for r, _ in sheet.cells) + 1
                values: list[list[Any]] = []
                for r in range(height):
                    row = [_unformatted(sheet.cells.get((r, c))) for c in range(sheet.column_count)]
                    while row and row[-1] == "":
                        row.pop()
                    values.append(row)
                entry["values"] = values
            value_ranges.append(entry)
        return {"spreadsheetId": key, "valueRanges": value_ranges}

    def batch_update(self, key: str, body: Any) -> dict[str, Any]:
        book = self.books.get(key)
        if book is None:
            raise LookupError(key)
        if not isinstance(body, dict) or not isinstance(body.get("requests"), list) or not body["requests"]:
            raise BadRequest("Invalid requests: 'requests' must be a non-empty list")
        null = _first_null(body)
        if (
            null is not None
        ):  # Google reads null as "not set"; a stricter server refuses it, so the product never sends it
            raise BadRequest(f"Invalid JSON payload: null at {null}")
        unknown = set(body) - {"requests", "includeSpreadsheetInResponse", "responseRanges", "responseIncludeGridData"}
        if unknown:
            raise BadRequest(f"Unknown fields in batchUpdate body: {sorted(unknown)}")
        # Atomic, as Google's batchUpdate is: validate and apply on a copy, keep it only if every request succeeds.
        staged = copy.deepcopy(book)
        replies: list[dict[str, Any]] = []
        for number, request in enumerate(body["requests"]):
            if not isinstance(request, dict) or len(request) != 1:
                raise BadRequest(f"Invalid requests[{number}]: exactly one kind of request is allowed")
            ((kind, payload),) = request.items()
            if kind == "updateCells":
                self._update_cells(staged, payload, number)
            elif kind == "appendDimension":
                self._append_dimension(staged, payload, number)
            elif kind == "updateDimensionProperties":
                self._update_dimension(staged, payload, number)
            elif kind == "addSheet":
                replies.append(self._add_sheet(staged, payload, number))
                continue
            else:
                raise BadRequest(f"Invalid requests[{number}]: {kind} is not supported by this fake")
            replies.append({})
        book.clear()
        book.update(staged)
        if self.minimal:
            return {}
        return {"spreadsheetId": key, "replies": replies}

    @staticmethod
    def _sheet_by_id(book: dict[str, Any], sheet_id: Any, number: int) -> FakeSheet:
        for sheet in book["sheets"]:
            if sheet.sheet_id == (sheet_id or 0):
                return sheet
        raise BadRequest(f"Invalid requests[{number}]: No grid with id: {sheet_id}")

    @staticmethod
    def _add_sheet(book: dict[str, Any], payload: dict[str, Any], number: int) -> dict[str, Any]:
        """addSheet as Google does it: a unique title (case-insensitive), an optional caller-chosen unique sheetId,
        a 1000 x 26 grid unless gridProperties say otherwise; the new tab goes last unless an index is given."""
        where = f"requests[{number}].addSheet"
        if set(payload) - {"properties"}:
            raise BadRequest(f"Invalid {where}: unknown fields")
        props = payload.get("properties", {})
        if set(props) - {"sheetId", "title", "index", "gridProperties"}:
            raise BadRequest(f"Invalid {where}.properties: unknown or unsupported fields")
        grid = props.get("gridProperties", {})
        if set(grid) - {"rowCount", "columnCount", "frozenRowCount", "frozenColumnCount"}:
            raise BadRequest(f"Invalid {where}.properties.gridProperties: unknown fields")
        title = props.get("title") or f"Sheet{len(book['sheets']) + 1}"
        if any(s.title.casefold() == str(title).casefold() for s in book["sheets"]):
            raise BadRequest(
                f'Invalid {where}: A sheet with the name "{title}" already exists. Please enter another name.'
            )
        taken = {s.sheet_id for s in book["sheets"]}
        sheet_id = props.get("sheetId")
        if sheet_id is None:
            sheet_id = max(taken, default=0) + 1
        elif not isinstance(sheet_id, int) or sheet_id < 0 or sheet_id in taken:
            raise BadRequest(f"Invalid {where}: sheetId {sheet_id!r} is invalid or already in use")
        sheet = FakeSheet(
            sheet_id=sheet_id,
            title=str(title),
            row_count=int(grid.get("rowCount", 1000)),
            column_count=int(grid.get("columnCount", 26)),
        )
        index = props.get("index")
        if isinstance(index, int) and 0 <= index <= len(book["sheets"]):
            book["sheets"].insert(index, sheet)
        else:
            book["sheets"].append(sheet)
        return {"addSheet": {"properties": {"sheetId": sheet_id, "title": sheet.title}}}

    def _append_dimension(self, book: dict[str, Any], payload: dict[str, Any], number: int) -> None:
        if set(payload) - {"sheetId", "dimension", "length"}:
            raise BadRequest(f"Invalid requests[{number}].appendDimension: unknown fields")
        sheet = self._sheet_by_id(book, payload.get("sheetId"), number)
        length = payload.get("length")
        if not isinstance(length, int) or length <= 0:
            raise BadRequest(f"Invalid requests[{number}].appendDimension: length must be positive")
        if payload.get("dimension") == "COLUMNS":
            sheet.column_count += length
        elif payload.get("dimension") == "ROWS":
            sheet.row_count += length
        else:
            raise BadRequest(f"Invalid requests[{number}].appendDimension: dimension must be ROWS or COLUMNS")

    def _update_dimension(self, book: dict[str, Any], payload: dict[str, Any], number: int) -> None:
        """updateDimensionProperties for column widths only (pixelSize), as the product sends it."""
        where = f"requests[{number}].updateDimensionProperties"
        if set(payload) != {"range", "properties", "fields"} or payload["fields"] != "pixelSize":
            raise BadRequest(f"Invalid {where}: only range, properties and fields='pixelSize' are supported")
        grid = payload["range"]
        sheet = self._sheet_by_id(book, grid.get("sheetId"), number)
        if grid.get("dimension") != "COLUMNS":
            raise BadRequest(f"Invalid {where}: only COLUMNS are supported by this fake")
        start, end = int(grid.get("startIndex", 0)), int(grid.get("endIndex", sheet.column_count))
        size = payload["properties"].get("pixelSize")
        if not (0 <= start < end <= sheet.column_count) or not isinstance(size, int) or size <= 0:
            raise BadRequest(f"Invalid {where}: range exceeds grid limits or pixelSize is not a positive integer")
        for column in range(start, end):
            sheet.column_pixels[column] = size

    def _update_cells(self, book: dict[str, Any], payload: dict[str, Any], number: int) -> None:
        where = f"requests[{number}].updateCells"
        if set(payload) - {"start", "range", "rows", "fields"}:
            raise BadRequest(f"Invalid {where}: unknown fields {sorted(set(payload) - {'start', 'rows', 'fields'})}")
        if ("start" in payload) == ("range" in payload):
            raise BadRequest(f"Invalid {where}: exactly one of start or range")
        fields_text = payload.get("fields")
        if not isinstance(fields_text, str) or not fields_text:
            raise BadRequest(f"Invalid {where}: fields is required")
        fields = [f.strip() for f in fields_text.split(",")]
        for f in fields:
            if f not in _UPDATE_FIELDS:
                raise BadRequest(f"Invalid {where}: field {f!r} is not supported by this fake")
        rows = payload.get("rows")
        if not isinstance(rows, list) or not rows:
            raise BadRequest(f"Invalid {where}: rows must be a non-empty list")
        for r, row in enumerate(rows):
            if not isinstance(row, dict) or set(row) - {"values"} or not isinstance(row.get("values", []), list):
                raise BadRequest(f"Invalid {where}.rows[{r}]: a RowData is {{values: [CellData]}}")
        if "start" in payload:
            start = payload["start"]
            sheet = self._sheet_by_id(book, start.get("sheetId"), number)
            row0, col0 = int(start.get("rowIndex", 0)), int(start.get("columnIndex", 0))
        else:
            grid = payload["range"]
            sheet = self._sheet_by_id(book, grid.get("sheetId"), number)
            row0, col0 = int(grid.get("startRowIndex", 0)), int(grid.get("startColumnIndex", 0))
            height = int(grid.get("endRowIndex", sheet.row_count)) - row0
            width = int(grid.get("endColumnIndex", sheet.column_count)) - col0
            # Google clears the masked fields of range cells the rows do not cover; the product always covers its
            # range exactly, so anything else here is a bug worth failing on.
            if len(rows) != height or any(len(r.get("values", [])) != width for r in rows):
                raise BadRequest(f"Invalid {where}: rows do not exactly cover the range")
        for r, row in enumerate(rows):
            for c, cell in enumerate(row.get("values", [])):
                row_index, col_index = row0 + r, col0 + c
                if self.minimal:  # a server that keeps no grid size grows to fit
                    sheet.row_count = max(sheet.row_count, row_index + 1)
                    sheet.column_count = max(sheet.column_count, col_index + 1)
                if row_index >= sheet.row_count or col_index >= sheet.column_count:
                    raise BadRequest(
                        f"Invalid {where}: range ({row_index},{col_index}) exceeds grid limits "
                        f"(rows {sheet.row_count}, columns {sheet.column_count})"
                    )
                self._check_cell(cell, fields, f"{where}.rows[{r}].values[{c}]")
                self._merge_cell(sheet, (row_index, col_index), cell, fields)

    def _check_cell(self, cell: Any, fields: list[str], where: str) -> None:
        if not isinstance(cell, dict):
            raise BadRequest(f"Invalid {where}: a CellData object is required")
        extra = set(cell) - {"userEnteredValue", "userEnteredFormat", "note"}
        if extra:
            raise BadRequest(f"Invalid {where}: read-only or unknown fields {sorted(extra)}")
        value = cell.get("userEnteredValue")
        if value is not None:
            if not isinstance(value, dict) or len(value) != 1:
                raise BadRequest(f"Invalid {where}.userEnteredValue: exactly one kind of value")
            ((kind, inner),) = value.items()
            if kind == "formulaValue" and not self.allow_formulas:
                raise BadRequest(f"Invalid {where}: formulaValue refused (the product must never write formulas)")
            if kind == "stringValue" and not isinstance(inner, str):
                raise BadRequest(f"Invalid {where}: stringValue must be a string")
            if kind == "numberValue" and (isinstance(inner, bool) or not isinstance(inner, int | float)):
                raise BadRequest(f"Invalid {where}: numberValue must be a number")
            if kind == "boolValue" and not isinstance(inner, bool):
                raise BadRequest(f"Invalid {where}: boolValue must be a boolean")
            if kind not in {"stringValue", "numberValue", "boolValue", "formulaValue"}:
                raise BadRequest(f"Invalid {where}: unknown value kind {kind}")
        fmt = cell.get("userEnteredFormat", {})
        if not isinstance(fmt, dict) or set(fmt) - _CELL_FORMAT_KEYS:
            raise BadRequest(
                f"Invalid {where}.userEnteredFormat: unknown fields {sorted(set(fmt) - _CELL_FORMAT_KEYS)}"
            )
        number_format = fmt.get("numberFormat")
        if number_format is not None and (
            set(number_format) - {"type", "pattern"} or not isinstance(number_format.get("pattern", ""), str)
        ):
            raise BadRequest(f"Invalid {where}: a NumberFormat is {{type, pattern}}")
        text_format = fmt.get("textFormat")
        if text_format is not None and (
            set(text_format) - _TEXT_FORMAT_KEYS or not isinstance(text_format.get("bold", False), bool)
        ):
            raise BadRequest(f"Invalid {where}: unknown textFormat fields")
        if number_format is not None and number_format.get("type") not in {
            "TEXT",
            "NUMBER",
            "PERCENT",
            "CURRENCY",
            "DATE",
            "TIME",
            "DATE_TIME",
            "SCIENTIFIC",
        }:
            raise BadRequest(f"Invalid {where}: numberFormat.type {number_format.get('type')!r}")
        colour = fmt.get("backgroundColor")
        if colour is not None and (
            set(colour) - {"red", "green", "blue", "alpha"}
            or not all(
                isinstance(colour.get(k, 0), int | float) and 0 <= colour.get(k, 0) <= 1
                for k in ("red", "green", "blue")
            )
        ):
            raise BadRequest(f"Invalid {where}: a Color is {{red, green, blue}} with components between 0 and 1")
        # Data the mask does not cover would be silently ignored by Google; here it is an error, to catch mistakes.
        for top, sub in (("userEnteredValue", None), ("note", None)):
            if top in cell and top not in fields:
                raise BadRequest(f"Invalid {where}: {top} is outside the fields mask")
            del sub
        for name in fmt:
            if (
                "userEnteredFormat" not in fields
                and f"userEnteredFormat.{name}" not in fields
                and not any(f.startswith(f"userEnteredFormat.{name}.") for f in fields)
            ):
                raise BadRequest(f"Invalid {where}: userEnteredFormat.{name} is outside the fields mask")

    @staticmethod
    def _merge_cell(sheet: FakeSheet, at: tuple[int, int], new: dict[str, Any], fields: list[str]) -> None:
        cell = copy.deepcopy(sheet.cells.get(at, {}))
        for path in fields:
            parts = path.split(".")
            source: Any = new
            for part in parts:
                source = source.get(part) if isinstance(source, dict) else None
            target = cell
            for part in parts[:-1]:
                target = target.setdefault(part, {})
            if source is None:
                target.pop(parts[-1], None)
            else:
                target[parts[-1]] = copy.deepcopy(source)
        value = cell.get("userEnteredValue")
        if value is None:
            cell.pop("effectiveValue", None)
        elif "formulaValue" in value:
            cell["effectiveValue"] = {"errorValue": {"type": "ERROR", "message": "not evaluated by the fake"}}
        else:
            cell["effectiveValue"] = copy.deepcopy(value)
        if "userEnteredFormat" in cell:  # a cleared bold leaves {"textFormat": {}}: Google keeps no empty format
            fmt = {k: v for k, v in cell["userEnteredFormat"].items() if v not in ({}, None)}
            if fmt:
                cell["userEnteredFormat"] = fmt
            else:
                del cell["userEnteredFormat"]
        if cell:
            sheet.cells[at] = cell
        else:
            sheet.cells.pop(at, None)


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class FakeSheetsServer(FakeSpreadsheets):
    """The fake on 127.0.0.1 and a free port, served from a thread (many requests at once, as Google does)."""

    def __init__(
        self,
        *,
        allow_formulas: bool = False,
        ignore_fields: bool = False,
        ignore_ranges: bool = False,
        no_grid_data: bool = False,
        minimal: bool = False,
    ) -> None:
        super().__init__(
            allow_formulas=allow_formulas,
            ignore_fields=ignore_fields,
            ignore_ranges=ignore_ranges,
            no_grid_data=no_grid_data,
            minimal=minimal,
        )
        self.faults: list[Fault] = []
        self.log: list[RequestRecord] = []
        self.hooks: dict[int, list[Callable[[], None]]] = {}
        self.issue_tokens = True  # False: the /token endpoint refuses, as Google does for a revoked key
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_QuietHandler)
        self.port: int = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def host(self) -> str:
        """What SHEETS_EMULATOR_HOST should hold."""
        return f"127.0.0.1:{self.port}"

    @property
    def request_count(self) -> int:
        return len(self.log)

    def after_request(self, number: int, hook: Callable[[], None]) -> None:
        """Run `hook` right after the `number`-th request (1-based, counting faulted ones) has been answered."""
        self.hooks.setdefault(number, []).append(hook)

    def reset_log(self) -> None:
        with self.lock:
            self.log.clear()
            self.hooks.clear()

    def start(self) -> FakeSheetsServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeSheetsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- HTTP --

    def _take_fault(self, kind: str) -> Fault | None:
        with self.lock:
            for index, fault in enumerate(self.faults):
                if fault.kind in (None, kind):
                    return self.faults.pop(index)
        return None

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        response = self._handle(request)
        return response(environ, start_response)

    def _handle(self, request: Request) -> Response:
        path = unquote(request.path)
        args = {k: request.args.getlist(k) for k in request.args}
        raw = request.get_data()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        record = RequestRecord(request.method, path, args, body, authorization=request.headers.get("Authorization"))
        with self.lock:
            self.log.append(record)
            number = len(self.log)
        kind = "batchUpdate" if path.endswith(":batchUpdate") else "get" if request.method == "GET" else "other"
        response = self._serve(request.method, path, args, body, kind)
        record.status = response.status_code
        for hook in self.hooks.pop(number, []):
            hook()
        return response

    def _serve(self, method: str, path: str, args: dict[str, list[str]], body: Any, kind: str) -> Response:
        fault = self._take_fault(kind)
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.status is not None:
                headers = {}
                if fault.retry_after is not None:
                    headers["Retry-After"] = f"{fault.retry_after:g}"
                if fault.json_body:
                    status_name = {429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}.get(
                        fault.status, "UNKNOWN"
                    )
                    payload = {"error": {"code": fault.status, "message": "Injected fault", "status": status_name}}
                    return Response(json.dumps(payload), fault.status, headers, content_type="application/json")
                return Response("Too many requests\n", fault.status, headers, content_type="text/plain")
        if path == "/token" and method == "POST":
            # A stand-in for Google's OAuth token endpoint, for credentials whose token_uri points here.
            if not self.issue_tokens:
                return _json_status(400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
            return _json({"access_token": "fake-token", "expires_in": 3600, "token_type": "Bearer"})
        try:
            with self.lock:
                values = re.fullmatch(r"/v4/spreadsheets/([^/:]+)/values:batchGet", path)
                if values and method == "GET":
                    return _json(self.values_batch_get(values.group(1), args))
                match = re.fullmatch(r"/v4/spreadsheets/([^/:]+)(:batchUpdate)?", path)
                if not match:
                    raise BadRequest(f"{method} {path} is not supported by this fake (only get and batchUpdate)")
                key = match.group(1)
                if method == "GET" and not match.group(2):
                    return _json(self.get(key, args))
                if method == "POST" and match.group(2):
                    return _json(self.batch_update(key, body))
                raise BadRequest(f"{method} {path} is not supported by this fake")
        except BadRequest as err:
            return _error(400, "INVALID_ARGUMENT", str(err))
        except LookupError:
            return _error(404, "NOT_FOUND", "Requested entity was not found.")


def _json_status(code: int, payload: Any) -> Response:
    return Response(json.dumps(payload), code, content_type="application/json; charset=UTF-8")


def _json(payload: Any) -> Response:
    return Response(json.dumps(payload), 200, content_type="application/json; charset=UTF-8")


def _error(code: int, status: str, message: str) -> Response:
    payload = {"error": {"code": code, "message": message, "status": status}}
    return Response(json.dumps(payload), code, content_type="application/json; charset=UTF-8")


# ---- made-up registers, for the parity tests and the benchmark ----

REGISTER_HEADERS = [
    "Pupil name",
    "UPN",
    "D.O.B.",
    "Year",
    "EHCP issued",
    "Last annual review",
    "LA decision date",
    "Outcome",
    "Next review meeting",
    "Home LA",
    "Status",
    "LAC",
    "Notes",
]


def made_up_upn(serial: int) -> str:
    """A DfE-format UPN with a correct check letter (weights 2..13 on characters 2..13, mod 23)."""
    body = f"80120{serial:07d}"
    total = sum(int(ch) * weight for weight, ch in zip(range(2, 14), body, strict=True))
    return "ABCDEFGHJKLMNPQRTUVWXYZ"[total % 23] + body


def made_up_register(pupils: int, today: date, *, seed: int = 7) -> list[list[Any]]:
    """A register laid out the way SENDCos keep them: a title, a blank row, then the table (row 3 is the header),
    with real dates, UK text dates, Y-prefixed years, a few inactive and invalid rows and formula-like text."""
    import random
    from datetime import timedelta

    rng = random.Random(seed)
    rows: list[list[Any]] = [["Trust EHCP register (made-up pupils)"], [], list(REGISTER_HEADERS)]
    for i in range(pupils):
        year = rng.randint(1, 13)
        age = year + 5
        dob = date(today.year - age - (1 if today.month < 9 else 0), rng.randint(1, 12), rng.randint(1, 28))
        issued = today - timedelta(days=rng.randint(200, 2500))
        last: Any = today - timedelta(days=rng.randint(5, 420)) if rng.random() < 0.85 else None
        decision: Any = None
        if isinstance(last, date) and rng.random() < 0.5:
            decision = last + timedelta(days=rng.randint(5, 40))
            if decision > today:
                decision = None
        if isinstance(last, date) and rng.random() < 0.2:
            last = last.strftime("%d/%m/%Y")  # typed as text, UK day first
        planned: Any = today + timedelta(days=rng.randint(5, 90)) if rng.random() < 0.3 else None
        notes: Any = rng.choice([None, "", "Needs SALT report", '=HYPERLINK("http://x","y")', "+44 7700 900123"])
        name: Any = f"Pupil{i} Surname{i}"
        if i % 97 == 13:
            name = None  # a row with data but no name: an error row
        rows.append(
            [
                name,
                made_up_upn(i + 1) if rng.random() < 0.9 else None,
                dob,
                f"Y{year}" if rng.random() < 0.5 else year,
                issued,
                last,
                decision,
                rng.choice(["Maintain", "Amend"]) if decision else None,
                planned,
                rng.choice(["Northshire", "Westborough", "Eastfield"]),
                "Left" if rng.random() < 0.03 else "On roll",
                rng.random() < 0.1,
                notes,
            ]
        )
    return rows
